"""Contracts published by the sessions service (`passhub.sessions.*`).

A scheme is identified by `scheme_id` (`<academic_year>-<code>`, e.g. `2026-27-PHYS`); the
`schemes` lists in recruitment's appointments carry the same ids.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from passhub_shared.events import Event

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
    organisers: list[str] = Field(default_factory=list)
    min_leaders_per_session: int = 2


class SchemeAmended(_Sessions):
    """The coordinator changed who runs a scheme or how many leaders a session needs (the
    whole list of organisers, as it now stands)."""

    event_name = "scheme_amended"
    scheme_id: str
    coordinator: str
    organisers: list[str] = Field(default_factory=list)
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
    student_number: str


class LeaderUnrostered(_Sessions):
    event_name = "leader_unrostered"
    session_id: str
    scheme_id: str
    student_number: str
    reason: str = ""
