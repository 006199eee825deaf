"""Given/when/then: a leader's availability."""

from __future__ import annotations

from datetime import date

import pytest

from passhub_sessions.domain.events import AvailabilityStated
from passhub_sessions.domain.leader_availability import StateAvailability, availability_decider
from passhub_shared.web.errors import Rejected
from tests.sessions.builders import slot

STATE = StateAvailability(
    student_number="s100",
    academic_year="2026-27",
    slots=(slot("tuesday", "13:00", "17:00"), slot("monday", "09:00", "11:00", semester=1)),
    unavailable_dates=(date(2026, 11, 3),),
    stated_by="s100",
)


def test_stating_availability_orders_the_slots() -> None:
    [event] = availability_decider.given_when([], STATE)
    assert isinstance(event, AvailabilityStated)
    assert [s.weekday for s in event.slots] == ["monday", "tuesday"]


def test_stating_the_same_again_records_nothing() -> None:
    given = availability_decider.given_when([], STATE)
    assert availability_decider.given_when(given, STATE) == []
    changed = StateAvailability(**{**STATE.__dict__, "unavailable_dates": ()})
    assert len(availability_decider.given_when(given, changed)) == 1


def test_a_bad_year_is_rejected() -> None:
    with pytest.raises(Rejected):
        availability_decider.given_when(
            [], StateAvailability(**{**STATE.__dict__, "academic_year": "26-27"})
        )
