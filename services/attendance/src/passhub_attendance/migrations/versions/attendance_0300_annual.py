"""attendance: the annual report's read models (scheme modes, sessions run and cancelled,
leaders' sessions, appointments, training, awards, graduate outcomes).

Revision ID: attendance_0300
"""

from alembic import op

revision = "attendance_0300"
down_revision = "attendance_0200"
branch_labels = None
depends_on = None

TABLES = [
    """
        CREATE TABLE annual_schemes (
            scheme_id       text PRIMARY KEY,
            academic_year   text NOT NULL,
            code            text NOT NULL,
            mode            text NOT NULL
        )
    """,
    """
        CREATE TABLE annual_sessions (
            session_id      text PRIMARY KEY,
            scheme_id       text,
            starts_at       timestamptz,
            teaching_week   text,
            cancelled       boolean NOT NULL
        )
    """,
    "CREATE INDEX annual_sessions_scheme ON annual_sessions (scheme_id)",
    """
        CREATE TABLE annual_leader_sessions (
            session_id      text NOT NULL,
            student_number  text NOT NULL,
            scheme_id       text NOT NULL,
            PRIMARY KEY (session_id, student_number)
        )
    """,
    """
        CREATE TABLE annual_appointments (
            academic_year   text NOT NULL,
            student_number  text NOT NULL,
            role            text NOT NULL,
            schemes         text[] NOT NULL,
            PRIMARY KEY (academic_year, student_number, role)
        )
    """,
    """
        CREATE TABLE annual_stood_down (
            academic_year   text NOT NULL,
            student_number  text NOT NULL,
            PRIMARY KEY (academic_year, student_number)
        )
    """,
    """
        CREATE TABLE annual_training (
            academic_year   text NOT NULL,
            student_number  text NOT NULL,
            PRIMARY KEY (academic_year, student_number)
        )
    """,
    """
        CREATE TABLE annual_awards (
            academic_year   text NOT NULL,
            student_number  text NOT NULL,
            kind            text NOT NULL,
            status          text NOT NULL,
            PRIMARY KEY (academic_year, student_number, kind)
        )
    """,
    """
        CREATE TABLE annual_graduate_outcomes (
            academic_year   text NOT NULL,
            student_number  text NOT NULL,
            outcome         text NOT NULL,
            PRIMARY KEY (academic_year, student_number)
        )
    """,
]

DROP = [
    "annual_graduate_outcomes",
    "annual_awards",
    "annual_training",
    "annual_stood_down",
    "annual_appointments",
    "annual_leader_sessions",
    "annual_sessions",
    "annual_schemes",
]


def upgrade() -> None:
    for statement in TABLES:
        op.execute(statement)


def downgrade() -> None:
    for table in DROP:
        op.execute(f"DROP TABLE {table}")
