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
    LargeBinary,
    MetaData,
    Table,
    Text,
    text,
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

#: the awards runs, worked off the request (`jobs.py`): queued, running, done or failed; the
#: leaders to decide are fixed when the run starts, `leaders_done` of them are decided, and the
#: counts are those of the leaders decided so far (all of them once done)
award_runs = Table(
    "rec_award_runs",
    metadata,
    Column("run_id", Text, primary_key=True),
    Column("academic_year", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("requested_by", Text),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("policy_version", Integer),
    #: the student numbers to decide, in order (null until the run starts)
    Column("leaders", JSONB),
    Column("leaders_total", Integer, nullable=False),
    Column("leaders_done", Integer, nullable=False),
    Column("granted", Integer, nullable=False),
    Column("withheld", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("error", Text),
)

#: the certificate batches of a year (one PDF, a page per standing certificate), made off the
#: request (`jobs.py`); the PDF is kept here once done
certificate_batches = Table(
    "rec_certificate_batches",
    metadata,
    Column("batch_id", Text, primary_key=True),
    Column("academic_year", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("requested_by", Text),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("pages_total", Integer, nullable=False),
    Column("pages_done", Integer, nullable=False),
    Column("pdf", LargeBinary),
    Column("error", Text),
)

# the indexes the migrations create
Index("ix_rec_awards_year", awards.c.academic_year, awards.c.kind, awards.c.status)
Index("ix_rec_awards_student", awards.c.student_number)
Index("ix_rec_activities_leader", activities.c.academic_year, activities.c.student_number)
#: one run, and one batch, under way per year at a time
UNDER_WAY = "state IN ('queued', 'running')"
Index(
    "ux_rec_award_runs_under_way",
    award_runs.c.academic_year,
    unique=True,
    postgresql_where=text(UNDER_WAY),
)
Index("ix_rec_award_runs_year", award_runs.c.academic_year, award_runs.c.requested_at)
Index(
    "ux_rec_certificate_batches_under_way",
    certificate_batches.c.academic_year,
    unique=True,
    postgresql_where=text(UNDER_WAY),
)
Index(
    "ix_rec_certificate_batches_year",
    certificate_batches.c.academic_year,
    certificate_batches.c.requested_at,
)
