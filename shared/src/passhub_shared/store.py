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

from sqlalchemy import func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_shared.events import Event, Metadata, Recorded, new_event_id, utcnow
from passhub_shared.projections import Projection, apply_all
from passhub_shared.schema import STREAM_VERSION_CONSTRAINT, events, outbox


class ConcurrencyConflict(Exception):
    """Another writer appended to the stream first."""

    def __init__(self, stream_id: str, expected_version: int) -> None:
        super().__init__(
            f"stream {stream_id!r} changed since version {expected_version}; reload and retry"
        )
        self.stream_id = stream_id
        self.expected_version = expected_version


_COLUMNS = (
    events.c.position,
    events.c.id,
    events.c.stream_id,
    events.c.stream_version,
    events.c.type,
    events.c.origin,
    events.c.data,
    events.c.occurred_at,
    events.c.correlation_id,
    events.c.causation_id,
    events.c.traceparent,
    events.c.actor,
)


def _row_to_recorded(row: Any) -> Recorded:
    return Recorded(
        id=row.id,
        stream_id=row.stream_id,
        stream_version=row.stream_version,
        type=row.type,
        origin=row.origin,
        data=row.data,
        occurred_at=row.occurred_at,
        position=row.position,
        correlation_id=row.correlation_id,
        causation_id=row.causation_id,
        traceparent=row.traceparent,
        actor=row.actor,
    )


def _to_row(event: Recorded) -> dict[str, Any]:
    return {
        "id": event.id,
        "stream_id": event.stream_id,
        "stream_version": event.stream_version,
        "type": event.type,
        "origin": event.origin,
        "data": event.data,
        "occurred_at": event.occurred_at,
        "correlation_id": event.correlation_id,
        "causation_id": event.causation_id,
        "traceparent": event.traceparent,
        "actor": event.actor,
    }


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
        try:
            result = await conn.execute(
                insert(events).returning(events.c.position, sort_by_parameter_order=True),
                [_to_row(e) for e in pending],
            )
        except IntegrityError as exc:
            if STREAM_VERSION_CONSTRAINT in str(exc.orig):
                raise ConcurrencyConflict(stream_id, expected_version) from exc
            raise
        positions = [row.position for row in result]
        recorded = [replace(e, position=p) for e, p in zip(pending, positions, strict=True)]
        public = [
            r.position for r, event in zip(recorded, new_events, strict=True) if type(event).public
        ]
        if public:
            await conn.execute(insert(outbox), [{"position": p} for p in public])
        await apply_all(conn, self.projections, recorded)
        return recorded

    async def record(self, conn: AsyncConnection, received: Sequence[Recorded]) -> list[Recorded]:
        """Keep copies of consumed events; returns only those not seen before, projected."""
        if not received:
            return []
        unique = list({e.id: e for e in reversed(received)}.values())[::-1]  # first copy wins
        # Only a repeated event id is a redelivery. A different event claiming a stream version
        # that is taken is an error the consumer must see (and, if it persists, park).
        stmt = (
            pg_insert(events)
            .on_conflict_do_nothing(index_elements=[events.c.id])
            .returning(events.c.position, events.c.id)
        )
        result = await conn.execute(stmt, [_to_row(e) for e in unique])
        fresh = {row.id: row.position for row in result if row.position is not None}
        new = [replace(e, position=fresh[e.id]) for e in unique if e.id in fresh]
        await apply_all(conn, self.projections, new)
        return new

    async def load(self, conn: AsyncConnection, stream_id: str) -> list[Recorded]:
        """Our own events of one stream, in version order."""
        rows = await conn.execute(
            select(*_COLUMNS)
            .where(events.c.origin == self.service, events.c.stream_id == stream_id)
            .order_by(events.c.stream_version)
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
        stmt = select(*_COLUMNS).where(events.c.type.in_(list(types)))
        for key, value in data_equals.items():
            stmt = stmt.where(events.c.data[key].astext == value)
        rows = await conn.execute(stmt.order_by(events.c.position))
        return [_row_to_recorded(r) for r in rows]

    async def read_all(
        self, conn: AsyncConnection, after: int = 0, batch_size: int = 5000
    ) -> AsyncIterator[list[Recorded]]:
        """Every event in the local log, in position order, in batches (keyset pages, so the
        caller may write on the same connection between batches)."""
        last = after
        while True:
            rows = (
                await conn.execute(
                    select(*_COLUMNS)
                    .where(events.c.position > last)
                    .order_by(events.c.position)
                    .limit(batch_size)
                )
            ).all()
            if not rows:
                return
            batch = [_row_to_recorded(r) for r in rows]
            last = batch[-1].position
            yield batch

    async def count(self, conn: AsyncConnection) -> int:
        return int((await conn.execute(text("SELECT count(*) FROM events"))).scalar_one())
