"""The attendance rules, as pure functions: no I/O, no clock (`now` comes in the commands)."""
