"""sessions: initial schema (schemes, appointed leaders, sessions, rota, series, availability).

Revision ID: sessions_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "sessions_0001"
down_revision = None
branch_labels = ("sessions",)
depends_on = "kit_0001"

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "schemes",
        sa.Column("scheme_id", sa.Text, primary_key=True),
        sa.Column("code", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("school", sa.Text, nullable=False),
        sa.Column("academic_year", sa.Text, nullable=False),
        sa.Column("modules", JSONB, nullable=False),
        sa.Column("mode", sa.Text, nullable=False),
        sa.Column("coordinator", sa.Text, nullable=False),
        sa.Column("organisers", JSONB, nullable=False),
        sa.Column("min_leaders_per_session", sa.Integer, nullable=False),
        sa.Column("launched_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "scheme_leaders",
        sa.Column("scheme_id", sa.Text, primary_key=True),
        sa.Column("student_number", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("academic_year", sa.Text, nullable=False),
        sa.Column("leader", sa.Boolean, nullable=False),
        sa.Column("organiser", sa.Boolean, nullable=False),
        sa.Column("appointed_on", sa.Date, nullable=False),
        sa.Column("stood_down_from", sa.Date),
        sa.Column("stood_down_reason", sa.Text),
    )
    op.create_table(
        "sessions",
        sa.Column("session_id", sa.Text, primary_key=True),
        sa.Column("scheme_id", sa.Text, nullable=False),
        sa.Column("series_id", sa.Text),
        sa.Column("teaching_week", sa.Text),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("ends_at", TZ, nullable=False),
        sa.Column("room", sa.Text, nullable=False),
        sa.Column("room_key", sa.Text, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("cancelled", sa.Boolean, nullable=False),
        sa.Column("cancel_reason", sa.Text),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("scheduled_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_sessions_room_time", "sessions", ["room_key", "starts_at"])
    op.create_index("ix_sessions_scheme_time", "sessions", ["scheme_id", "starts_at"])
    op.create_index("ix_sessions_series", "sessions", ["series_id"])
    op.create_table(
        "session_leaders",
        sa.Column("session_id", sa.Text, primary_key=True),
        sa.Column("student_number", sa.Text, primary_key=True),
        sa.Column("scheme_id", sa.Text, nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("ends_at", TZ, nullable=False),
        sa.Column("cancelled", sa.Boolean, nullable=False),
        sa.Column("rostered", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index(
        "ix_session_leaders_leader_time", "session_leaders", ["student_number", "starts_at"]
    )
    op.create_table(
        "series",
        sa.Column("series_id", sa.Text, primary_key=True),
        sa.Column("scheme_id", sa.Text, nullable=False),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.Column("starts", sa.Time, nullable=False),
        sa.Column("ends", sa.Time, nullable=False),
        sa.Column("timezone", sa.Text, nullable=False),
        sa.Column("room", sa.Text, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("semesters", JSONB, nullable=False),
        sa.Column("skip_weeks", JSONB, nullable=False),
        sa.Column("session_ids", JSONB, nullable=False),
        sa.Column("planned_at", TZ, nullable=False),
    )
    op.create_index("ix_series_scheme", "series", ["scheme_id"])
    op.create_table(
        "leader_availability",
        sa.Column("academic_year", sa.Text, primary_key=True),
        sa.Column("student_number", sa.Text, primary_key=True),
        sa.Column("slots", JSONB, nullable=False),
        sa.Column("unavailable_dates", JSONB, nullable=False),
        sa.Column("stated_by", sa.Text, nullable=False),
        sa.Column("stated_at", TZ, nullable=False),
    )


def downgrade() -> None:
    for index, table in (
        ("ix_series_scheme", "series"),
        ("ix_session_leaders_leader_time", "session_leaders"),
        ("ix_sessions_series", "sessions"),
        ("ix_sessions_scheme_time", "sessions"),
        ("ix_sessions_room_time", "sessions"),
    ):
        op.drop_index(index, table_name=table)
    for table in (
        "leader_availability",
        "series",
        "session_leaders",
        "sessions",
        "scheme_leaders",
        "schemes",
    ):
        op.drop_table(table)
