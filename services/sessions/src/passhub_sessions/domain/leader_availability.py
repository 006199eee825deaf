"""Decider for a leader's availability in one academic year (`availability-<year>-<sn>`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from passhub_sessions.domain.availability import WEEKDAYS, Slot
from passhub_sessions.domain.events import AvailabilityStated
from passhub_sessions.domain.terms import check_academic_year
from passhub_shared.messages.events import Event
from passhub_shared.storage.decider import Decider
from passhub_shared.web.errors import Rejected

MAX_SLOTS = 60


def stream_id(academic_year: str, person: str) -> str:
    """A leader's availability; `person` is their pseudonym (their key id), never their student
    number: stream ids are not sealed."""
    return f"availability-{academic_year}-{person}"


@dataclass(frozen=True)
class StateAvailability:
    student_number: str
    academic_year: str
    slots: tuple[Slot, ...]
    unavailable_dates: tuple[date, ...]
    stated_by: str


@dataclass(frozen=True)
class Stated:
    slots: tuple[Slot, ...] = ()
    unavailable_dates: frozenset[date] = frozenset()
    stated: bool = False


def decide(command: StateAvailability, state: Stated) -> Sequence[Event]:
    try:
        check_academic_year(command.academic_year)
    except ValueError as exc:
        raise Rejected(str(exc), code="invalid_academic_year") from None
    if len(command.slots) > MAX_SLOTS:
        raise Rejected(f"at most {MAX_SLOTS} availability slots", code="too_many_slots")
    slots = tuple(sorted(set(command.slots), key=_slot_order))
    dates = tuple(sorted(set(command.unavailable_dates)))
    if state.stated and state.slots == slots and state.unavailable_dates == frozenset(dates):
        return []  # nothing changes
    return [
        AvailabilityStated(
            student_number=command.student_number,
            academic_year=command.academic_year,
            slots=list(slots),
            unavailable_dates=list(dates),
            stated_by=command.stated_by,
        )
    ]


def _slot_order(slot: Slot) -> tuple[int, str, str, int]:
    return (
        WEEKDAYS.index(slot.weekday),
        slot.starts.isoformat(),
        slot.ends.isoformat(),
        slot.semester or 0,
    )


def evolve(state: Stated, event: Event) -> Stated:
    if isinstance(event, AvailabilityStated):
        return Stated(tuple(event.slots), frozenset(event.unavailable_dates), True)
    return state


availability_decider = Decider[StateAvailability, Stated](
    initial=Stated, decide=decide, evolve=evolve
)
