"""recruitment: initial schema.

Revision ID: recruitment_0001
"""

revision = "recruitment_0001"
down_revision = None
branch_labels = ("recruitment",)
depends_on = "kit_0001"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
