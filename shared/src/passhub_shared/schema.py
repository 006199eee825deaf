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
    Identity,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

kit_metadata = MetaData()

events = Table(
    "events",
    kit_metadata,
    Column("position", BigInteger, Identity(always=False), primary_key=True),
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
)

outbox = Table(
    "outbox",
    kit_metadata,
    Column("position", BigInteger, primary_key=True),
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

#: the concurrency-conflict constraint, named so errors can be told apart
STREAM_VERSION_CONSTRAINT = "uq_events_stream_version"
OUTBOX_CHANNEL = "passhub_outbox"
