"""attendance: past attendance imported as session rows (one per session attended), beside the
counts: the rows, and each student's count of them next to the count imported.

Revision ID: attendance_0310
"""

from alembic import op

revision = "attendance_0310"
down_revision = "attendance_0300"
branch_labels = None
depends_on = None

UPGRADE = [
    """
        CREATE TABLE evaluation_historical_sessions (
            academic_year   text NOT NULL,
            module          text NOT NULL,
            student_number  text NOT NULL,
            session_date    date NOT NULL,
            session_ref     text NOT NULL,
            PRIMARY KEY (academic_year, module, student_number, session_date, session_ref)
        )
    """,
    # every count held so far was imported as a count
    "ALTER TABLE evaluation_historical_attendance ADD COLUMN counted integer",
    "UPDATE evaluation_historical_attendance SET counted = sessions",
    "ALTER TABLE evaluation_historical_attendance ADD COLUMN listed integer NOT NULL DEFAULT 0",
    "ALTER TABLE evaluation_historical_attendance ALTER COLUMN listed DROP DEFAULT",
]

DOWNGRADE = [
    "DROP TABLE evaluation_historical_sessions",
    "DELETE FROM evaluation_historical_attendance WHERE counted IS NULL",
    "UPDATE evaluation_historical_attendance SET sessions = counted",
    "ALTER TABLE evaluation_historical_attendance DROP COLUMN listed",
    "ALTER TABLE evaluation_historical_attendance DROP COLUMN counted",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
