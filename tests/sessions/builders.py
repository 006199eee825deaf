"""Small builders for the sessions tests: times in London, term dates, leaders."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from passhub_sessions.domain.availability import Availability, Slot, Weekday
from passhub_sessions.domain.rota import Appointment
from passhub_sessions.domain.terms import TermDates
from passhub_sessions.settings import PACKAGED_TERM_DATES

LONDON = ZoneInfo("Europe/London")
SCHEME = "2026-27-PHYS"


def at(day: str, clock: str) -> datetime:
    """`at("2026-10-06", "14:00")`: a London time."""
    return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=LONDON)


def terms_2026() -> TermDates:
    return TermDates.model_validate_json((PACKAGED_TERM_DATES / "2026-27.json").read_text())


def slot(weekday: Weekday, starts: str, ends: str, semester: int | None = None) -> Slot:
    return Slot(
        weekday=weekday,
        starts=time.fromisoformat(starts),
        ends=time.fromisoformat(ends),
        semester=semester,
    )


def available(*slots: Slot, except_on: tuple[date, ...] = ()) -> Availability:
    return Availability(slots=slots, unavailable_dates=frozenset(except_on))


ALL_WEEK = available(
    *(slot(d, "08:00", "20:00") for d in ("monday", "tuesday", "wednesday", "thursday", "friday"))
)


def leader(number: str, **kwargs: object) -> Appointment:
    values: dict[str, object] = {"appointed_on": date(2026, 9, 1), **kwargs}
    return Appointment(student_number=number, **values)  # type: ignore[arg-type]
