"""Events kept inside the recognition service (not published): policy versions and the mentor
meetings and admin hours recorded here. The published ones are in
`passhub_shared.contracts.recognition`."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from passhub_recognition.domain.policy import Policy
from passhub_shared.messages.events import Event
from passhub_shared.personaldata.personal import PersonalText, StudentNumber

ActivityKind = Literal["mentor_meeting", "admin"]


class _Internal(Event):
    service = "recognition"
    public = False


class PolicySet(_Internal):
    """A new version of an academic year's recognition policy."""

    event_name = "policy_set"
    academic_year: str
    version: int
    policy: Policy


class ActivityRecorded(_Internal):
    """A mentor meeting attended, or admin hours worked, by a leader."""

    event_name = "activity_recorded"
    activity_id: str
    academic_year: str
    student_number: StudentNumber
    kind: ActivityKind
    held_on: date
    hours: float = Field(ge=0)
    note: PersonalText = ""


class ActivityStruck(_Internal):
    """A recorded activity found to be wrong; it no longer counts."""

    event_name = "activity_struck"
    activity_id: str
    academic_year: str
    student_number: StudentNumber
    reason: PersonalText
