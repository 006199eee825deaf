"""attendance: sessions seen from the sessions service, attendances, feedback.

Revision ID: attendance_0001
"""

from alembic import op

revision = "attendance_0001"
down_revision = None
branch_labels = ("attendance",)
depends_on = "kit_0001"

UPGRADE = [
    """
    CREATE TABLE attendance_schemes (
        scheme_id      text PRIMARY KEY,
        code           text NOT NULL,
        title          text NOT NULL,
        school         text NOT NULL,
        academic_year  text NOT NULL,
        modules        text[] NOT NULL,
        mode           text NOT NULL
    )
    """,
    """
    CREATE TABLE attendance_scheduled_sessions (
        session_id     text PRIMARY KEY,
        scheme_id      text NOT NULL,
        starts_at      timestamptz NOT NULL,
        ends_at        timestamptz NOT NULL,
        room           text NOT NULL,
        capacity       integer NOT NULL,
        teaching_week  text,
        cancelled      boolean NOT NULL,
        cancel_reason  text
    )
    """,
    "CREATE INDEX ix_attendance_scheduled_sessions_scheme"
    " ON attendance_scheduled_sessions (scheme_id)",
    "CREATE INDEX ix_attendance_scheduled_sessions_room"
    " ON attendance_scheduled_sessions (room, starts_at)",
    """
    CREATE TABLE attendance_rostered_leaders (
        session_id      text NOT NULL,
        student_number  text NOT NULL,
        PRIMARY KEY (session_id, student_number)
    )
    """,
    "CREATE INDEX ix_attendance_rostered_leaders_student"
    " ON attendance_rostered_leaders (student_number)",
    """
    CREATE TABLE attendance_attendances (
        session_id      text NOT NULL,
        student_number  text NOT NULL,
        scheme_id       text NOT NULL,
        role            text NOT NULL,
        method          text NOT NULL,
        signed_in_at    timestamptz NOT NULL,
        active          boolean NOT NULL,
        revoked_reason  text,
        PRIMARY KEY (session_id, student_number)
    )
    """,
    "CREATE INDEX ix_attendance_attendances_student ON attendance_attendances (student_number)",
    "CREATE INDEX ix_attendance_attendances_scheme ON attendance_attendances (scheme_id)",
    """
    CREATE TABLE attendance_feedback (
        feedback_id     text PRIMARY KEY,
        session_id      text NOT NULL,
        scheme_id       text NOT NULL,
        student_number  text,
        understanding   smallint NOT NULL,
        enjoyable       smallint NOT NULL,
        recommend       smallint NOT NULL,
        comment         text NOT NULL,
        submitted_at    timestamptz NOT NULL
    )
    """,
    "CREATE INDEX ix_attendance_feedback_session ON attendance_feedback (session_id)",
    "CREATE INDEX ix_attendance_feedback_scheme ON attendance_feedback (scheme_id)",
    """
    CREATE TABLE attendance_feedback_guards (
        guard       text PRIMARY KEY,
        session_id  text NOT NULL
    )
    """,
    # audit queries: who did what
    "CREATE INDEX ix_events_actor ON events (actor) WHERE actor IS NOT NULL",
]

TABLES = (
    "attendance_feedback_guards",
    "attendance_feedback",
    "attendance_attendances",
    "attendance_rostered_leaders",
    "attendance_scheduled_sessions",
    "attendance_schemes",
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_events_actor")
    for table in TABLES:
        op.execute(f"DROP TABLE {table}")
