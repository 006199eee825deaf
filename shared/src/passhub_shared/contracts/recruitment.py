"""Contracts published by the recruitment service (`passhub.recruitment.*`).

Marks are exact decimals: `CriterionOutcome.mark_used` travels as a JSON string (e.g. "59.99"),
never as a binary float, so a consumer sees the very mark the decision compared.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from passhub_shared.messages.events import Event
from passhub_shared.personaldata.personal import Personal, PersonalText, StudentNumber

Role = Literal["leader", "organiser"]
Importance = Literal["essential", "desirable"]
AssessedBy = Literal["application", "training_day", "other_means"]
#: how a machine-checkable criterion is checked against the imported student records
Check = Literal["enrolment", "exam_marks"]


class _Recruitment(Event):
    service = "recruitment"


class Criterion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str
    description: str
    importance: Importance
    assessed_by: list[AssessedBy]
    #: set on machine-checkable criteria: `enrolment` (undergraduate in a participating school),
    #: `exam_marks` (every relevant first/second-year mark >= `min_exam_mark`)
    check: Check | None = None


class CampaignOpened(_Recruitment):
    event_name = "campaign_opened"
    campaign_id: str
    academic_year: str
    leader_title: str
    participating_schools: list[str]
    criteria: list[Criterion]
    min_exam_mark: float = 60.0
    organiser_title: str | None = None
    #: core training hours a leader or organiser must complete before appointment
    core_training_hours: float | None = None
    #: last day applications are accepted (inclusive); None: until the campaign is closed
    closes_on: date | None = None


class ApplicationSubmitted(_Recruitment):
    event_name = "application_submitted"
    application_id: str
    campaign_id: str
    academic_year: str
    student_number: StudentNumber
    name: PersonalText
    email: PersonalText
    school: str
    role_sought: Role = "leader"
    preferred_schemes: list[str] = Field(default_factory=list)


class RecordOverride(BaseModel):
    """An assessor's explicit override of a criterion the student record decides (or holds
    pending by disagreeing with the application): who, when and why, and what the record
    said, kept beside the assessor's outcome."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    reason: PersonalText
    by: str
    at: datetime
    #: the record's outcome: met, not met, or None (pending: the record and the application
    #: disagree); with its evidence (e.g. "year 1: 59.99 (record)") and decisive mark
    record_met: bool | None
    record_evidence: PersonalText
    record_mark_used: Annotated[Decimal | None, Personal(None)] = None


class CriterionOutcome(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    code: str
    met: bool | None  # None: not yet assessed
    verified: bool
    evidence: PersonalText = ""
    assessed_by: str = "system"
    #: for `exam_marks`: the decisive (lowest relevant) mark the rule compared
    mark_used: Annotated[Decimal | None, Personal(None)] = None
    #: set when an assessor overrode what the student record decides: the override and the
    #: record's own outcome
    override: RecordOverride | None = None


class RecordMismatch(BaseModel):
    """Application data that disagrees with the student record; the criterion it bears on
    stays pending until an assessor records an outcome for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    field: str
    on_application: PersonalText
    on_record: PersonalText
    criterion: str


class ApplicationAssessed(_Recruitment):
    event_name = "application_assessed"
    application_id: str
    student_number: StudentNumber
    outcomes: list[CriterionOutcome]
    essentials_met: int
    essentials_total: int
    desirables_met: int
    appointable: bool
    mismatches: list[RecordMismatch] = Field(default_factory=list)


class ApplicationRejected(_Recruitment):
    event_name = "application_rejected"
    application_id: str
    student_number: StudentNumber
    reasons: Annotated[list[str], Personal([])]


class ApplicationWithdrawn(_Recruitment):
    event_name = "application_withdrawn"
    application_id: str
    student_number: StudentNumber


class TrainingCompleted(_Recruitment):
    event_name = "training_completed"
    student_number: StudentNumber
    academic_year: str
    training_id: str
    completed_on: date
    hours: float = 0.0


class LeaderAppointed(_Recruitment):
    event_name = "leader_appointed"
    student_number: StudentNumber
    name: PersonalText
    email: PersonalText
    academic_year: str
    role: Role
    schemes: list[str]
    appointed_on: date
    application_id: str | None = None


class LeaderStoodDown(_Recruitment):
    event_name = "leader_stood_down"
    student_number: StudentNumber
    academic_year: str
    schemes: list[str]
    effective_from: date
    #: empty: why a leader stood down is personal and stays in recruitment, for coordinators
    #: (events published before passhub kept it there may carry it, sealed)
    reason: PersonalText = ""
