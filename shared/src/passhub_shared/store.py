"""The event store on PostgreSQL.

`append` writes new events of one stream with optimistic concurrency (the unique
`(origin, stream_id, stream_version)` constraint: the second of two writers at the same version
gets `ConcurrencyConflict`), puts the public ones in the outbox, and updates inline projections,
all in the caller's transaction. `record` does the same for events consumed from other
services, where the event id makes a redelivery a no-op.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_shared import metrics
from passhub_shared.events import Event, Metadata, Recorded, new_event_id, utcnow
from passhub_shared.projections import Projection, apply_all
from passhub_shared.schema import STREAM_VERSION_CONSTRAINT, events


class ConcurrencyConflict(Exception):
    """Another writer appended to the stream first."""

    def __init__(self, stream_id: str, expected_version: int) -> None:
        super().__init__(
            f"stream {stream_id!r} changed since version {expected_version}; reload and retry"
        )
        self.stream_id = stream_id
        self.expected_version = expected_version


_SELECT = (
    "SELECT position, id, stream_id, stream_version, type, origin, data, occurred_at,"
    " correlation_id, causation_id, traceparent, actor FROM events"
)

# One round trip appends the events and queues the public ones in the outbox.
_APPEND = """
WITH new AS (
    INSERT INTO events (id, stream_id, stream_version, type, origin, data, occurred_at,
                        correlation_id, causation_id, traceparent, actor)
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[],
                         $6::text[]::jsonb[], $7::timestamptz[], $8::text[], $9::text[],
                         $10::text[], $11::text[])
    RETURNING position, id
), queued AS (
    INSERT INTO outbox (position) SELECT position FROM new WHERE id = ANY($12::uuid[])
)
SELECT position, id FROM new
"""

# Consumed events: only a repeated event id is a redelivery. A different event claiming a
# stream version that is taken is an error the consumer must see (and, if it persists, park).
_RECORD = """
INSERT INTO events (id, stream_id, stream_version, type, origin, data, occurred_at,
                    correlation_id, causation_id, traceparent, actor)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[],
                     $6::text[]::jsonb[], $7::timestamptz[], $8::text[], $9::text[],
                     $10::text[], $11::text[])
ON CONFLICT (id) DO NOTHING
RETURNING position, id
"""


def _row_to_recorded(row: Any) -> Recorded:
    return Recorded(
        position=row[0],
        id=row[1],
        stream_id=row[2],
        stream_version=row[3],
        type=row[4],
        origin=row[5],
        data=row[6],
        occurred_at=row[7],
        correlation_id=row[8],
        causation_id=row[9],
        traceparent=row[10],
        actor=row[11],
    )


def _columns(batch: Sequence[Recorded]) -> tuple[list[Any], ...]:
    """The events as one array per column, for `unnest`."""
    return (
        [e.id for e in batch],
        [e.stream_id for e in batch],
        [e.stream_version for e in batch],
        [e.type for e in batch],
        [e.origin for e in batch],
        [orjson.dumps(e.data).decode() for e in batch],
        [e.occurred_at for e in batch],
        [e.correlation_id for e in batch],
        [e.causation_id for e in batch],
        [e.traceparent for e in batch],
        [e.actor for e in batch],
    )


class EventStore:
    def __init__(self, service: str, projections: Sequence[Projection] = ()) -> None:
        self.service = service
        self.projections = list(projections)

    async def append(
        self,
        conn: AsyncConnection,
        stream_id: str,
        expected_version: int,
        new_events: Sequence[Event],
        metadata: Metadata | None = None,
        occurred_at: datetime | None = None,
    ) -> list[Recorded]:
        """Append to `stream_id`, which must be at `expected_version` (0 for a new stream)."""
        if not new_events:
            return []
        meta = metadata or Metadata()
        when = occurred_at or utcnow()
        pending = [
            Recorded(
                id=new_event_id(),
                stream_id=stream_id,
                stream_version=expected_version + i,
                type=event.type_name(),
                origin=self.service,
                data=event.model_dump(mode="json"),
                occurred_at=when,
                correlation_id=meta.correlation_id,
                causation_id=meta.causation_id,
                traceparent=meta.traceparent,
                actor=meta.actor,
            )
            for i, event in enumerate(new_events, start=1)
        ]
        public_ids = [r.id for r, event in zip(pending, new_events, strict=True) if event.public]
        try:
            result = await conn.exec_driver_sql(_APPEND, (*_columns(pending), public_ids))
        except IntegrityError as exc:
            if STREAM_VERSION_CONSTRAINT in str(exc.orig):
                raise ConcurrencyConflict(stream_id, expected_version) from exc
            raise
        positions = {row.id: row.position for row in result}
        recorded = [replace(e, position=positions[e.id]) for e in pending]
        metrics.EVENTS_APPENDED.labels(self.service).inc(len(recorded))
        await apply_all(conn, self.projections, recorded)
        return recorded

    async def record(self, conn: AsyncConnection, received: Sequence[Recorded]) -> list[Recorded]:
        """Keep copies of consumed events; returns only those not seen before, projected."""
        if not received:
            return []
        unique = list({e.id: e for e in reversed(received)}.values())[::-1]  # first copy wins
        result = await conn.exec_driver_sql(_RECORD, _columns(unique))
        fresh = {row.id: row.position for row in result}
        new = [replace(e, position=fresh[e.id]) for e in unique if e.id in fresh]
        await apply_all(conn, self.projections, new)
        return new

    async def load(self, conn: AsyncConnection, stream_id: str) -> list[Recorded]:
        """Our own events of one stream, in version order."""
        rows = await conn.exec_driver_sql(
            _SELECT + " WHERE origin = $1 AND stream_id = $2 ORDER BY stream_version",
            (self.service, stream_id),
        )
        return [_row_to_recorded(r) for r in rows]

    async def version(self, conn: AsyncConnection, stream_id: str) -> int:
        """Current version of one of our streams (0 if it has no events), without loading it."""
        value = await conn.execute(
            select(func.max(events.c.stream_version)).where(
                events.c.origin == self.service, events.c.stream_id == stream_id
            )
        )
        return int(value.scalar_one() or 0)

    async def load_foreign(
        self, conn: AsyncConnection, types: Sequence[str], **data_equals: str
    ) -> list[Recorded]:
        """Recorded events of the given types whose data fields equal the given values."""
        sql = _SELECT + " WHERE type = ANY($1::text[])"
        params: list[Any] = [list(types)]
        for key, value in data_equals.items():
            params.extend([key, value])
            sql += f" AND data ->> ${len(params) - 1} = ${len(params)}"
        rows = await conn.exec_driver_sql(sql + " ORDER BY position", tuple(params))
        return [_row_to_recorded(r) for r in rows]

    async def read_all(
        self, conn: AsyncConnection, after: int = 0, batch_size: int = 5000
    ) -> AsyncIterator[list[Recorded]]:
        """Every event in the local log, in position order, in batches (keyset pages, so the
        caller may write on the same connection between batches)."""
        last = after
        while True:
            rows = (
                await conn.exec_driver_sql(
                    _SELECT + " WHERE position > $1 ORDER BY position LIMIT $2", (last, batch_size)
                )
            ).all()
            if not rows:
                return
            batch = [_row_to_recorded(r) for r in rows]
            last = batch[-1].position
            yield batch

    async def count(self, conn: AsyncConnection) -> int:
        return int((await conn.execute(text("SELECT count(*) FROM events"))).scalar_one())
