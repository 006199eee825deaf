"""Read models (projections' tables). The migration `recruitment_0001` creates the same."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

campaigns = Table(
    "recruitment_campaigns",
    metadata,
    Column("campaign_id", Text, primary_key=True),
    Column("academic_year", Text, nullable=False),
    Column("leader_title", Text, nullable=False),
    Column("organiser_title", Text, nullable=False),
    Column("participating_schools", JSONB, nullable=False),
    Column("criteria", JSONB, nullable=False),
    Column("min_exam_mark", Numeric, nullable=False),
    Column("core_training_hours", Numeric, nullable=False),
    Column("closes_on", Date),
    Column("status", Text, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("closed_on", Date),
)

student_records = Table(
    "recruitment_student_records",
    metadata,
    Column("student_number", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("school", Text, nullable=False),
    Column("programme", Text, nullable=False),
    Column("level", Text, nullable=False),
    Column("year_of_study", Integer, nullable=False),
    Column("marks", JSONB, nullable=False),
    Column("import_id", Text, nullable=False),
    Column("line", Integer, nullable=False),
)

record_imports = Table(
    "recruitment_record_imports",
    metadata,
    Column("import_id", Text, primary_key=True),
    Column("source", Text, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("imported_by", Text),
    Column("position", BigInteger, nullable=False),
)

applications = Table(
    "recruitment_applications",
    metadata,
    Column("application_id", Text, primary_key=True),
    Column("campaign_id", Text, nullable=False),
    Column("academic_year", Text, nullable=False),
    Column("student_number", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("school", Text, nullable=False),
    Column("role_sought", Text, nullable=False),
    Column("preferred_schemes", JSONB, nullable=False),
    Column("declared", JSONB, nullable=False),
    Column("status", Text, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("submitted_position", BigInteger, nullable=False),
    Column("outcomes", JSONB, nullable=False),
    Column("mismatches", JSONB, nullable=False),
    Column("essentials_met", Integer, nullable=False),
    Column("essentials_total", Integer, nullable=False),
    Column("desirables_met", Integer, nullable=False),
    Column("desirables_total", Integer, nullable=False),
    Column("pending", Integer, nullable=False),
    Column("unverified", Integer, nullable=False),
    Column("appointable", Boolean, nullable=False),
    Column("flagged", Boolean, nullable=False),
    Column("rejection_reasons", JSONB, nullable=False),
    Column("schemes", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: the schemes the sessions service launched (consumed `scheme_launched`): appointments name
#: only these; `organisers` are the student numbers named as its organisers (also changed by
#: `scheme_amended`); an event published again updates the row only with a later position
schemes = Table(
    "recruitment_schemes",
    metadata,
    Column("scheme_id", Text, primary_key=True),
    Column("academic_year", Text, nullable=False),
    Column("code", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("school", Text, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("organisers", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
)

appointments = Table(
    "recruitment_appointments",
    metadata,
    Column("scheme_id", Text, primary_key=True),
    Column("student_number", Text, primary_key=True),
    Column("academic_year", Text, nullable=False),
    Column("application_id", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("appointed_on", Date, nullable=False),
    Column("stood_down_from", Date),
    Column("stand_down_reason", Text),
)

training_sessions = Table(
    "recruitment_training_sessions",
    metadata,
    Column("training_id", Text, primary_key=True),
    Column("academic_year", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("held_on", Date, nullable=False),
    Column("hours", Numeric, nullable=False),
    Column("core", Boolean, nullable=False),
    Column("completions", Integer, nullable=False),
)

training_completions = Table(
    "recruitment_training_completions",
    metadata,
    Column("training_id", Text, primary_key=True),
    Column("student_number", Text, primary_key=True),
    Column("academic_year", Text, nullable=False),
    Column("hours", Numeric, nullable=False),
    Column("core", Boolean, nullable=False),
    Column("completed_on", Date, nullable=False),
)

# the indexes the migrations create
Index("ix_recruitment_applications_campaign", applications.c.campaign_id, applications.c.status)
Index("ix_recruitment_applications_student", applications.c.student_number)
Index("ix_recruitment_appointments_student", appointments.c.student_number)
Index(
    "ix_recruitment_training_completions_student",
    training_completions.c.student_number,
    training_completions.c.academic_year,
)
