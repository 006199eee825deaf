"""sessions: initial schema.

Revision ID: sessions_0001
"""

revision = "sessions_0001"
down_revision = None
branch_labels = ("sessions",)
depends_on = "kit_0001"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
