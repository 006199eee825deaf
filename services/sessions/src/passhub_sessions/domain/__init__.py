"""The sessions domain: pure rules, no I/O, no clock, no randomness.

- `terms`: teaching weeks from an academic year's term dates.
- `recurrence`: weekly series over those weeks (python-dateutil's rrule).
- `clashes`: bookings and overlaps (a room or a leader is never double-booked).
- `availability`: a leader's stated weekly availability and whether a session fits it.
- `scheme`, `session`, `leader_availability`: deciders (aggregates).
- `rota`: rota generation (greedy, least-loaded, deterministic).
"""
