"""The evaluation's read models (created by migrations `attendance_0100`, `attendance_0110` and
`attendance_0310`).

All of them are built from events alone (the attendance log: own sign-ins, revocations,
feedback and imports, and the sessions service's schemes and sessions), never from another
projection's tables.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)

metadata = MetaData()

#: schemes as launched by the sessions service
schemes = Table(
    "evaluation_schemes",
    metadata,
    Column("scheme_id", Text, primary_key=True),
    Column("code", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("academic_year", Text, nullable=False),
)

#: scheduled sessions (for labelling feedback per session)
sessions = Table(
    "evaluation_sessions",
    metadata,
    Column("session_id", Text, primary_key=True),
    Column("scheme_id", Text, nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
)

#: which modules a scheme covers (from `scheme_launched`, and the `modules` of sign-ins)
scheme_modules = Table(
    "evaluation_scheme_modules",
    metadata,
    Column("scheme_id", Text, nullable=False),
    Column("module", Text, nullable=False),
    Column("academic_year", Text, nullable=False),
    PrimaryKeyConstraint("scheme_id", "module"),
)

#: one row per student per session attended (signing in twice is one row; revoked: no row)
attendances = Table(
    "evaluation_attendances",
    metadata,
    Column("session_id", Text, nullable=False),
    Column("student_number", Text, nullable=False),
    Column("scheme_id", Text, nullable=False),
    PrimaryKeyConstraint("session_id", "student_number"),
)

#: distinct sessions attended per student per module per year (attendances x scheme_modules)
module_attendance = Table(
    "evaluation_module_attendance",
    metadata,
    Column("academic_year", Text, nullable=False),
    Column("module", Text, nullable=False),
    Column("student_number", Text, nullable=False),
    Column("sessions", Integer, nullable=False),
    PrimaryKeyConstraint("academic_year", "module", "student_number"),
)

enrolments = Table(
    "evaluation_enrolments",
    metadata,
    Column("academic_year", Text, nullable=False),
    Column("module", Text, nullable=False),
    Column("student_number", Text, nullable=False),
    Column("prior_attainment", Float),
    Column("prior_measure", Text),
    PrimaryKeyConstraint("academic_year", "module", "student_number"),
)

results = Table(
    "evaluation_results",
    metadata,
    Column("academic_year", Text, nullable=False),
    Column("module", Text, nullable=False),
    Column("student_number", Text, nullable=False),
    Column("mark", Float),
    Column("grade", Text),
    Column("passed", Boolean),
    Column("withdrawn", Boolean, nullable=False),
    PrimaryKeyConstraint("academic_year", "module", "student_number"),
)

#: number of responses per session, Likert item and score (1..5)
feedback_tallies = Table(
    "evaluation_feedback_tallies",
    metadata,
    Column("session_id", Text, nullable=False),
    Column("item", Text, nullable=False),
    Column("score", Integer, nullable=False),
    Column("scheme_id", Text, nullable=False),
    Column("responses", Integer, nullable=False),
    PrimaryKeyConstraint("session_id", "item", "score"),
)

#: free-text comments (shown to coordinators only); never the student number
feedback_comments = Table(
    "evaluation_feedback_comments",
    metadata,
    Column("feedback_id", Text, primary_key=True),
    Column("session_id", Text, nullable=False),
    Column("scheme_id", Text, nullable=False),
    Column("comment", Text, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
)

#: past attendance per (year, module, student): `counted`, the last count imported
#: (historical_attendance_imported), `listed`, the distinct sessions imported as rows
#: (historical_sessions_imported), and `sessions`, the larger of the two (two records of the
#: same sessions: never added), which the reports read
historical_attendance = Table(
    "evaluation_historical_attendance",
    metadata,
    Column("academic_year", Text, nullable=False),
    Column("module", Text, nullable=False),
    Column("student_number", Text, nullable=False),
    Column("sessions", Integer, nullable=False),
    Column("counted", Integer),
    Column("listed", Integer, nullable=False),
    PrimaryKeyConstraint("academic_year", "module", "student_number"),
)

#: past attendance imported as session rows, each once (historical_sessions_imported);
#: `session_ref` is '' when the file gave none
historical_sessions = Table(
    "evaluation_historical_sessions",
    metadata,
    Column("academic_year", Text, nullable=False),
    Column("module", Text, nullable=False),
    Column("student_number", Text, nullable=False),
    Column("session_date", Date, nullable=False),
    Column("session_ref", Text, nullable=False),
    PrimaryKeyConstraint(
        "academic_year", "module", "student_number", "session_date", "session_ref"
    ),
)

#: module titles (module_titles_set): "MATH101" -> "Calculus I"
module_titles = Table(
    "evaluation_module_titles",
    metadata,
    Column("module", Text, primary_key=True),
    Column("title", Text, nullable=False),
)

# the indexes the migrations create
Index("ix_evaluation_feedback_tallies_scheme", feedback_tallies.c.scheme_id)
