"""Read models (projection tables) of the sessions service, as SQLAlchemy Core tables.

The migration `sessions_0001` creates the same tables; every row here can be rebuilt from the
event log (`passhub replay sessions`).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    Time,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

schemes = Table(
    "schemes",
    metadata,
    Column("scheme_id", Text, primary_key=True),
    Column("code", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("school", Text, nullable=False),
    Column("academic_year", Text, nullable=False),
    Column("modules", JSONB, nullable=False),
    Column("mode", Text, nullable=False),
    Column("coordinator", Text, nullable=False),
    Column("organisers", JSONB, nullable=False),
    Column("min_leaders_per_session", Integer, nullable=False),
    Column("launched_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: appointments announced by recruitment (`leader_appointed`, `leader_stood_down`)
scheme_leaders = Table(
    "scheme_leaders",
    metadata,
    Column("scheme_id", Text, primary_key=True),
    Column("student_number", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("academic_year", Text, nullable=False),
    Column("leader", Boolean, nullable=False),
    Column("organiser", Boolean, nullable=False),
    Column("appointed_on", Date, nullable=False),
    Column("stood_down_from", Date),
    Column("stood_down_reason", Text),
)

sessions = Table(
    "sessions",
    metadata,
    Column("session_id", Text, primary_key=True),
    Column("scheme_id", Text, nullable=False),
    Column("series_id", Text),
    Column("teaching_week", Text),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("room", Text, nullable=False),
    Column("room_key", Text, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("cancelled", Boolean, nullable=False),
    Column("cancel_reason", Text),
    #: iCalendar SEQUENCE: how many times the session changed since it was scheduled
    Column("sequence", Integer, nullable=False),
    Column("scheduled_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_sessions_room_time", "room_key", "starts_at"),
    Index("ix_sessions_scheme_time", "scheme_id", "starts_at"),
    Index("ix_sessions_series", "series_id"),
)

#: every leader ever rostered on a session; `rostered` is false once taken off
session_leaders = Table(
    "session_leaders",
    metadata,
    Column("session_id", Text, primary_key=True),
    Column("student_number", Text, primary_key=True),
    Column("scheme_id", Text, nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("cancelled", Boolean, nullable=False),
    Column("rostered", Boolean, nullable=False),
    Column("reason", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_session_leaders_leader_time", "student_number", "starts_at"),
)

series = Table(
    "series",
    metadata,
    Column("series_id", Text, primary_key=True),
    Column("scheme_id", Text, nullable=False),
    Column("rule", Text, nullable=False),
    Column("weekday", Integer, nullable=False),
    Column("starts", Time, nullable=False),
    Column("ends", Time, nullable=False),
    Column("timezone", Text, nullable=False),
    Column("room", Text, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("semesters", JSONB, nullable=False),
    Column("skip_weeks", JSONB, nullable=False),
    Column("session_ids", JSONB, nullable=False),
    Column("planned_at", DateTime(timezone=True), nullable=False),
    Index("ix_series_scheme", "scheme_id"),
)

leader_availability = Table(
    "leader_availability",
    metadata,
    Column("academic_year", Text, primary_key=True),
    Column("student_number", Text, primary_key=True),
    Column("slots", JSONB, nullable=False),
    Column("unavailable_dates", JSONB, nullable=False),
    Column("stated_by", Text, nullable=False),
    Column("stated_at", DateTime(timezone=True), nullable=False),
)

#: leaders' swap requests: `status` is open, accepted, declined or withdrawn
session_swaps = Table(
    "session_swaps",
    metadata,
    Column("swap_id", Text, primary_key=True),
    Column("session_id", Text, nullable=False),
    Column("scheme_id", Text, nullable=False),
    Column("out_number", Text, nullable=False),
    Column("incoming_number", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("answered_at", DateTime(timezone=True)),
    Index("ix_session_swaps_out", "out_number"),
    Index("ix_session_swaps_incoming", "incoming_number"),
)
