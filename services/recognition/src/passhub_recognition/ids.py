"""Fresh identities, made at the edge (entrypoints) and handed to the pure domain."""

from __future__ import annotations

import secrets

from passhub_recognition.domain.codes import ALPHABET, LENGTH, display
from passhub_shared.events import new_event_id


def new_id() -> str:
    return str(new_event_id())


def new_verification_code() -> str:
    """80 bits from the operating system's crypto RNG, e.g. `7KQ2-M9XD-A4TR-0HVZ`."""
    return display("".join(secrets.choice(ALPHABET) for _ in range(LENGTH)))
