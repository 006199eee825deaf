"""recognition: awards, policies, activities, names and scheme titles, signing key.

Revision ID: recognition_0001
"""

from alembic import op

revision = "recognition_0001"
down_revision = None
branch_labels = ("recognition",)
depends_on = "kit_0001"

UPGRADE = [
    """
        CREATE TABLE rec_awards (
            award_id            text PRIMARY KEY,
            kind                text NOT NULL,
            academic_year       text NOT NULL,
            student_number      text NOT NULL,
            role                text NOT NULL,
            schemes             jsonb NOT NULL,
            sessions_delivered  integer NOT NULL,
            hours               double precision NOT NULL,
            policy_version      integer NOT NULL,
            verification_code   text NOT NULL,
            code_hash           text NOT NULL UNIQUE,
            activity_start      date,
            activity_end        date,
            granted_at          timestamptz NOT NULL,
            status              text NOT NULL,
            withdrawn_reason    text,
            withdrawn_at        timestamptz
        )
    """,
    "CREATE INDEX ix_rec_awards_year ON rec_awards (academic_year, kind, status)",
    "CREATE INDEX ix_rec_awards_student ON rec_awards (student_number)",
    """
        CREATE TABLE rec_policies (
            academic_year  text NOT NULL,
            version        integer NOT NULL,
            policy         jsonb NOT NULL,
            set_at         timestamptz NOT NULL,
            set_by         text,
            PRIMARY KEY (academic_year, version)
        )
    """,
    """
        CREATE TABLE rec_activities (
            activity_id     text PRIMARY KEY,
            academic_year   text NOT NULL,
            student_number  text NOT NULL,
            kind            text NOT NULL,
            held_on         date NOT NULL,
            hours           double precision NOT NULL,
            note            text NOT NULL,
            recorded_by     text,
            struck          boolean NOT NULL,
            struck_reason   text
        )
    """,
    "CREATE INDEX ix_rec_activities_leader ON rec_activities (academic_year, student_number)",
    """
        CREATE TABLE rec_people (
            academic_year   text NOT NULL,
            student_number  text NOT NULL,
            name            text NOT NULL,
            position        bigint NOT NULL,
            PRIMARY KEY (academic_year, student_number)
        )
    """,
    """
        CREATE TABLE rec_schemes (
            scheme_id      text PRIMARY KEY,
            code           text NOT NULL,
            title          text NOT NULL,
            school         text NOT NULL,
            academic_year  text NOT NULL,
            position       bigint NOT NULL
        )
    """,
    """
        CREATE TABLE rec_signing_keys (
            id               integer PRIMARY KEY,
            private_key_pem  text NOT NULL,
            created_at       timestamptz NOT NULL
        )
    """,
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for table in (
        "rec_signing_keys",
        "rec_schemes",
        "rec_people",
        "rec_activities",
        "rec_policies",
        "rec_awards",
    ):
        op.execute(f"DROP TABLE {table}")
