"""The recruitment rules: pure functions over events and commands (no I/O, no clock)."""
