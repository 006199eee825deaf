"""Weekly availability: slots, and whether a session fits them."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from tests.sessions.builders import LONDON, at, available, slot


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
