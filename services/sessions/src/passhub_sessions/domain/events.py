"""Events kept inside the sessions service (not published: `public = False`).

The published ones are the contracts in `passhub_shared.contracts.sessions`.
"""

from __future__ import annotations

from datetime import date, time
from typing import Literal

from pydantic import BaseModel, Field

from passhub_sessions.domain.availability import Slot
from passhub_shared.contracts.sessions import SchemeAmended
from passhub_shared.messages.events import Event
from passhub_shared.personaldata.personal import PersonalText, StudentNumber

__all__ = [
    "AvailabilityStated",
    "SchemeAmended",
    "SeriesPlanned",
    "SwapAnswered",
    "SwapParty",
    "SwapRequested",
]


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


class SwapParty(BaseModel):
    """The leader asked to take a session over (sealed under their own key)."""

    student_number: StudentNumber


class SwapRequested(_Internal):
    """A rostered leader asked another leader of the scheme to take their place on a session
    (on the session's stream). Nothing changes on the rota until the other leader accepts."""

    event_name = "swap_requested"
    swap_id: str
    session_id: str
    scheme_id: str
    out: StudentNumber
    incoming: SwapParty
    reason: PersonalText = ""


class SwapAnswered(_Internal):
    """A swap request closed: accepted (followed on the stream by `leader_unrostered` and
    `leader_rostered`, which are what other services see), declined by the leader asked, or
    withdrawn by the one who asked."""

    event_name = "swap_answered"
    swap_id: str
    session_id: str
    scheme_id: str
    outcome: Literal["accepted", "declined", "withdrawn"]
