"""recruitment: the schemes launched by the sessions service, which appointments must name.

Revision ID: recruitment_0002
"""

from alembic import op

revision = "recruitment_0002"
down_revision = "recruitment_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE recruitment_schemes (
            scheme_id       text PRIMARY KEY,
            academic_year   text NOT NULL,
            code            text NOT NULL,
            title           text NOT NULL,
            school          text NOT NULL,
            position        bigint NOT NULL
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE recruitment_schemes")
