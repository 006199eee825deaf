"""Toy totals table.

Revision ID: toy_0001
"""

from alembic import op

revision = "toy_0001"
down_revision = None
branch_labels = ("toy",)
depends_on = "kit_0001"


def upgrade() -> None:
    op.execute(
        "CREATE TABLE toy_totals (counter_id text PRIMARY KEY, total integer NOT NULL,"
        " events integer NOT NULL)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE toy_totals")
