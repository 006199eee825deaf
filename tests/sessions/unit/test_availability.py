"""Given/when/then: a leader's availability."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from passhub_sessions.domain.events import AvailabilityStated
from passhub_sessions.domain.leader_availability import StateAvailability, availability_decider
from passhub_shared.errors import Rejected
from tests.sessions.builders import LONDON, at, available, slot

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


def test_a_slot_must_end_after_it_starts() -> None:
    with pytest.raises(ValidationError):
        slot("tuesday", "17:00", "13:00")


def test_a_session_fits_inside_one_slot_of_its_weekday_and_semester() -> None:
    a = available(
        slot("tuesday", "13:00", "17:00"),
        slot("monday", "09:00", "11:00", semester=2),
        except_on=(date(2026, 11, 3),),
    )
    assert a.allows(at("2026-10-06", "14:00"), at("2026-10-06", "15:00"), LONDON, 1)
    assert not a.allows(at("2026-10-06", "16:30"), at("2026-10-06", "17:30"), LONDON, 1)
    assert not a.allows(at("2026-11-03", "14:00"), at("2026-11-03", "15:00"), LONDON, 1)
    assert not a.allows(at("2026-10-05", "09:00"), at("2026-10-05", "10:00"), LONDON, 1)
    assert a.allows(at("2027-02-01", "09:00"), at("2027-02-01", "10:00"), LONDON, 2)
