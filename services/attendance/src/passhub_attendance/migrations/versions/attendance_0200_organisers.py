"""attendance: who organises each scheme, so an organiser acts only on their own schemes.

Revision ID: attendance_0200
"""

from alembic import op

revision = "attendance_0200"
down_revision = "attendance_0110"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE attendance_scheme_organisers (
            scheme_id  text NOT NULL,
            sub        text NOT NULL,
            source     text NOT NULL,
            PRIMARY KEY (scheme_id, sub, source)
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_attendance_scheme_organisers_sub ON attendance_scheme_organisers (sub)"
    )
    # The organisers named at launch are in the log already (recorded when consumed).
    op.execute(
        """
        INSERT INTO attendance_scheme_organisers (scheme_id, sub, source)
        SELECT DISTINCT data->>'scheme_id', organiser, 'scheme'
        FROM events, jsonb_array_elements_text(data->'organisers') AS organiser
        WHERE type = 'passhub.sessions.scheme_launched.v1'
        ON CONFLICT DO NOTHING
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE attendance_scheme_organisers")
