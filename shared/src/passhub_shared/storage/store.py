"""The event store on PostgreSQL.

`append` writes new events of one stream with optimistic concurrency (the unique
`(origin, stream_id, stream_version)` constraint: the second of two writers at the same version
gets `ConcurrencyConflict`), puts the public ones in the outbox, and updates inline projections,
all in the caller's transaction. `record` does the same for events consumed from other
services, where the event id makes a redelivery a no-op.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import orjson
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_shared.messages.events import Event, Metadata, Recorded, new_event_id, utcnow
from passhub_shared.operations import metrics
from passhub_shared.personaldata.keys import DataKey
from passhub_shared.personaldata.personal import Privacy
from passhub_shared.storage import driver
from passhub_shared.storage.projections import Projection, apply_all
from passhub_shared.storage.schema import STREAM_VERSION_CONSTRAINT, events
from passhub_shared.web.offload import off_loop


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

# The new events travel as one JSON array (orjson writes `Recorded` dataclasses directly), which
# PostgreSQL unpacks by field name. Binding one array per column instead costs the client about
# ten microseconds per event in the driver's array encoder.
_ROWS = """json_to_recordset($1::json) AS r(
    id uuid, stream_id text, stream_version int, type text, origin text, data jsonb,
    occurred_at timestamptz, correlation_id text, causation_id text, traceparent text,
    actor text)"""
_COLUMNS = """id, stream_id, stream_version, type, origin, data, occurred_at, correlation_id,
    causation_id, traceparent, actor"""

# One round trip appends the events and queues the public ones in the outbox.
_APPEND = f"""
WITH new AS (
    INSERT INTO events ({_COLUMNS})
    SELECT {_COLUMNS} FROM {_ROWS}
    RETURNING position, id
), queued AS (
    INSERT INTO outbox (position) SELECT position FROM new WHERE id = ANY($2::uuid[])
)
SELECT position, id FROM new
"""

# Consumed events: only a repeated event id is a redelivery. A different event claiming a
# stream version that is taken is an error the consumer must see (and, if it persists, park).
_RECORD = f"""
INSERT INTO events ({_COLUMNS})
SELECT {_COLUMNS} FROM {_ROWS}
ON CONFLICT (id) DO NOTHING
RETURNING position, id
"""


def _rows_json(batch: Sequence[Recorded]) -> str:
    """The events as the JSON array `_ROWS` reads (a naive time is taken as UTC; ids loaded by
    asyncpg are its own UUID type, which orjson writes through `str`)."""
    return orjson.dumps(list(batch), default=str, option=orjson.OPT_NAIVE_UTC).decode()


def _positioned(e: Recorded, position: int) -> Recorded:
    """`e` at `position` (positional construction: `dataclasses.replace` costs five times more)."""
    return Recorded(
        e.id, e.stream_id, e.stream_version, e.type, e.origin, e.data, e.occurred_at, position,
        e.correlation_id, e.causation_id, e.traceparent, e.actor,
    )  # fmt: skip


_LOAD = (
    _SELECT
    + " WHERE origin = $1 AND stream_id = ANY($2::text[]) ORDER BY stream_id, stream_version"
)

# `load_many` with the keys of the people a batch is about, in one round trip: event rows, then
# rows with no position: a key (subject, key id in `type`, master id in `origin`, wrapped key) or
# a tombstone (key id in `type`, digest).
_LOAD_WITH_KEYS = """
SELECT position, id, stream_id, stream_version, type, origin, data, occurred_at, correlation_id,
    causation_id, traceparent, actor, NULL::bytea AS wrapped, NULL::bytea AS digest
FROM events WHERE origin = $1 AND stream_id = ANY($2::text[])
UNION ALL
SELECT NULL, NULL, subject, NULL, key_id, master_id, NULL, NULL, NULL, NULL, NULL, NULL, wrapped,
    NULL FROM subject_keys WHERE subject = ANY($3::text[])
UNION ALL
SELECT NULL, NULL, NULL, NULL, key_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, digest
    FROM erased_subjects WHERE digest = ANY($4::bytea[])
