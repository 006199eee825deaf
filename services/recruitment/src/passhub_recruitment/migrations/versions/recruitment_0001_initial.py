"""recruitment: campaigns, student records, applications, appointments, training.

Revision ID: recruitment_0001
"""

from alembic import op

revision = "recruitment_0001"
down_revision = None
branch_labels = ("recruitment",)
depends_on = "kit_0001"

UPGRADE = [
    """
        CREATE TABLE recruitment_campaigns (
            campaign_id             text PRIMARY KEY,
            academic_year           text NOT NULL,
            leader_title            text NOT NULL,
            organiser_title         text NOT NULL,
            participating_schools   jsonb NOT NULL,
            criteria                jsonb NOT NULL,
            min_exam_mark           numeric NOT NULL,
            core_training_hours     numeric NOT NULL,
            closes_on               date,
            status                  text NOT NULL,
            opened_at               timestamptz NOT NULL,
            closed_on               date
        )
    """,
    """
        CREATE TABLE recruitment_student_records (
            student_number  text PRIMARY KEY,
            name            text NOT NULL,
            email           text NOT NULL,
            school          text NOT NULL,
            programme       text NOT NULL,
            level           text NOT NULL,
            year_of_study   integer NOT NULL,
            marks           jsonb NOT NULL,
            import_id       text NOT NULL,
            line            integer NOT NULL
        )
    """,
    """
        CREATE TABLE recruitment_record_imports (
            import_id       text PRIMARY KEY,
            source          text NOT NULL,
            rows            integer NOT NULL,
            imported_at     timestamptz NOT NULL,
            imported_by     text,
            position        bigint NOT NULL
        )
    """,
    """
        CREATE TABLE recruitment_applications (
            application_id      text PRIMARY KEY,
            campaign_id         text NOT NULL,
            academic_year       text NOT NULL,
            student_number      text NOT NULL,
            name                text NOT NULL,
            email               text NOT NULL,
            school              text NOT NULL,
            role_sought         text NOT NULL,
            preferred_schemes   jsonb NOT NULL,
            declared            jsonb NOT NULL,
            status              text NOT NULL,
            submitted_at        timestamptz NOT NULL,
            submitted_position  bigint NOT NULL,
            outcomes            jsonb NOT NULL,
            mismatches          jsonb NOT NULL,
            essentials_met      integer NOT NULL,
            essentials_total    integer NOT NULL,
            desirables_met      integer NOT NULL,
            desirables_total    integer NOT NULL,
            pending             integer NOT NULL,
            unverified          integer NOT NULL,
            appointable         boolean NOT NULL,
            flagged             boolean NOT NULL,
            rejection_reasons   jsonb NOT NULL,
            schemes             jsonb NOT NULL,
            updated_at          timestamptz NOT NULL
        )
    """,
    "CREATE INDEX ix_recruitment_applications_campaign "
    "ON recruitment_applications (campaign_id, status)",
    "CREATE INDEX ix_recruitment_applications_student ON recruitment_applications (student_number)",
    """
        CREATE TABLE recruitment_appointments (
            scheme_id           text NOT NULL,
            student_number      text NOT NULL,
            academic_year       text NOT NULL,
            application_id      text NOT NULL,
            role                text NOT NULL,
            name                text NOT NULL,
            email               text NOT NULL,
            appointed_on        date NOT NULL,
            stood_down_from     date,
            stand_down_reason   text,
            PRIMARY KEY (scheme_id, student_number)
        )
    """,
    "CREATE INDEX ix_recruitment_appointments_student ON recruitment_appointments (student_number)",
    """
        CREATE TABLE recruitment_training_sessions (
            training_id     text PRIMARY KEY,
            academic_year   text NOT NULL,
            title           text NOT NULL,
            held_on         date NOT NULL,
            hours           numeric NOT NULL,
            core            boolean NOT NULL,
            completions     integer NOT NULL
        )
    """,
    """
        CREATE TABLE recruitment_training_completions (
            training_id     text NOT NULL,
            student_number  text NOT NULL,
            academic_year   text NOT NULL,
            hours           numeric NOT NULL,
            core            boolean NOT NULL,
            completed_on    date NOT NULL,
            PRIMARY KEY (training_id, student_number)
        )
    """,
    "CREATE INDEX ix_recruitment_training_completions_student "
    "ON recruitment_training_completions (student_number, academic_year)",
]

TABLES = (
    "recruitment_training_completions",
    "recruitment_training_sessions",
    "recruitment_appointments",
    "recruitment_applications",
    "recruitment_record_imports",
    "recruitment_student_records",
    "recruitment_campaigns",
)


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TABLE {table}")
