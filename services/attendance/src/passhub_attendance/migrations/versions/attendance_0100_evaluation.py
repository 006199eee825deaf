"""attendance: the evaluation's read models (participation vs outcomes, survey results).

Revision ID: attendance_0100
"""

from alembic import op

revision = "attendance_0100"
down_revision = "attendance_0001"
branch_labels = None
depends_on = None

TABLES = [
    """
        CREATE TABLE evaluation_schemes (
            scheme_id       text PRIMARY KEY,
            code            text NOT NULL,
            title           text NOT NULL,
            academic_year   text NOT NULL
        )
    """,
    """
        CREATE TABLE evaluation_sessions (
            session_id      text PRIMARY KEY,
            scheme_id       text NOT NULL,
            starts_at       timestamptz NOT NULL
        )
    """,
    """
        CREATE TABLE evaluation_scheme_modules (
            scheme_id       text NOT NULL,
            module          text NOT NULL,
            academic_year   text NOT NULL,
            PRIMARY KEY (scheme_id, module)
        )
    """,
    """
        CREATE TABLE evaluation_attendances (
            session_id      text NOT NULL,
            student_number  text NOT NULL,
            scheme_id       text NOT NULL,
            PRIMARY KEY (session_id, student_number)
        )
    """,
    """
        CREATE TABLE evaluation_module_attendance (
            academic_year   text NOT NULL,
            module          text NOT NULL,
            student_number  text NOT NULL,
            sessions        integer NOT NULL,
            PRIMARY KEY (academic_year, module, student_number)
        )
    """,
    """
        CREATE TABLE evaluation_enrolments (
            academic_year    text NOT NULL,
            module           text NOT NULL,
            student_number   text NOT NULL,
            prior_attainment double precision,
            prior_measure    text,
            PRIMARY KEY (academic_year, module, student_number)
        )
    """,
    """
        CREATE TABLE evaluation_results (
            academic_year   text NOT NULL,
            module          text NOT NULL,
            student_number  text NOT NULL,
            mark            double precision,
            grade           text,
            passed          boolean,
            withdrawn       boolean NOT NULL,
            PRIMARY KEY (academic_year, module, student_number)
        )
    """,
    """
        CREATE TABLE evaluation_feedback_tallies (
            session_id      text NOT NULL,
            item            text NOT NULL,
            score           integer NOT NULL,
            scheme_id       text NOT NULL,
            responses       integer NOT NULL,
            PRIMARY KEY (session_id, item, score)
        )
    """,
    "CREATE INDEX ix_evaluation_feedback_tallies_scheme ON evaluation_feedback_tallies (scheme_id)",
    """
        CREATE TABLE evaluation_feedback_comments (
            feedback_id     text PRIMARY KEY,
            session_id      text NOT NULL,
            scheme_id       text NOT NULL,
            comment         text NOT NULL,
            submitted_at    timestamptz NOT NULL
        )
    """,
]

DROP = [
    "evaluation_feedback_comments",
    "evaluation_feedback_tallies",
    "evaluation_results",
    "evaluation_enrolments",
    "evaluation_module_attendance",
    "evaluation_attendances",
    "evaluation_scheme_modules",
    "evaluation_sessions",
    "evaluation_schemes",
]


def upgrade() -> None:
    for statement in TABLES:
        op.execute(statement)


def downgrade() -> None:
    for table in DROP:
        op.execute(f"DROP TABLE {table}")
