"""attendance: initial schema.

Revision ID: attendance_0001
"""

revision = "attendance_0001"
down_revision = None
branch_labels = ("attendance",)
depends_on = "kit_0001"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
