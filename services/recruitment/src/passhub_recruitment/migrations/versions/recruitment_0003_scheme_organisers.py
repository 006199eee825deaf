"""recruitment: who organises each scheme (from the sessions service's `scheme_launched` and
`scheme_amended`), so that an organiser sees the applicants to their own schemes only.

Rows of schemes launched before this revision have no organisers until `passhub replay
recruitment` folds the consumed events again.

Revision ID: recruitment_0003
"""

from alembic import op

revision = "recruitment_0003"
down_revision = "recruitment_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE recruitment_schemes ADD COLUMN organisers jsonb NOT NULL DEFAULT '[]'::jsonb"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE recruitment_schemes DROP COLUMN organisers")
