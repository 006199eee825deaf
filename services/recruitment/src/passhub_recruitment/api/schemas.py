"""What the HTTP API returns (response models, also the OpenAPI document)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from passhub_shared.auth import Principal
from passhub_shared.contracts.recruitment import (
    AssessedBy,
    Check,
    Criterion,
    Importance,
    RecordMismatch,
    RecordOverride,
    Role,
)


class CampaignView(BaseModel):
    campaign_id: str
    academic_year: str
    leader_title: str
    organiser_title: str
    participating_schools: list[str]
    criteria: list[Criterion]
    min_exam_mark: Decimal
    core_training_hours: Decimal
    closes_on: date | None
    status: str
    opened_at: datetime
    closed_on: date | None


class CriterionResult(BaseModel):
    """One criterion of the specification and this application's outcome for it."""

    code: str
    description: str
    importance: Importance
    how_assessed: list[AssessedBy]
    check: Check | None = None
    #: True met, False not met, None not assessed yet
    met: bool | None
    #: False: decided on self-declared data, or not decided
    verified: bool
    evidence: str
    #: "system" (from the student records) or the assessor's user id
    assessed_by: str
    mark_used: Decimal | None = None
    #: an assessor's explicit override of what the student record decides: who, when, why,
    #: and the record's own outcome and evidence, shown beside the assessor's
    override: RecordOverride | None = None


class Appointment(BaseModel):
    scheme_id: str
    role: Role
    appointed_on: date


class ApplicationSummary(BaseModel):
    application_id: str
    campaign_id: str
    academic_year: str
    student_number: str
    name: str
    email: str
    school: str
    role_sought: Role
    status: str
    submitted_at: datetime
    essentials_met: int
    essentials_total: int
    desirables_met: int
    desirables_total: int
    pending: int
    unverified: int
    appointable: bool
    flagged: bool
    #: the schemes the applicant would like to lead in
    preferred_schemes: list[str] = Field(default_factory=list)


class ApplicationView(ApplicationSummary):
    declared: dict[str, Any]
    criteria: list[CriterionResult]
    mismatches: list[RecordMismatch]
    rejection_reasons: list[str]
    appointments: list[Appointment]


class ShortlistEntry(BaseModel):
    rank: int
    application: ApplicationSummary


class LeaderView(BaseModel):
    scheme_id: str
    student_number: str
    name: str
    #: for coordinators, organisers and integrations (null for others)
    email: str | None
    role: Role
    #: the institution's word for the role ("PASS Leader", "Student Organiser", ...)
    title: str
    appointed_on: date
    stood_down_from: date | None
    #: why they stood down: for coordinators only (null for others)
    stand_down_reason: str | None

    def seen_by(self, principal: Principal) -> LeaderView:
        """What `principal` may see: a stand-down reason is for coordinators, an email for the
        staff who contact leaders (coordinators, organisers, integrations)."""
        if principal.has("coordinator"):
            return self
        return self.model_copy(
            update={
                "email": self.email if principal.has(*CONTACTS) else None,
                "stand_down_reason": None,
            }
        )


#: who may see a leader's email
CONTACTS = ("coordinator", "organiser", "integration")


class TrainingSessionView(BaseModel):
    training_id: str
    academic_year: str
    title: str
    held_on: date
    hours: Decimal
    core: bool
    completions: int


class TrainingDone(BaseModel):
    training_id: str
    hours: Decimal
    core: bool
    completed_on: date


class TrainingSummary(BaseModel):
    student_number: str
    academic_year: str
    core_hours: Decimal
    #: the hours the year's campaign requires (None: no campaign for that year)
    required_hours: Decimal | None
    complete: bool | None
    sessions: list[TrainingDone]


class RecordImportView(BaseModel):
    import_id: str
    source: str
    rows: int
    imported_at: datetime
    imported_by: str | None


class ImportResult(BaseModel):
    import_id: str
    rows: int
    ignored_columns: list[str] = Field(default_factory=list)
    #: open applications whose automatic assessment the new records changed
    reassessed: list[str] = Field(default_factory=list)


class ColumnSeen(BaseModel):
    """A column of an uploaded file's header and what the import makes of it."""

    header: str
    #: the column it is read as (`year1_mark` for "Year 1 mark"); None: ignored
    read_as: str | None


class LineProblem(BaseModel):
    line: int
    column: str | None
    message: str


class PreviewRow(BaseModel):
    line: int
    student_number: str
    name: str
    school: str
    programme: str
    level: str
    year_of_study: int
    marks: dict[str, Decimal]


class ImportPreview(BaseModel):
    """What importing a file would do, without importing it: the rows it would import, how
    its columns are read, and every problem by line (any problem refuses the whole file)."""

    rows: int
    columns: list[ColumnSeen]
    recognised_columns: list[str]
    ignored_columns: list[str]
    missing_columns: list[str]
    problems: list[LineProblem]
    #: the first rows as they would be imported
    sample: list[PreviewRow]
    #: open applications of students in the file (their automatic checks would be run again)
    open_applications: int
    importable: bool


class TrainingStanding(BaseModel):
    """An applicant's or appointee's core training in the campaign's year against what
    appointment requires."""

    application_id: str
    student_number: str
    name: str
    status: str
    core_hours: Decimal
    required_hours: Decimal
    complete: bool


class StudentRecordView(BaseModel):
    student_number: str
    name: str
    email: str
    school: str
    programme: str
    level: str
    year_of_study: int
    marks: dict[str, Decimal]
    import_id: str
    line: int
