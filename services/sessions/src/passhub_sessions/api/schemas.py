"""Request and response models of the sessions API: every route declares its response model.

Times in answers are ISO 8601 strings in the institution's time zone (`local_iso`), written
with `datetime.isoformat`, so a UTC offset reads `+00:00` as it always has.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from passhub_sessions.domain.availability import WEEKDAYS, Slot, Weekday
from passhub_sessions.domain.rota import Spread
from passhub_sessions.domain.scheme import code_of
from passhub_sessions.domain.terms import Semester, TermDates
from passhub_shared.contracts.sessions import Mode, session_reference

Row = dict[str, Any]


def local_iso(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).isoformat()


def time_text(value: time) -> str:
    return value.strftime("%H:%M")


def _absent(value: object) -> bool:
    return value is None


def omitted_when_absent() -> Any:
    """A field left out of the answer when it is None (not written as null): a part of an
    answer only some callers, or some routes, get."""
    return Field(default=None, exclude_if=_absent)


# --- schemes ---------------------------------------------------------------------------------


class LaunchSchemeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=24, examples=["PHYS"])
    title: str = Field(min_length=1, max_length=200, examples=["Physics PASS"])
    school: str = Field(min_length=1, max_length=200, examples=["Physics and Astronomy"])
    academic_year: str = Field(examples=["2026-27"])
    modules: list[str] = Field(default_factory=list, max_length=50)
    mode: Mode = "opt_in"
    #: defaults to the caller
    coordinator: str | None = None
    organisers: list[str] = Field(default_factory=list, max_length=20)
    #: defaults to PASSHUB_SESSIONS_DEFAULT_MIN_LEADERS_PER_SESSION (2)
    min_leaders_per_session: int | None = None


class AmendSchemeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    coordinator: str | None = None
    organisers: list[str] | None = Field(default=None, max_length=20)
    min_leaders_per_session: int | None = None


class SchemeOut(BaseModel):
    scheme_id: str
    code: str
    title: str
    school: str
    academic_year: str
    modules: list[str]
    mode: Mode
    coordinator: str
    organisers: list[str]
    min_leaders_per_session: int

    @classmethod
    def of(cls, row: Row) -> SchemeOut:
        return cls.model_validate({name: row[name] for name in cls.model_fields})


class SchemeLeaderOut(BaseModel):
    student_number: str
    name: str | None
    #: for coordinators, organisers and integrations only
    email: str | None
    leader: bool
    organiser: bool
    appointed_on: str
    stood_down_from: str | None
    availability_stated: bool


class TeachingWeekOut(BaseModel):
    label: str
    semester: int
    number: int
    monday: str


class TermDatesOut(BaseModel):
    academic_year: str
    timezone: str
    semesters: list[Semester]
    teaching_weeks: list[TeachingWeekOut]

    @classmethod
    def of(cls, terms: TermDates, timezone: str) -> TermDatesOut:
        return cls(
            academic_year=terms.academic_year,
            timezone=timezone,
            semesters=terms.semesters,
            teaching_weeks=[
                TeachingWeekOut(
                    label=w.label, semester=w.semester, number=w.number, monday=w.monday.isoformat()
                )
                for w in terms.teaching_weeks()
            ],
        )


# --- sessions --------------------------------------------------------------------------------


class ScheduleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: ISO 8601; without an offset it is the institution's local time
    starts_at: datetime
    ends_at: datetime
    room: str = Field(min_length=1, max_length=80)
    capacity: int = Field(ge=1, le=2000)


class SeriesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weekday: Weekday
    #: local times
    starts: time
    ends: time
    room: str = Field(min_length=1, max_length=80)
    capacity: int = Field(ge=1, le=2000)
    semesters: list[int] = Field(default_factory=lambda: [1, 2], min_length=1, max_length=3)
    #: teaching weeks to leave out, e.g. ["S1W1"]
    skip_weeks: list[str] = Field(default_factory=list, max_length=40)
    #: every N weeks
    interval: int = Field(default=1, ge=1, le=4)


class RescheduleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: check the change and answer what it would do, saving nothing
    dry_run: bool = False
    starts_at: datetime | None = None
    #: defaults to keeping the session's length
    ends_at: datetime | None = None
    room: str | None = Field(default=None, min_length=1, max_length=80)
    capacity: int | None = Field(default=None, ge=1, le=2000)
    reason: str = Field(default="", max_length=500)


class MoveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: check the change and answer what it would do, saving nothing
    dry_run: bool = False
    room: str = Field(min_length=1, max_length=80)
    capacity: int | None = Field(default=None, ge=1, le=2000)
    reason: str = Field(default="", max_length=500)


class CancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)
    #: check the cancellation and answer what it would do, saving nothing
    dry_run: bool = False


class RosterBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    student_number: str = Field(min_length=1, max_length=40)


class UnrosterBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="", max_length=500)


class SwapBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    out: str = Field(min_length=1, max_length=40)
    incoming: str = Field(min_length=1, max_length=40)
    reason: str = Field(default="", max_length=500)


class LeaderOut(BaseModel):
    student_number: str
    name: str | None


class SessionOut(BaseModel):
    session_id: str
    #: what people call it: `PHYS-2026-10-06-14:00` (local date and start)
    reference: str
    scheme_id: str
    series_id: str | None
    teaching_week: str | None
    starts_at: str
    ends_at: str
    room: str
    capacity: int
    status: Literal["scheduled", "cancelled"]
    cancel_reason: str | None
    sequence: int
    #: who is rostered on it: for coordinators, organisers, leaders and integrations only
    #: (left out for the others)
    leaders: list[LeaderOut] | None = omitted_when_absent()

    @classmethod
    def fields_of(cls, row: Row, tz: ZoneInfo, leaders: Sequence[Row] | None = None) -> Row:
        fields: Row = {
            "session_id": row["session_id"],
            "reference": session_reference(code_of(row["scheme_id"]), row["starts_at"], tz),
            "scheme_id": row["scheme_id"],
            "series_id": row["series_id"],
            "teaching_week": row["teaching_week"],
            "starts_at": local_iso(row["starts_at"], tz),
            "ends_at": local_iso(row["ends_at"], tz),
            "room": row["room"],
            "capacity": row["capacity"],
            "status": "cancelled" if row["cancelled"] else "scheduled",
            "cancel_reason": row["cancel_reason"],
            "sequence": row["sequence"],
        }
        if leaders is not None:
            fields["leaders"] = [
                LeaderOut(student_number=r["student_number"], name=r.get("name")) for r in leaders
            ]
        return fields

    @classmethod
    def of(cls, row: Row, tz: ZoneInfo, leaders: Sequence[Row] | None = None) -> SessionOut:
        return cls(**cls.fields_of(row, tz, leaders))


class SeriesPlannedOut(BaseModel):
    series_id: str
    scheme_id: str
    #: the iCalendar recurrence (RRULE and EXDATE lines)
    rule: str
    sessions: list[SessionOut]


class SeriesOut(BaseModel):
    series_id: str
    rule: str
    weekday: Weekday
    starts: str
    ends: str
    timezone: str
    room: str
    capacity: int
    semesters: list[int]
    skip_weeks: list[str]
    #: how many sessions the series scheduled
    sessions: int

    @classmethod
    def of(cls, row: Row) -> SeriesOut:
        return cls(
            series_id=row["series_id"],
            rule=row["rule"],
            weekday=WEEKDAYS[row["weekday"]],
            starts=time_text(row["starts"]),
            ends=time_text(row["ends"]),
            timezone=row["timezone"],
            room=row["room"],
            capacity=row["capacity"],
            semesters=row["semesters"],
            skip_weeks=row["skip_weeks"],
            sessions=len(row["session_ids"]),
        )


class HistoryEntry(BaseModel):
    version: int
    event: str
    occurred_at: str
    actor: str | None
    data: dict[str, Any]


class CalendarChange(BaseModel):
    """What a change does to a rostered leader's calendar feed."""

    student_number: str
    name: str | None
    #: `moved` (the event changes time, room or capacity) or `cancelled` (it stays, marked
    #: cancelled, and frees the leader)
    change: Literal["moved", "cancelled"]


