"""Internal events of the evaluation (not published): imports from the student records system.

An import is appended to the stream of its kind and academic year
(`evaluation-enrolments-2026-27`, `evaluation-results-2026-27`), split into events of at most
`import_event_rows` rows, all in one transaction. One stream per kind and year serialises
imports of the same year (a second import at the same time gets 409), and makes each row of the
enrolment and result tables the work of one stream, as replay needs.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from passhub_shared.messages.events import Event, new_event_id
from passhub_shared.personaldata.personal import StudentNumber


class _Evaluation(Event):
    service = "attendance"
    public = False


class EnrolmentRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    student_number: StudentNumber
    module: str
    #: prior attainment (entry tariff, first-semester average...); None when not given
    prior_attainment: float | None = None


class ResultRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: sealed; the mark, grade and outcome are not: once the student is erased they are an
    #: anonymous participant's, and the evaluation's figures stay as they were
    student_number: StudentNumber
    module: str
    #: mark out of 100
    mark: float | None = None
    #: letter grade, upper case, as in the grade scale at the time of import
    grade: str | None = None
    #: as imported; None leaves it to the pass mark / fail grades when a report is computed
    passed: bool | None = None
    withdrawn: bool = False


class ModuleEnrolmentsImported(_Evaluation):
    event_name = "module_enrolments_imported"
    import_id: str
    academic_year: str
    #: what `prior_attainment` measures, e.g. "entry tariff"
    prior_measure: str | None = None
    #: modules whose earlier enrolments of this year this import replaces (first part only)
    replace_modules: list[str] = Field(default_factory=list)
    source: str = ""
    part: int = 1
    parts: int = 1
    rows: list[EnrolmentRow]


class ModuleResultsImported(_Evaluation):
    event_name = "module_results_imported"
    import_id: str
    academic_year: str
    replace_modules: list[str] = Field(default_factory=list)
    source: str = ""
    part: int = 1
    parts: int = 1
    rows: list[ResultRow]


def enrolments_stream(academic_year: str) -> str:
    return f"evaluation-enrolments-{academic_year}"


def results_stream(academic_year: str) -> str:
    return f"evaluation-results-{academic_year}"


def new_import_id() -> str:
    return str(new_event_id())


class HistoryRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: sealed like every student number (events imported before it was are read as they are)
    student_number: StudentNumber
    module: str
    #: sessions the student attended for the module that year, as the scheme's records say
    sessions_attended: int = Field(ge=0)


class HistoricalAttendanceImported(_Evaluation):
    """Past attendance, as counts per student, module and year, from the scheme's own records
    (spreadsheets kept before passhub). Not sign-ins: no session, no time; a report counts them
    as sessions attended for that module and year."""

    event_name = "historical_attendance_imported"
    import_id: str
    academic_year: str
    source: str = ""
    part: int = 1
    parts: int = 1
    rows: list[HistoryRow]


class HistorySessionRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    student_number: StudentNumber
    module: str
    #: the day of the session attended (within the event's academic year)
    session_date: date
    #: the scheme's own name for the session ("week 3, group B"), when its records give one:
    #: two sessions of a module on the same day are told apart by it
    session_ref: str | None = None


class HistoricalSessionsImported(_Evaluation):
    """Past attendance as one row per session attended (student, module, day, and the
    session's name in the scheme's records when they give one), from the scheme's own records.
    Not sign-ins: no session of passhub's, no time. Rows already held are never imported
    again; a report counts a student's distinct sessions of the module that year."""

    event_name = "historical_sessions_imported"
    import_id: str
    academic_year: str
    source: str = ""
    part: int = 1
    parts: int = 1
    rows: list[HistorySessionRow]


class TitleRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    module: str
    title: str = Field(min_length=1, max_length=200)


class ModuleTitlesSet(_Evaluation):
    """Module titles ("MATH101" is "Calculus I"), imported or set by a coordinator; a later
    title for the same module replaces the earlier one."""

    event_name = "module_titles_set"
    source: str = ""
    rows: list[TitleRow]


def history_stream(academic_year: str) -> str:
    return f"evaluation-history-{academic_year}"


#: one stream for every title: titles are few, and one stream keeps their order
TITLES_STREAM = "evaluation-module-titles"
