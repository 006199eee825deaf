"""recognition: an award re-issued with new figures after a correction (`award_revised`).

Revision ID: recognition_0002
"""

from alembic import op

revision = "recognition_0002"
down_revision = "recognition_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE rec_awards ADD COLUMN revised_at timestamptz")
    op.execute("ALTER TABLE rec_awards ADD COLUMN revised_reason text")


def downgrade() -> None:
    op.execute("ALTER TABLE rec_awards DROP COLUMN revised_reason")
    op.execute("ALTER TABLE rec_awards DROP COLUMN revised_at")
