"""Events kept inside the recruitment service (public=False: stored, replayed, never published).

Student records and applicants' declared details are personal data other services have no use
for; they are events so that `passhub replay recruitment` rebuilds every read model from the log.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from passhub_shared.contracts.recruitment import Criterion, RecordMismatch
from passhub_shared.messages.events import Event
from passhub_shared.personaldata.personal import (
    OptionalStudentNumber,
    Personal,
    PersonalText,
    StudentNumber,
)


class _Internal(Event):
    service = "recruitment"
    public = False


class StudentRecordRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    student_number: StudentNumber
    name: PersonalText
    email: PersonalText
    school: str
    programme: PersonalText
    level: str
    year_of_study: int
    #: exam mark per year of study, keys "1", "2", ...; exact decimals (JSON strings)
    marks: Annotated[dict[str, Decimal], Personal({})] = Field(default_factory=dict)
    #: line of the CSV file the row came from
    line: int


class StudentRecordsImported(_Internal):
    """One chunk of a student-records import (an import of many rows is several chunks,
    appended together, all or nothing)."""

    event_name = "student_records_imported"
    import_id: str
    source: str
    chunk: int
    chunks: int
    total_rows: int
    records: list[StudentRecordRow]


class ApplicationDetailsDeclared(_Internal):
    """What the applicant declared beyond the published submission: the evidence they offer
    for the machine-checkable criteria, and their supporting statement."""

    event_name = "application_details_declared"
    application_id: str
    programme: PersonalText = ""
    level: str = ""
    year_of_study: int | None = None
    exam_marks: Annotated[dict[str, Decimal], Personal({})] = Field(default_factory=dict)
    statement: PersonalText = ""
    #: the applicant, whose key seals the fields above (absent from declarations made before
    #: passhub sealed personal fields)
    student_number: OptionalStudentNumber = None


class RecordOverridden(_Internal):
    """The audit of an assessor overriding a criterion the student record decides: who, when,
    why, the outcome given, and what the record said. The `application_assessed` that follows
    carries the new outcome, with the override beside it."""

    event_name = "record_overridden"
    application_id: str
    student_number: StudentNumber
    criterion: str
    met: bool
    note: PersonalText
    reason: PersonalText
    overridden_by: str
    overridden_at: datetime
    record_met: bool | None
    record_evidence: PersonalText
    record_mark_used: Annotated[Decimal | None, Personal(None)] = None
    #: the application's data that disagreed with the record on this criterion
    mismatches: list[RecordMismatch] = Field(default_factory=list)


class CampaignClosed(_Internal):
    event_name = "campaign_closed"
    campaign_id: str
    closed_on: date


class CampaignAmended(_Internal):
    """A campaign's terms changed while it is open: the whole of them as they now stand."""

    event_name = "campaign_amended"
    campaign_id: str
    participating_schools: list[str]
    criteria: list[Criterion]
    min_exam_mark: Decimal
    core_training_hours: Decimal
    closes_on: date | None = None


class TrainingSessionRecorded(_Internal):
    event_name = "training_session_recorded"
    training_id: str
    academic_year: str
    title: str
    held_on: date
    hours: Decimal
    #: core training counts towards the hours appointment requires
    core: bool = True


class StandDownReasonGiven(_Internal):
    """Why a leader stood down (free text, often personal: "mental health leave"). Kept apart
    from the published `leader_stood_down`, for coordinators only."""

    event_name = "stand_down_reason_given"
    student_number: StudentNumber
    schemes: list[str]
    reason: PersonalText
