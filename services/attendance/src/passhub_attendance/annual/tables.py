"""The annual report's read models (created by migration `attendance_0300`), built from events
alone: the sessions service's schemes and sessions, the attendance service's leader sign-ins,
recruitment's appointments and training, recognition's award decisions, and the graduate
outcome imports. Student numbers are those of the log, opened (an erased person's read as
`erased-<key id>`), and never leave the service except as counts.
"""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    Boolean,
    Column,
    DateTime,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)

metadata = MetaData()

#: each scheme's year, code and mode (opt-in or opt-out), as launched
schemes = Table(
    "annual_schemes",
    metadata,
    Column("scheme_id", Text, primary_key=True),
    Column("academic_year", Text, nullable=False),
    Column("code", Text, nullable=False),
    Column("mode", Text, nullable=False),
)

#: every session scheduled, its teaching week, and whether it was cancelled
sessions = Table(
    "annual_sessions",
    metadata,
    Column("session_id", Text, primary_key=True),
    Column("scheme_id", Text),
    Column("starts_at", DateTime(timezone=True)),
    Column("teaching_week", Text),
    Column("cancelled", Boolean, nullable=False),
    Index("annual_sessions_scheme", "scheme_id"),
)

#: a leader's sign-in at a session (a session delivered); revoked: no row
leader_sessions = Table(
    "annual_leader_sessions",
    metadata,
    Column("session_id", Text, nullable=False),
    Column("student_number", Text, nullable=False),
    Column("scheme_id", Text, nullable=False),
    PrimaryKeyConstraint("session_id", "student_number"),
)

#: appointments as leader or organiser per year (the schemes of every appointment, together)
appointments = Table(
    "annual_appointments",
    metadata,
    Column("academic_year", Text, nullable=False),
    Column("student_number", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("schemes", ARRAY(Text), nullable=False),
    PrimaryKeyConstraint("academic_year", "student_number", "role"),
)

#: who stood down in a year (from any of their schemes)
stood_down = Table(
    "annual_stood_down",
    metadata,
    Column("academic_year", Text, nullable=False),
    Column("student_number", Text, nullable=False),
    PrimaryKeyConstraint("academic_year", "student_number"),
)

#: who completed core training in a year
training = Table(
    "annual_training",
    metadata,
    Column("academic_year", Text, nullable=False),
    Column("student_number", Text, nullable=False),
    PrimaryKeyConstraint("academic_year", "student_number"),
)

#: recognition's last decision per leader, year and award kind: granted, withheld or withdrawn
awards = Table(
    "annual_awards",
    metadata,
    Column("academic_year", Text, nullable=False),
    Column("student_number", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("status", Text, nullable=False),
    PrimaryKeyConstraint("academic_year", "student_number", "kind"),
)

#: graduate outcome records (last import wins), by academic year of graduation
graduate_outcomes = Table(
    "annual_graduate_outcomes",
    metadata,
    Column("academic_year", Text, nullable=False),
    Column("student_number", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    PrimaryKeyConstraint("academic_year", "student_number"),
)
