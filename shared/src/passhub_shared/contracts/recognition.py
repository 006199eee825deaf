"""Contracts published by the recognition service (`passhub.recognition.*`)."""

from __future__ import annotations

from typing import Literal

from passhub_shared.events import Event

AwardKind = Literal["certificate", "psa", "hear"]


class _Recognition(Event):
    service = "recognition"


class AwardGranted(_Recognition):
    event_name = "award_granted"
    award_id: str
    kind: AwardKind
    student_number: str
    academic_year: str
    role: str
    schemes: list[str]
    sessions_delivered: int
    hours: float
    policy_version: int
    verification_code: str


class AwardWithheld(_Recognition):
    event_name = "award_withheld"
    kind: AwardKind
    student_number: str
    academic_year: str
    unmet: list[str]
    policy_version: int


class AwardWithdrawn(_Recognition):
    event_name = "award_withdrawn"
    award_id: str
    kind: AwardKind
    student_number: str
    academic_year: str
    reason: str
