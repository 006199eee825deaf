"""Contracts published by the sessions service (`passhub.sessions.*`).

A scheme is identified by `scheme_id` (`<academic_year>-<code>`, e.g. `2026-27-PHYS`); the
`schemes` lists in recruitment's appointments carry the same ids.

A session is identified by its `session_id` (a UUID). People name it by its reference,
`<scheme code>-<YYYY-MM-DD>-<HH:MM>` with the date and start time in the institution's local
time (`PHYS-2026-10-05-14:00`): the sessions service shows it on every session, and a paper
sheet may use it instead of the id. Two sessions of a scheme starting at the same minute (two
rooms at once) share a reference; a sheet tells them apart by their room.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Literal

from pydantic import Field

from passhub_shared.messages.events import Event
from passhub_shared.personaldata.personal import PersonalText, StudentNumber, StudentNumbers

Mode = Literal["opt_in", "opt_out"]


class _Sessions(Event):
    service = "sessions"


class SchemeLaunched(_Sessions):
    event_name = "scheme_launched"
    scheme_id: str
    code: str
    title: str
    school: str
    academic_year: str
    modules: list[str] = Field(default_factory=list)
    mode: Mode = "opt_in"
    coordinator: str = ""
    #: student organisers' student numbers, each sealed under their own key
    organisers: StudentNumbers = Field(default_factory=list)
    min_leaders_per_session: int = 2


class SchemeAmended(_Sessions):
    """The coordinator changed who runs a scheme or how many leaders a session needs (the
    whole list of organisers, as it now stands)."""

    event_name = "scheme_amended"
    scheme_id: str
    coordinator: str
    organisers: StudentNumbers = Field(default_factory=list)
    min_leaders_per_session: int


class SessionScheduled(_Sessions):
    event_name = "session_scheduled"
    session_id: str
    scheme_id: str
    starts_at: datetime
    ends_at: datetime
    room: str
    capacity: int
    series_id: str | None = None
    teaching_week: str | None = None


class SessionRescheduled(_Sessions):
    event_name = "session_rescheduled"
    session_id: str
    scheme_id: str
    starts_at: datetime
    ends_at: datetime
    room: str
    capacity: int
    reason: str = ""
    #: the teaching week the session now falls in (`S1W3`), None outside the teaching weeks
    teaching_week: str | None = None


class SessionCancelled(_Sessions):
    event_name = "session_cancelled"
    session_id: str
    scheme_id: str
    reason: str


class LeaderRostered(_Sessions):
    event_name = "leader_rostered"
    session_id: str
    scheme_id: str
    student_number: StudentNumber


class LeaderUnrostered(_Sessions):
    event_name = "leader_unrostered"
    session_id: str
    scheme_id: str
    student_number: StudentNumber
    reason: PersonalText = ""


_REFERENCE = re.compile(
    r"^(?P<scheme>[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*)-"
    r"(?P<day>\d{4}-\d{2}-\d{2})-(?P<hour>\d{1,2})[:.h](?P<minute>\d{2})$"
)


def session_reference(code: str, starts_at: datetime, tz: tzinfo) -> str:
    """What people call a session: `PHYS-2026-10-05-14:00` (local date and start time)."""
    local = starts_at.astimezone(tz)
    return f"{code}-{local:%Y-%m-%d}-{local:%H:%M}"


@dataclass(frozen=True)
class SessionReference:
    """A parsed reference: the scheme (its code, or its id such as `2026-27-PHYS`) and the
    local start, to the minute (naive: read in the institution's time zone)."""

    scheme: str
    starts: datetime

    def __str__(self) -> str:
        return f"{self.scheme}-{self.starts:%Y-%m-%d}-{self.starts:%H:%M}"


def parse_session_reference(text: str) -> SessionReference | None:
    """The reference in `text` (case and `14.00`/`14h00` forgiven), or None when `text` is not
    one (it may be a session id)."""
    match = _REFERENCE.match(text.strip())
    if match is None:
        return None
    try:
        starts = datetime.fromisoformat(
            f"{match['day']}T{int(match['hour']):02d}:{match['minute']}"
        )
    except ValueError:
        return None
    return SessionReference(match["scheme"].upper(), starts)
