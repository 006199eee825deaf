"""sessions: leaders' swap requests (`swap_requested`, `swap_answered`).

Revision ID: sessions_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "sessions_0002"
down_revision = "sessions_0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "session_swaps",
        sa.Column("swap_id", sa.Text, primary_key=True),
        sa.Column("session_id", sa.Text, nullable=False),
        sa.Column("scheme_id", sa.Text, nullable=False),
        sa.Column("out_number", sa.Text, nullable=False),
        sa.Column("incoming_number", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("requested_at", TZ, nullable=False),
        sa.Column("answered_at", TZ),
    )
    op.create_index("ix_session_swaps_out", "session_swaps", ["out_number"])
    op.create_index("ix_session_swaps_incoming", "session_swaps", ["incoming_number"])


def downgrade() -> None:
    op.drop_index("ix_session_swaps_incoming", table_name="session_swaps")
    op.drop_index("ix_session_swaps_out", table_name="session_swaps")
    op.drop_table("session_swaps")
