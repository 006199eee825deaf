"""Contracts published by the attendance service (`passhub.attendance.*`).

`student_signed_in` is the contract systems outside passhub (learner analytics) subscribe to.
`student_number` is the institution's student number, a pseudonymous identifier: no names are
published.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from passhub_shared.messages.events import Event
from passhub_shared.personaldata.personal import (
    OptionalPersonalText,
    OptionalStudentNumber,
    PersonalText,
    StudentNumber,
)

Method = Literal["qr", "kiosk", "leader", "import"]
AttendeeRole = Literal["student", "leader"]


class _Attendance(Event):
    service = "attendance"


class StudentSignedIn(_Attendance):
    event_name = "student_signed_in"
    session_id: str
    scheme_id: str
    modules: list[str] = Field(default_factory=list)
    student_number: StudentNumber
    signed_in_at: datetime
    method: Method
    #: why a coordinator or organiser added the attendance by hand (None otherwise: an
    #: ordinary sign-in carries nothing more to seal)
    reason: OptionalPersonalText = None


class LeaderSignedIn(_Attendance):
    event_name = "leader_signed_in"
    session_id: str
    scheme_id: str
    student_number: StudentNumber
    signed_in_at: datetime
    method: Method
    #: why a coordinator or organiser added the attendance by hand (None otherwise: an
    #: ordinary sign-in carries nothing more to seal)
    reason: OptionalPersonalText = None


class AttendanceRevoked(_Attendance):
    event_name = "attendance_revoked"
    session_id: str
    scheme_id: str
    student_number: StudentNumber
    role: AttendeeRole
    reason: PersonalText


class FeedbackSubmitted(_Attendance):
    event_name = "feedback_submitted"
    feedback_id: str
    session_id: str
    scheme_id: str
    student_number: OptionalStudentNumber  # None when submitted anonymously
    understanding: int = Field(ge=1, le=5)
    enjoyable: int = Field(ge=1, le=5)
    recommend: int = Field(ge=1, le=5)
    #: sealed under the student's key when named; an anonymous comment has no person to key
    comment: PersonalText = ""
