"""recognition: awards runs and certificate batches worked off the request, with their
progress (`rec_award_runs`, `rec_certificate_batches`).

Revision ID: recognition_0003
"""

from alembic import op

revision = "recognition_0003"
down_revision = "recognition_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE rec_award_runs (
            run_id text PRIMARY KEY,
            academic_year text NOT NULL,
            state text NOT NULL,
            requested_by text,
            requested_at timestamptz NOT NULL,
            started_at timestamptz,
            finished_at timestamptz,
            policy_version integer,
            leaders jsonb,
            leaders_total integer NOT NULL,
            leaders_done integer NOT NULL,
            granted integer NOT NULL,
            withheld integer NOT NULL,
            unchanged integer NOT NULL,
            error text
        )
        """
    )
    op.execute(
        "CREATE UNIQUE INDEX ux_rec_award_runs_under_way ON rec_award_runs (academic_year) "
        "WHERE state IN ('queued', 'running')"
    )
    op.execute(
        "CREATE INDEX ix_rec_award_runs_year ON rec_award_runs (academic_year, requested_at)"
    )
    op.execute(
        """
        CREATE TABLE rec_certificate_batches (
            batch_id text PRIMARY KEY,
            academic_year text NOT NULL,
            state text NOT NULL,
            requested_by text,
            requested_at timestamptz NOT NULL,
            started_at timestamptz,
            finished_at timestamptz,
            pages_total integer NOT NULL,
            pages_done integer NOT NULL,
            pdf bytea,
            error text
        )
        """
    )
    op.execute(
        "CREATE UNIQUE INDEX ux_rec_certificate_batches_under_way "
        "ON rec_certificate_batches (academic_year) WHERE state IN ('queued', 'running')"
    )
    op.execute(
        "CREATE INDEX ix_rec_certificate_batches_year "
        "ON rec_certificate_batches (academic_year, requested_at)"
    )


def downgrade() -> None:
    op.execute("DROP TABLE rec_certificate_batches")
    op.execute("DROP TABLE rec_award_runs")
