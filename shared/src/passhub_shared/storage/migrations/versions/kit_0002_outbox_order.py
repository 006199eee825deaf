"""Outbox rows carry their transaction id, indexed in publishing order.

The relay pages through `outbox (tx_id, position)` with a LIMIT instead of joining and sorting
the whole outbox for every batch, so draining a backlog stays linear in its size. An outbox row
is written in the same statement as its event, so the default gives it the same transaction id.

Revision ID: kit_0002
"""

from alembic import op

revision = "kit_0002"
down_revision = "kit_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE outbox ADD COLUMN tx_id xid8")
    op.execute("UPDATE outbox o SET tx_id = e.tx_id FROM events e WHERE e.position = o.position")
    op.execute("ALTER TABLE outbox ALTER COLUMN tx_id SET DEFAULT pg_current_xact_id()")
    op.execute("ALTER TABLE outbox ALTER COLUMN tx_id SET NOT NULL")
    op.execute("CREATE INDEX ix_outbox_order ON outbox (tx_id, position)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_outbox_order")
    op.execute("ALTER TABLE outbox DROP COLUMN tx_id")
