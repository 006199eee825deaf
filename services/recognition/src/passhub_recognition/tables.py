"""The service's own tables (read models), as SQLAlchemy Core. The migration creates them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

#: one row per granted award; `status` granted or withdrawn; the figures are the latest (a
#: revision replaces those of the grant)
awards = Table(
    "rec_awards",
    metadata,
    Column("award_id", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("academic_year", Text, nullable=False),
    Column("student_number", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("schemes", JSONB, nullable=False),
    Column("sessions_delivered", Integer, nullable=False),
    Column("hours", Float, nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("verification_code", Text, nullable=False),
    Column("code_hash", Text, nullable=False, unique=True),
    Column("activity_start", Date),
    Column("activity_end", Date),
    Column("granted_at", DateTime(timezone=True), nullable=False),
    Column("status", Text, nullable=False),
    Column("withdrawn_reason", Text),
    Column("withdrawn_at", DateTime(timezone=True)),
    #: the last re-issue with new figures after a correction (`award_revised`)
    Column("revised_at", DateTime(timezone=True)),
    Column("revised_reason", Text),
)

#: every version of every year's policy
policies = Table(
    "rec_policies",
    metadata,
    Column("academic_year", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("policy", JSONB, nullable=False),
    Column("set_at", DateTime(timezone=True), nullable=False),
    Column("set_by", Text),
)

#: mentor meetings and admin hours recorded here
activities = Table(
    "rec_activities",
    metadata,
    Column("activity_id", Text, primary_key=True),
    Column("academic_year", Text, nullable=False),
    Column("student_number", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("held_on", Date, nullable=False),
    Column("hours", Float, nullable=False),
    Column("note", Text, nullable=False),
    Column("recorded_by", Text),
    Column("struck", Boolean, nullable=False),
    Column("struck_reason", Text),
)

#: leaders' names (for certificates), from recruitment's appointments; latest wins
people = Table(
    "rec_people",
    metadata,
    Column("academic_year", Text, primary_key=True),
    Column("student_number", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("position", BigInteger, nullable=False),
)

#: scheme titles (for certificates), from sessions' scheme_launched; latest wins
schemes = Table(
    "rec_schemes",
    metadata,
    Column("scheme_id", Text, primary_key=True),
    Column("code", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("school", Text, nullable=False),
    Column("academic_year", Text, nullable=False),
    Column("position", BigInteger, nullable=False),
)

#: the Ed25519 key credentials are signed with, when no key file is configured (not a
#: projection: made once, on first start)
signing_keys = Table(
    "rec_signing_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("private_key_pem", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# the indexes the migrations create
Index("ix_rec_awards_year", awards.c.academic_year, awards.c.kind, awards.c.status)
Index("ix_rec_awards_student", awards.c.student_number)
Index("ix_rec_activities_leader", activities.c.academic_year, activities.c.student_number)
