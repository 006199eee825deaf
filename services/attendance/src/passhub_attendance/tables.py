"""The attendance service's read models (created by migration `attendance_0001`)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY

metadata = MetaData()

#: schemes, from the sessions service's `scheme_launched`
schemes = Table(
    "attendance_schemes",
    metadata,
    Column("scheme_id", Text, primary_key=True),
    Column("code", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("school", Text, nullable=False),
    Column("academic_year", Text, nullable=False),
    Column("modules", ARRAY(Text), nullable=False),
    Column("mode", Text, nullable=False),
)

#: who organises each scheme: named by the sessions service (`source` "scheme", from
#: `scheme_launched` and `scheme_amended`) or appointed student organiser by recruitment
#: (`source` "appointment", until they stand down)
scheme_organisers = Table(
    "attendance_scheme_organisers",
    metadata,
    Column("scheme_id", Text, nullable=False),
    Column("sub", Text, nullable=False),
    Column("source", Text, nullable=False),
    PrimaryKeyConstraint("scheme_id", "sub", "source"),
    Index("ix_attendance_scheme_organisers_sub", "sub"),
)

#: sessions as scheduled, rescheduled and cancelled by the sessions service
scheduled_sessions = Table(
    "attendance_scheduled_sessions",
    metadata,
    Column("session_id", Text, primary_key=True),
    Column("scheme_id", Text, nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("room", Text, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("teaching_week", Text),
    Column("cancelled", Boolean, nullable=False),
    Column("cancel_reason", Text),
    Index("ix_attendance_scheduled_sessions_scheme", "scheme_id"),
    Index("ix_attendance_scheduled_sessions_room", "room", "starts_at"),
)

#: leaders rostered on each session
rostered_leaders = Table(
    "attendance_rostered_leaders",
    metadata,
    Column("session_id", Text, nullable=False),
    Column("student_number", Text, nullable=False),
    PrimaryKeyConstraint("session_id", "student_number"),
    Index("ix_attendance_rostered_leaders_student", "student_number"),
)

#: one row per person who ever signed in to a session; `active` is false once revoked
attendances = Table(
    "attendance_attendances",
    metadata,
    Column("session_id", Text, nullable=False),
    Column("student_number", Text, nullable=False),
    Column("scheme_id", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("method", Text, nullable=False),
    Column("signed_in_at", DateTime(timezone=True), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("revoked_reason", Text),
    PrimaryKeyConstraint("session_id", "student_number"),
    Index("ix_attendance_attendances_student", "student_number"),
    Index("ix_attendance_attendances_scheme", "scheme_id"),
)

#: feedback sheets; `student_number` is null for anonymous ones
feedback = Table(
    "attendance_feedback",
    metadata,
    Column("feedback_id", Text, primary_key=True),
    Column("session_id", Text, nullable=False),
    Column("scheme_id", Text, nullable=False),
    Column("student_number", Text),
    Column("understanding", SmallInteger, nullable=False),
    Column("enjoyable", SmallInteger, nullable=False),
    Column("recommend", SmallInteger, nullable=False),
    Column("comment", Text, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Index("ix_attendance_feedback_session", "session_id"),
    Index("ix_attendance_feedback_scheme", "scheme_id"),
)

#: keyed hashes of (session, student) that gave feedback, kept apart from the feedback
feedback_guards = Table(
    "attendance_feedback_guards",
    metadata,
    Column("guard", Text, primary_key=True),
    Column("session_id", Text, nullable=False),
)

#: indexes this service's migrations add to the kit's tables: (table, name, columns, where)
KIT_INDEXES = (("events", "ix_events_actor", ("actor",), "actor IS NOT NULL"),)
