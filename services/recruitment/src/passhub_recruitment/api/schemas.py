"""What the HTTP API takes and returns: request bodies and response models (also the OpenAPI
document)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from passhub_recruitment.domain.identifiers import STUDENT_NUMBER_PATTERN
from passhub_shared.contracts.recruitment import (
    AssessedBy,
    Check,
    Criterion,
    Importance,
    RecordMismatch,
    RecordOverride,
    Role,
)
from passhub_shared.web.auth import Principal

#: the statuses an application is listed by
ApplicationStatus = Literal["submitted", "withdrawn", "rejected", "appointed", "stood_down"]


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


# -- request bodies ---------------------------------------------------------------------------


class ApplicationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: optional; when given it must be the caller's own (the token's subject)
    student_number: str | None = None
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=320)
    school: str = Field(min_length=1, max_length=200)
    programme: str = Field(default="", max_length=200)
    level: str = Field(default="", max_length=100, examples=["undergraduate"])
    year_of_study: int | None = Field(default=None, ge=1, le=7)
    #: self-declared exam mark per year of study, e.g. {"1": "64.5"}; checked against the record
    exam_marks: dict[int, Decimal] = Field(default_factory=dict)
    role_sought: Role = "leader"
    preferred_schemes: list[str] = Field(default_factory=list, max_length=20)
    statement: str = Field(default="", max_length=5000)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValueError(f"not an email address: {exc}") from None


class OutcomeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    met: bool
    note: str = Field(max_length=2000)
    #: required to overrule a criterion the student record decides (met or failed on the
    #: record, or pending because the record and the application disagree), and refused
    #: otherwise; recorded with the assessor's name and time, the record's value kept beside it
    override_reason: str | None = Field(default=None, max_length=2000)


class AssessmentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcomes: list[OutcomeBody] = Field(min_length=1)


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: shown to the applicant
    reasons: list[str] = Field(min_length=1)


class AppointBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role = "leader"
    schemes: list[str] = Field(min_length=1, examples=[["2026-27-PHYS"]])
    #: omitted: today
    appointed_on: date | None = None


class StandDownBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    effective_from: date
    reason: str = Field(max_length=2000)
    #: omitted or empty: every scheme the applicant holds
    schemes: list[str] = Field(default_factory=list)


class BulkOutcomeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    application_id: str = Field(max_length=200)
    met: bool
    note: str = Field(default="", max_length=2000)


class CriterionOutcomesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcomes: list[BulkOutcomeBody] = Field(min_length=1, max_length=2000)


class OpenCampaignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    academic_year: str = Field(examples=["2026-27"])
    participating_schools: list[str] = Field(min_length=1, examples=[["Physics", "Mathematics"]])
    #: omitted: the default person specification
    criteria: list[Criterion] | None = None
    #: omitted: the institution's vocabulary (PASSHUB_LEADER_TITLE / PASSHUB_ORGANISER_TITLE)
    leader_title: str | None = Field(default=None, examples=["PASS Mentor"])
    organiser_title: str | None = None
    min_exam_mark: Decimal | None = None
    core_training_hours: Decimal | None = None
    closes_on: date | None = None


class AmendCampaignBody(BaseModel):
    """What to change; a field left out stays as it is (`closes_on: null` removes the closing
    date)."""

    model_config = ConfigDict(extra="forbid")
    participating_schools: list[str] | None = Field(default=None, min_length=1)
    criteria: list[Criterion] | None = None
    min_exam_mark: Decimal | None = None
    core_training_hours: Decimal | None = None
    closes_on: date | None = None


_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class TrainingSessionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: omitted: one is made up
    training_id: str | None = Field(default=None, pattern=_ID)
    academic_year: str = Field(examples=["2026-27"])
    title: str = Field(max_length=200, examples=["Core training day 1"])
    held_on: date
    hours: Decimal = Field(examples=["6"])
    #: core training counts towards the hours appointment requires
    core: bool = True


class CompletionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    student_number: str
    #: omitted: the whole session
    hours: Decimal | None = None


class CompletionsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    completions: list[CompletionBody] = Field(min_length=1)


#: the most student numbers one names lookup takes
NAMES_AT_MOST = 1_000

StudentNumberText = Annotated[str, StringConstraints(pattern=STUDENT_NUMBER_PATTERN)]


class NamesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    student_numbers: list[StudentNumberText] = Field(
        max_length=NAMES_AT_MOST, examples=[["S1000001", "S1000002"]]
    )


class StudentNames(BaseModel):
    """The name of each student asked for whose record is held; the others are absent."""

    names: dict[str, str] = Field(examples=[{"S1000001": "Ada Lovelace"}])


class StudentFound(BaseModel):
    """As little as a leader needs to pick a student: the number and the name."""

    student_number: str
    name: str
