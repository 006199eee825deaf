"""The kit's tables, identical in every service's database.

- `events`: the local log. Our own events (origin = this service) and copies of the events we
  consumed from other services (origin = the publisher). `position` is assigned at insert;
  `tx_id` is the inserting transaction, which lets a reader hold back at gaps left by
  transactions still open (see `relay`).
- `outbox`: positions of our public events not yet acknowledged by JetStream, with the id of the
  transaction that wrote them (migration kit_0002), which orders publishing.
- `dead_letters`: consumed messages that kept failing, parked for an operator.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.types import UserDefinedType

kit_metadata = MetaData()


class Xid8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id (`pg_current_xact_id()`)."""

    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return "xid8"


# reflected as this type rather than an unknown one (the migrations check compares them)
ischema_names["xid8"] = Xid8


events = Table(
    "events",
    kit_metadata,
    Column("position", BigInteger, Identity(always=False), primary_key=True),
    Column("tx_id", Xid8, nullable=False, server_default=text("pg_current_xact_id()")),
    Column("id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("stream_id", Text, nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("type", Text, nullable=False),
    Column("origin", Text, nullable=False),
    Column("data", JSONB, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("correlation_id", Text),
    Column("causation_id", Text),
    Column("traceparent", Text),
    Column("actor", Text),
    UniqueConstraint("origin", "stream_id", "stream_version", name="uq_events_stream_version"),
    Index("ix_events_type", "type"),
)

outbox = Table(
    "outbox",
    kit_metadata,
    Column("position", BigInteger, ForeignKey("events.position"), primary_key=True),
    # an outbox row is written in its event's statement: the same transaction id
    Column("tx_id", Xid8, nullable=False, server_default=text("pg_current_xact_id()")),
    Index("ix_outbox_order", "tx_id", "position"),
)

dead_letters = Table(
    "dead_letters",
    kit_metadata,
    Column("event_id", Text, primary_key=True),
    Column("consumer", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("type", Text),
    Column("payload", LargeBinary, nullable=False),
    Column("error", Text, nullable=False),
    Column("deliveries", Integer, nullable=False),
    Column("parked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

#: one data key per person, wrapped by a master key (`passhub_shared.personaldata.keys`)
subject_keys = Table(
    "subject_keys",
    kit_metadata,
    Column("subject", Text, primary_key=True),
    Column("key_id", Text, nullable=False, unique=True),
    Column("wrapped", LargeBinary, nullable=False),
    Column("master_id", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("shared_at", DateTime(timezone=True)),
    Index("ix_subject_keys_unshared", "key_id", postgresql_where=text("shared_at IS NULL")),
)

#: a keyed digest of each erased person, never the person
erased_subjects = Table(
    "erased_subjects",
    kit_metadata,
    Column("digest", LargeBinary, primary_key=True),
    Column("key_id", Text, nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("purged_at", DateTime(timezone=True)),
    Index("ix_erased_subjects_key", "key_id"),
)

#: erasures, subject access exports and retention runs: who, when, why; never whom
privacy_audit = Table(
    "privacy_audit",
    kit_metadata,
    Column("id", BigInteger, Identity(always=False), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("action", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("people", Integer, nullable=False),
    Column("detail", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
)

#: the concurrency-conflict constraint, named so errors can be told apart
STREAM_VERSION_CONSTRAINT = "uq_events_stream_version"
OUTBOX_CHANNEL = "passhub_outbox"