class Changed(BaseModel):
    #: false when the request changed nothing
    changed: bool
    #: true when nothing was saved (a preview)
    dry_run: bool
    session: SessionOut
    #: rostered leaders whose stated availability does not cover the new time
    leaders_not_available: list[str]
    #: every rostered leader's calendar feed shows the change (a calendar app replaces the
    #: event: its SEQUENCE goes up); empty when nothing changes
    calendar_changes: list[CalendarChange]


# --- the rota --------------------------------------------------------------------------------


class GenerateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: only this series (default: every session of the scheme)
    series_id: str | None = Field(default=None, max_length=64)
    #: fill sessions on or after this date (default: from now). Sessions that have already
    #: started are left as they are, and listed in `past_sessions_skipped`, unless `backfill`
    starting_from: date | None = Field(default=None, alias="from")
    #: also fill the sessions from `from` that have already started (it needs `from`), with the
    #: same rules: appointment and stand-down dates, stated availability, no double booking
    backfill: bool = False
    #: work out the rota and answer as if it were saved, but save nothing (a preview)
    dry_run: bool = False


class Assignment(BaseModel):
    session_id: str
    student_number: str


class ShortSession(BaseModel):
    """A session with fewer leaders than the scheme's minimum."""

    session_id: str
    starts_at: str
    teaching_week: str | None
    rostered: int
    needed: int


class ShortSessionNamed(BaseModel):
    session_id: str
    #: what people call it: `PHYS-2026-10-06-14:00` (local date and start)
    reference: str
    starts_at: str
    teaching_week: str | None
    rostered: int
    needed: int


class Shortfall(ShortSessionNamed):
    """A session the generator could not fill, and why."""

    reason: str