ORDER BY 3, 4
"""

# The log as replay reads it: the body as text, parsed with orjson in one step rather than
# through the driver's jsonb codec.
_SCAN = (
    "SELECT id, stream_id, stream_version, type, origin, data::text, occurred_at, position,"
    " correlation_id, causation_id, traceparent, actor FROM events ORDER BY position"
)


def _row_to_recorded(row: Any) -> Recorded:
    """A row of `_SELECT` as a `Recorded` (positional: a keyword construction costs a command
    with a few events of history some microseconds more)."""
    return Recorded(
        row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[0],
        row[8], row[9], row[10], row[11],
    )  # fmt: skip


@dataclass(frozen=True)
class Append:
    """New events for one stream, which must be at `expected_version` (0 for a new stream)."""

    stream_id: str
    expected_version: int
    events: Sequence[Event]
    metadata: Metadata | None = None


_NO_METADATA = Metadata()

# PostgreSQL names the clashing key: "Key (origin, stream_id, stream_version)=(svc, s-1, 2) ..."
_CLASH = re.compile(r"\(origin, stream_id, stream_version\)=\([^,]*, (.*), (\d+)\)")


def _conflict(exc: IntegrityError, appends: Sequence[Append]) -> ConcurrencyConflict:
    detail = getattr(exc.orig, "detail", None) or str(exc.orig)
    match = _CLASH.search(detail)
    clashing = match.group(1) if match else None
    for item in appends:
        if item.stream_id == clashing:
            return ConcurrencyConflict(item.stream_id, item.expected_version)
    return ConcurrencyConflict(appends[0].stream_id, appends[0].expected_version)


class EventStore:
    def __init__(
        self,
        service: str,
        projections: Sequence[Projection] = (),
        privacy: Privacy | None = None,
    ) -> None:
        self.service = service
        self.projections = list(projections)
        #: seals personal fields before they are written and opens them when read
        #: (`passhub_shared.personaldata.personal`); None keeps bodies as they are
        self.privacy = privacy
        self._appended = metrics.EVENTS_APPENDED.labels(service)

    async def _sealed(
        self, conn: AsyncConnection, batch: list[Recorded], *, large: bool = False
    ) -> tuple[list[Recorded], list[Recorded]]:
        """What to write, and what the projections see (`Privacy.seal`)."""
        if self.privacy is None:
            return batch, batch
        return await self.privacy.seal(conn, batch, large=large)

    async def pseudonyms(self, conn: AsyncConnection, subjects: Iterable[str]) -> dict[str, str]:
        """A stable name for each person that is not their identifier (their key id), for
        stream ids: see `Privacy.pseudonyms`. Without privacy, the identifiers themselves."""
        if self.privacy is None:
            return {s: s for s in subjects}
        return await self.privacy.pseudonyms(conn, subjects)

    async def pseudonym(self, conn: AsyncConnection, subject: str) -> str:
        return (await self.pseudonyms(conn, [subject]))[subject]

    async def _opened(self, conn: Any, batch: list[Recorded]) -> list[Recorded]:
        return batch if self.privacy is None else await self.privacy.open(conn, batch)

    async def append(
        self,
        conn: AsyncConnection,
        stream_id: str,
        expected_version: int,
        new_events: Sequence[Event],
        metadata: Metadata | None = None,
        occurred_at: datetime | None = None,
        *,
        large: bool = False,
    ) -> list[Recorded]:
        """Append to `stream_id`, which must be at `expected_version` (0 for a new stream)."""
        return await self.append_many(
            conn,
            [Append(stream_id, expected_version, new_events, metadata)],
            occurred_at,
            large=large,
        )

    async def append_many(
        self,
        conn: AsyncConnection,
        appends: Sequence[Append],
        occurred_at: datetime | None = None,
        *,
        large: bool = False,
    ) -> list[Recorded]:
        """Append to several streams in one statement (a batch of commands, or an import):
        all or none. If any stream has moved on, `ConcurrencyConflict` names one of them.
        `large`: the events carry thousands of rows (an import); they are serialised on a
        worker thread, and the event loop goes on serving other requests meanwhile."""
        when = occurred_at or utcnow()

        def build() -> tuple[list[Recorded], list[UUID]]:
            pending: list[Recorded] = []
            public_ids: list[UUID] = []
            for item in appends:
                meta = item.metadata or _NO_METADATA
                for i, event in enumerate(item.events, start=1):
                    recorded = Recorded(
                        new_event_id(), item.stream_id, item.expected_version + i,
                        event.type_name(), self.service, event.model_dump(mode="json"), when, 0,
                        meta.correlation_id, meta.causation_id, meta.traceparent, meta.actor,
                    )  # fmt: skip
                    pending.append(recorded)
                    if event.public:
                        public_ids.append(recorded.id)
            return pending, public_ids

        pending, public_ids = await off_loop(build) if large else build()
        if not pending:
            return []
        written, pending = await self._sealed(conn, pending, large=large)
        rows = await off_loop(_rows_json, written) if large else _rows_json(written)
        try:
            result = await driver.fetch(conn, _APPEND, rows, public_ids)
        except IntegrityError as exc:
            if STREAM_VERSION_CONSTRAINT in str(exc.orig):
                raise _conflict(exc, appends) from exc
            raise
        positions = {row[1]: row[0] for row in result}
        recorded_all = [_positioned(e, positions[e.id]) for e in pending]
        self._appended.inc(len(recorded_all))
        await apply_all(conn, self.projections, recorded_all)
        return recorded_all

    async def record(self, conn: AsyncConnection, received: Sequence[Recorded]) -> list[Recorded]:
        """Keep copies of consumed events; returns only those not seen before, projected."""
        if not received:
            return []
        unique = list({e.id: e for e in reversed(received)}.values())[::-1]  # first copy wins
        written, unique = await self._sealed(conn, unique)
        result = await driver.fetch(conn, _RECORD, _rows_json(written))
        fresh = {row[1]: row[0] for row in result}
        new = [_positioned(e, fresh[e.id]) for e in unique if e.id in fresh]
        await apply_all(conn, self.projections, new)
        return new

    async def load(self, conn: AsyncConnection, stream_id: str) -> list[Recorded]:
        """Our own events of one stream, in version order."""
        return (await self.load_many(conn, [stream_id]))[stream_id]

    async def load_many(
        self, conn: AsyncConnection, stream_ids: Iterable[str], *, people: Iterable[str] = ()
    ) -> dict[str, list[Recorded]]:
        """Our own events of several streams in one round trip (a stream with no events maps to
        an empty list). `people`: the persons the caller is about to append about (and its
        actor); their keys are read in the same statement, so that opening these events and
        sealing the new ones costs no query of its own."""
        wanted = sorted(set(stream_ids))
        privacy = self.privacy
        lookup = privacy.keys.to_look_up(conn, people) if privacy is not None else None
        if lookup is None:
            rows = await driver.fetch(conn, _LOAD, self.service, wanted)
        else:
            assert privacy is not None
            both = await driver.fetch(
                conn, _LOAD_WITH_KEYS, self.service, wanted, lookup.subjects, list(lookup.by_digest)
            )
            rows, keys = [], []
            row: Any
            for row in both:
                if row[0] is None:  # a key or tombstone, not an event
                    keys.append((row[2], row[4], row[12], row[5], row[13]))
                else:
                    rows.append(row)
            privacy.keys.take(conn, lookup, keys)
        found: dict[str, list[Recorded]] = {s: [] for s in wanted}
        for event in await self._opened(conn, [_row_to_recorded(row) for row in rows]):
            found[event.stream_id].append(event)
        return found

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
        return await self._opened(conn, [_row_to_recorded(r) for r in rows])

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
            yield await self._opened(conn, batch)

    async def scan(
        self,
        conn: asyncpg.Connection,
        page_size: int = 20_000,
        keys: dict[str, DataKey] | None = None,
    ) -> AsyncIterator[list[Recorded]]:
        """Every event in the local log, in position order, in pages, through a server-side
        cursor on a plain asyncpg connection (the caller holds it in a transaction). This is
        replay's reader: about three times the rate of `read_all`. Personal fields are opened
        with `keys` (a snapshot of the key table), or with the table as this connection sees
        it."""
        privacy = self.privacy
        if privacy is not None and keys is None:
            keys = await privacy.keys.snapshot(conn)
        cursor = await conn.cursor(_SCAN)
        loads = orjson.loads
        while rows := await cursor.fetch(page_size):
            # positional fields in Recorded's order: id ... occurred_at, position, metadata
            page = [
                Recorded(
                    r[0], r[1], r[2], r[3], r[4], loads(r[5]), r[6], r[7], r[8], r[9], r[10], r[11]
                )
                for r in rows
            ]
            if privacy is not None and keys is not None:
                privacy.open_with(keys, page)
            yield page

    async def count(self, conn: AsyncConnection) -> int:
        return int((await conn.execute(text("SELECT count(*) FROM events"))).scalar_one())
