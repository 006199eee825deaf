"""attendance: the evaluation's historical attendance (counts per student, module and year) and
module titles.

Revision ID: attendance_0110
"""

from alembic import op

revision = "attendance_0110"
down_revision = "attendance_0100"
branch_labels = None
depends_on = None

TABLES = [
    """
        CREATE TABLE evaluation_historical_attendance (
            academic_year   text NOT NULL,
            module          text NOT NULL,
            student_number  text NOT NULL,
            sessions        integer NOT NULL,
            PRIMARY KEY (academic_year, module, student_number)
        )
    """,
    """
        CREATE TABLE evaluation_module_titles (
            module          text PRIMARY KEY,
            title           text NOT NULL
        )
    """,
]

DROP = [
    "evaluation_module_titles",
    "evaluation_historical_attendance",
]


def upgrade() -> None:
    for statement in TABLES:
        op.execute(statement)


def downgrade() -> None:
    for table in DROP:
        op.execute(f"DROP TABLE {table}")