class Skipped(ShortSessionNamed):
    """A session of the request's range that was not filled, and why."""

    #: always `already_started` (the only reason a session of the range is skipped)
    reason: Literal["already_started"]


class SpreadOut(BaseModel):
    leaders: int
    min: int
    max: int
    mean: float
    per_leader: dict[str, int]

    @classmethod
    def of(cls, spread: Spread) -> SpreadOut:
        return cls(
            leaders=spread.leaders,
            min=spread.min,
            max=spread.max,
            mean=spread.mean,
            per_leader=dict(spread.per_leader),
        )


class RotaGenerated(BaseModel):
    scheme_id: str
    series_id: str | None
    #: true when the sessions from `from` that had already started were filled too
    backfill: bool
    #: true when nothing was saved (a preview)
    dry_run: bool = False
    #: sessions filled (or found full) by this request, past ones included when back-filling
    sessions_considered: int
    minimum_per_session: int
    rostered: list[Assignment]
    unfillable: list[Shortfall]
    #: sessions from `from` that had already started, left as they are (send `backfill: true`
    #: to fill them); empty when `from` is not in the past or when back-filling
    past_sessions_skipped: list[Skipped]
    #: what was skipped and why, in a sentence (None when nothing was)
    note: str | None
    leaders_without_availability: list[str]
    spread: SpreadOut


class RotaView(BaseModel):
    scheme_id: str
    minimum_per_session: int
    sessions: list[SessionOut]
    short: list[ShortSession]
    spread: SpreadOut


class ProblemOut(BaseModel):
    #: not_appointed, not_yet_appointed, stood_down, no_availability, unavailable or clash
    kind: str
    message: str
    #: for a clash, the leader's other session
    clash_session_id: str | None = None


class CandidateOut(BaseModel):
    student_number: str
    name: str | None
    #: on the session now
    rostered: bool
    #: may be put on it (rostered or not, no problem)
    free: bool
    problem: ProblemOut | None
    #: uncancelled sessions of the scheme the leader is rostered on
    load: int


class Candidates(BaseModel):
    session_id: str
    reference: str
    needed: int
    rostered: int
    short: bool
    #: why the session is short, in the generator's words ("of 3 other appointed leaders: 2
    #: not available then, 1 already booked then"); null when it is not short
    why_short: str | None
    candidates: list[CandidateOut]


# --- availability and a leader's sessions ----------------------------------------------------


class AvailabilityBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: weekly windows in local time, e.g. {"weekday": "tuesday", "starts": "13:00", "ends": "17:00"}
    slots: list[Slot] = Field(max_length=60)
    #: dates the leader cannot do whatever the weekday (exams, placements)
    unavailable_dates: list[date] = Field(default_factory=list, max_length=200)


class AvailabilityOut(BaseModel):
    student_number: str
    academic_year: str
    slots: list[Slot]
    unavailable_dates: list[str]
    stated_by: str
    stated_at: str


class AvailabilityStatedOut(AvailabilityOut):
    #: false when the leader's availability was already exactly this
    changed: bool


class LeaderSessionOut(SessionOut):
    scheme_title: str | None
    #: false for a session the leader was taken off
    rostered: bool
    unrostered_reason: str | None


# --- swaps -----------------------------------------------------------------------------------


class SwapRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: the leader asked to take the session
    incoming: str = Field(min_length=1, max_length=40)
    reason: str = Field(default="", max_length=500)


class SwapOut(BaseModel):
    """A swap request; in a leader's list of swaps, with its session's time, room and scheme."""

    swap_id: str
    session_id: str
    scheme_id: str
    out: str
    incoming: str
    reason: str
    status: str
    requested_at: str
    answered_at: str | None
    starts_at: str | None = omitted_when_absent()
    ends_at: str | None = omitted_when_absent()
    room: str | None = omitted_when_absent()
    cancelled: bool | None = omitted_when_absent()
    scheme_title: str | None = omitted_when_absent()

    @classmethod
    def of(cls, row: Row, tz: ZoneInfo) -> SwapOut:
        fields: Row = {
            "swap_id": row["swap_id"],
            "session_id": row["session_id"],
            "scheme_id": row["scheme_id"],
            "out": row["out_number"],
            "incoming": row["incoming_number"],
            "reason": row["reason"],
            "status": row["status"],
            "requested_at": local_iso(row["requested_at"], tz),
            "answered_at": local_iso(row["answered_at"], tz) if row["answered_at"] else None,
        }
        if "starts_at" in row:
            fields |= {
                "starts_at": local_iso(row["starts_at"], tz),
                "ends_at": local_iso(row["ends_at"], tz),
                "room": row["room"],
                "cancelled": row["cancelled"],
                "scheme_title": row["scheme_title"],
            }
        return cls(**fields)


# --- feeds -----------------------------------------------------------------------------------


class FeedLink(BaseModel):
    #: the feed's address with its signed `?token=`, to subscribe to in a calendar app
    url: str
    token: str
