"""Request and response models of the attendance API (the evaluation and the annual report
have their own). Every route declares one of these as its response."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from passhub_attendance.domain.feedback import MAX_COMMENT
from passhub_shared.contracts.attendance import AttendeeRole, Method

# -- sign-in -----------------------------------------------------------------------------------


class QrSignIn(BaseModel):
    code: str | None = Field(
        default=None, min_length=1, max_length=500, description="the token in the QR code"
    )
    receipt: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="instead of the code: the scan receipt `POST .../scan-receipt` gave for it",
    )
    student_number: str | None = Field(
        default=None, description="optional; must be the caller's own student number"
    )


class Scanned(BaseModel):
    code: str = Field(min_length=1, max_length=500, description="the token in the QR code")


class StudentRef(BaseModel):
    student_number: str = Field(min_length=1, max_length=64)


class AddedByHand(StudentRef):
    #: why: required of a coordinator or organiser adding someone after the fact (kept on the
    #: event and in the audit trail); a rostered leader in the room may leave it out
    reason: str = Field(default="", max_length=1000)


class AttendanceOut(BaseModel):
    session_id: str
    scheme_id: str
    student_number: str
    role: AttendeeRole
    method: Method
    signed_in_at: datetime
    #: false when the person was already signed in (nothing new was recorded)
    created: bool


class ScanReceipt(BaseModel):
    session_id: str
    receipt: str
    expires_at: datetime


class QrCode(BaseModel):
    code: str
    #: the portal's sign-in page for the code
    url: str
    expires_at: datetime


# -- corrections -------------------------------------------------------------------------------


class Revocation(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class Revoked(BaseModel):
    """The `attendance_revoked` event recorded, and who revoked."""

    event_id: str
    revoked_by: str
    session_id: str
    scheme_id: str
    student_number: str
    role: AttendeeRole
    reason: str


# -- paper sheets ------------------------------------------------------------------------------


class ImportLine(BaseModel):
    session_id: str
    student_number: str
    role: AttendeeRole
    signed_in_at: str


class Imported(BaseModel):
    imported: int
    already_recorded: int
    sessions: list[str]
    #: with `dry_run` only: nothing was saved
    dry_run: bool | None = None
    #: with `dry_run` only: the sign-ins it would record (the first 2,000)
    lines: list[ImportLine] | None = None


# -- feedback ----------------------------------------------------------------------------------


class FeedbackIn(BaseModel):
    understanding: int = Field(ge=1, le=5, description="improved my understanding of the subject")
    enjoyable: int = Field(ge=1, le=5, description="an enjoyable learning experience")
    recommend: int = Field(ge=1, le=5, description="I would recommend PASS")
    comment: str = Field(default="", max_length=MAX_COMMENT)
    anonymous: bool = False


class FeedbackGiven(BaseModel):
    feedback_id: str
    anonymous: bool


class FeedbackSheet(BaseModel):
    feedback_id: str
    session_id: str
    scheme_id: str
    #: for coordinators only (and None for an anonymous sheet); left out for everyone else
    student_number: str | None = None
    understanding: int
    enjoyable: int
    recommend: int
    comment: str
    submitted_at: datetime


class ItemSummary(BaseModel):
    mean: float | None
    #: answers of 4 or 5
    agreed: int


class FeedbackSummary(BaseModel):
    responses: int
    understanding: ItemSummary
    enjoyable: ItemSummary
    recommend: ItemSummary


class SessionFeedback(BaseModel):
    session_id: str
    summary: FeedbackSummary
    feedback: list[FeedbackSheet]


class GivenSheet(BaseModel):
    feedback_id: str
    session_id: str
    scheme_id: str
    understanding: int
    enjoyable: int
    recommend: int
    comment: str
    submitted_at: datetime
    scheme_title: str | None
    starts_at: datetime | None
    room: str | None


class StudentFeedback(BaseModel):
    student_number: str
    feedback: list[GivenSheet]


# -- sessions ----------------------------------------------------------------------------------


class _SessionNamed(BaseModel):
    session_id: str
    #: what people and paper sheets name it by (`PHYS-2026-10-05-14:00`, local time)
    reference: str
    scheme_id: str
    scheme_title: str
    starts_at: datetime
    ends_at: datetime
    room: str


class SessionListed(_SessionNamed):
    cancelled: bool
    leaders: list[str]


class Headcount(BaseModel):
    session_id: str
    students: int
    leaders: int


class AttendanceRow(BaseModel):
    session_id: str
    student_number: str
    scheme_id: str
    role: AttendeeRole
    method: Method
    signed_in_at: datetime
    active: bool
    revoked_reason: str | None


class SessionAttendances(Headcount):
    attendances: list[AttendanceRow]


class AuditEntry(BaseModel):
    position: int
    event_id: str
    stream_id: str
    stream_version: int
    type: str
    data: dict[str, Any]
    occurred_at: datetime
    actor: str | None
    correlation_id: str | None
    causation_id: str | None


# -- people and schemes ------------------------------------------------------------------------


class HistoryRow(AttendanceRow):
    starts_at: datetime | None
    ends_at: datetime | None
    room: str | None


class StudentAttendance(BaseModel):
    student_number: str
    sessions_attended: int
    attendances: list[HistoryRow]


class SchemeSession(BaseModel):
    session_id: str
    starts_at: datetime
    room: str
    cancelled: bool
    students: int
    leaders: int


class StudentSessions(BaseModel):
    student_number: str
    sessions: int


class SchemeAttendance(BaseModel):
    scheme_id: str
    sessions: list[SchemeSession]
    students: list[StudentSessions]
    total_attendances: int
    distinct_students: int
    sessions_delivered: int


class DeliveredSession(BaseModel):
    session_id: str
    scheme_id: str
    signed_in_at: datetime
    starts_at: datetime
    room: str


class SessionsDelivered(BaseModel):
    student_number: str
    sessions_delivered: int
    by_scheme: dict[str, int]
    sessions: list[DeliveredSession]


# -- live headcounts ---------------------------------------------------------------------------


class LiveSession(_SessionNamed):
    capacity: int
    cancelled: bool
    #: `now` (under way), `next` (not started yet) or `ended`
    state: Literal["now", "next", "ended"]
    #: students signed in (not revoked)
    students: int
    #: leaders rostered on it
    rostered_leaders: list[str]
    #: leaders signed in to it (as leaders)
    leaders_signed_in: list[str]


class LivePage(BaseModel):
    at: datetime
    total: int
    offset: int
    limit: int
    sessions: list[LiveSession]


# -- engagement --------------------------------------------------------------------------------

EngagementKind = Literal["stopped", "lapsed"]
EngagementSort = Literal["student_number", "sessions", "last_attended", "missed"]


class Disengaged(BaseModel):
    student_number: str
    #: `stopped`: came to 1 to 3 sessions, then no more; `lapsed`: a regular (4 or more)
    #: who has not come since
    kind: EngagementKind
    sessions: int
    first_attended: datetime
    last_attended: datetime
    #: the scheme's sessions held since their last one
    missed: int


class EngagementPage(BaseModel):
    scheme_id: str
    at: datetime
    #: no attendance for at least this many weeks
    weeks: int
    total: int
    offset: int
    limit: int
    students: list[Disengaged]
