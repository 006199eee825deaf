"""recognition: initial schema.

Revision ID: recognition_0001
"""

revision = "recognition_0001"
down_revision = None
branch_labels = ("recognition",)
depends_on = "kit_0001"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
