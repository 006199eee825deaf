"""The recognition rules, pure: no I/O, no clock, no randomness (ids, codes and dates come in
with the commands)."""
