"""Events kept inside the sessions service (not published: `public = False`).

The published ones are the contracts in `passhub_shared.contracts.sessions`.
"""

from __future__ import annotations

from datetime import date, time

from pydantic import Field

from passhub_sessions.domain.availability import Slot
from passhub_shared.contracts.sessions import SchemeAmended
from passhub_shared.events import Event
from passhub_shared.personal import StudentNumber

__all__ = ["AvailabilityStated", "SchemeAmended", "SeriesPlanned"]


class _Internal(Event):
    service = "sessions"
    public = False


class SeriesPlanned(_Internal):
    """A weekly series was laid over the teaching weeks; its sessions are their own streams."""

    event_name = "series_planned"
    series_id: str
    scheme_id: str
    rule: str
    weekday: int
    starts: time
    ends: time
    timezone: str
    room: str
    capacity: int
    semesters: list[int]
    skip_weeks: list[str] = Field(default_factory=list)
    session_ids: list[str]


class AvailabilityStated(_Internal):
    """A leader's weekly availability for an academic year (replaces any earlier statement)."""

    event_name = "availability_stated"
    student_number: StudentNumber
    academic_year: str
    slots: list[Slot]
    unavailable_dates: list[date] = Field(default_factory=list)
    stated_by: str
