"""Rebuild a service's JetStream stream from its PostgreSQL log: `passhub republish <service>`.

The log is the source of truth and the stream the delivery log. When a stream is lost (deleted,
a node's store wiped), truncated (messages lost in a crash, a purge) or damaged (messages whose
body no longer matches the log), `republish` makes it whole again so that a subscriber reading
it from the start sees each of the service's events exactly once, and the events of each
aggregate in version order:

1. It takes the relay's advisory lock, so no relay publishes meanwhile. A relay holding it (in
   a running replica) has its PostgreSQL session ended (`pg_terminate_backend`); it loses the
   lock, waits for it as any standby replica does, and resumes from the stream once
   `republish` lets go.
2. It reads the stream from its first message. A message is the service's event when its
   `Nats-Msg-Id` is the id of one of the service's events in the log. It is intact when its
   CloudEvent says the same as the log (id, type, subject, version, data).
3. Per aggregate, it keeps the longest run of intact messages that are the aggregate's events
   from version 1 in order; every other message of the aggregate (damaged, repeated, or after
   a gap) is deleted from the stream, and every event past the kept run is published again, in
   the log's publish order (`(tx_id, position)`, the relay's), each expecting the stream's last
   sequence as the relay does. Messages that are no event of the service are left alone.
4. The outbox rows of the events it has seen are deleted (they are all in the stream now), the
   lock is released, and the relay resumes from the stream's last message: it publishes what
   was committed after `republish` read the log, all of which comes later in publish order.

JetStream's duplicate window remembers a message id after the message is deleted or purged, and
would drop the event published again as a duplicate. When that happens `republish` shortens the
stream's window to its minimum (100 ms) while it publishes, and restores it after.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg
import nats
import orjson
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from passhub_shared.dev.natscluster import nats_servers
from passhub_shared.messages import envelope
from passhub_shared.messages.events import registered_types
from passhub_shared.messaging.relay import (
    MAX_BATCH,
    _recorded,
    asyncpg_dsn,
    chain_headers,
    jetstream,
    lock_name,
)
from passhub_shared.messaging.streams import ensure_stream, stream_name
from passhub_shared.storage import locks

log = logging.getLogger("passhub.republish")

#: how long a publish may wait for JetStream's answer
PUBLISH_TIMEOUT = 5.0
#: the shortest duplicate window JetStream accepts
MIN_DUPLICATE_WINDOW = 0.1

_LOG = """
SELECT position, id, stream_id, stream_version, type, data::text AS data
FROM events WHERE origin = $1
ORDER BY tx_id, position
"""

_EVENTS = """
SELECT e.position, e.id, e.stream_id, e.stream_version, e.type, e.origin, e.data::text AS data,
       e.occurred_at, e.correlation_id, e.causation_id, e.traceparent
FROM events e WHERE e.position = ANY($1::bigint[])
"""

_HOLDERS = f"""
SELECT pid FROM pg_locks l
WHERE l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
AND {locks.HELD} AND l.pid <> pg_backend_pid()
"""


@dataclass
class Report:
    stream: str
    created: bool = False
    messages: int = 0
    kept: int = 0
    deleted: int = 0
    foreign: int = 0
    events: int = 0
    published: int = 0
    outbox_cleared: int = 0
    relay_interrupted: int = 0
    window_shortened: bool = False
    seconds: float = 0.0
    #: why each deleted message went: damaged, repeated, out of order
    reasons: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass(slots=True)
class _Logged:
    """What the comparison needs of a logged event (its body only as a digest)."""

    position: int
    id: UUID
    stream_id: str
    stream_version: int
    type: str
    digest: bytes


@dataclass
class _Message:
    seq: int
    id: UUID | None
    doc: dict[str, Any] | None


Progress = Callable[[str, int | None, int], None]


def is_public(type_name: str) -> bool:
    """Whether events of this type go through the outbox: a registered event class says; an
    unknown type (no class in this installation) counts as public."""
    cls = registered_types().get(type_name)
    return cls is None or cls.public


def _digest(data: Any) -> bytes:
    return hashlib.blake2b(orjson.dumps(data, option=orjson.OPT_SORT_KEYS), digest_size=16).digest()


async def take_relay_lock(conn: asyncpg.Connection, service: str, timeout: float = 30.0) -> int:
    """Hold the relay's advisory lock on `conn`, ending the session of a relay that holds it;
    returns how many sessions were ended."""
    name = lock_name(service)
    key = locks.key(name)
    ended = 0
    deadline = time.monotonic() + timeout
    while not await locks.try_session(conn, name):
        if time.monotonic() > deadline:
            raise TimeoutError(f"could not take the relay lock of {service} in {timeout:.0f} s")
        for pid in await conn.fetch(_HOLDERS, key):
            if await conn.fetchval("SELECT pg_terminate_backend($1)", pid["pid"]):
                ended += 1
                log.info("ended the relay session %s of %s", pid["pid"], service)
        await asyncio.sleep(0.02)
    return ended


async def _read_stream(
    js: JetStreamContext, stream: str, count: int, last_seq: int, progress: Progress
) -> list[_Message]:
    """The stream's `count` messages (up to `last_seq`), in stream order, each with its
    CloudEvent parsed (None when it does not parse)."""
    out: list[_Message] = []
    if count == 0:
        return out
    done = asyncio.Event()

    async def on_message(msg: Any) -> None:
        seq = msg.metadata.sequence.stream
        if seq > last_seq:
            done.set()
            return
        try:
            event_id: UUID | None = UUID((msg.headers or {}).get("Nats-Msg-Id", ""))
        except ValueError:
            event_id = None
        try:
            doc = orjson.loads(msg.data)
            if not isinstance(doc, dict):
                doc = None
        except orjson.JSONDecodeError:
            doc = None
        out.append(_Message(seq, event_id, doc))
        progress("stream", None, 1)
        if seq >= last_seq or len(out) >= count:
            done.set()

    sub = await js.subscribe(">", stream=stream, ordered_consumer=True, cb=on_message)
    try:
        while not done.is_set():
            before = len(out)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout=5.0)
            if len(out) == before and not done.is_set():
                log.warning("%s: no message for 5 s after %d of %d", stream, before, count)
                break
    finally:
        await sub.unsubscribe()
    return out


def _intact(doc: dict[str, Any] | None, event: _Logged, service: str) -> bool:
    if doc is None:
        return False
    return (
        doc.get("id") == str(event.id)
        and doc.get("type") == event.type
        and doc.get("subject") == event.stream_id
        and doc.get("streamversion") == event.stream_version
        and doc.get("source") == envelope.source_of(service)
        and _digest(doc.get("data")) == event.digest
    )


async def republish(
    service: str,
    database_url: str,
    nats_url: str,
    *,
    replicas: int = 1,
    duplicate_window: float = 120.0,
    progress: Progress | None = None,
    public: Callable[[str], bool] = is_public,
) -> Report:
    """Make the stream of `service` hold each of its logged events once, in order per aggregate
    (see the module's documentation); returns what was done."""
    started = time.perf_counter()
    report = Report(stream=stream_name(service))
    tick: Progress = progress or (lambda phase, total, n: None)
    conn: asyncpg.Connection = await asyncpg.connect(asyncpg_dsn(database_url), timeout=10)
    nc: NATS = await nats.connect(nats_servers(nats_url), connect_timeout=5)
    js = jetstream(nc)
    try:
        report.relay_interrupted = await take_relay_lock(conn, service)
        try:
            await js.stream_info(report.stream)
        except NotFoundError:
            await ensure_stream(js, service, replicas, duplicate_window)
            report.created = True
        while True:
            if await _pass(conn, js, service, report, tick, public):
                break
            log.info("the stream moved while %s was republished; reading it again", service)
            report.reasons.clear()
    finally:
        with contextlib.suppress(Exception):
            await locks.release_session(conn, lock_name(service))
        await conn.close()
        await nc.close()
    report.seconds = time.perf_counter() - started
    return report


async def _pass(
    conn: asyncpg.Connection,
    js: JetStreamContext,
    service: str,
    report: Report,
    tick: Progress,
    public: Callable[[str], bool],
) -> bool:
    """One read of the stream and the log, and the repair; False if the stream changed
    meanwhile (something published on it), to be done again."""
    stream = report.stream
    info = await js.stream_info(stream)
    last_seq = int(info.state.last_seq or 0)
    tick("stream", int(info.state.messages or 0), 0)
    count = int(info.state.messages or 0)
    messages = await _read_stream(js, stream, count, last_seq, tick)
    report.messages = len(messages)

    async with conn.transaction(isolation="repeatable_read", readonly=True):
        total = await conn.fetchval("SELECT count(*) FROM events WHERE origin = $1", service)
        tick("log", int(total), 0)
        rows: list[_Logged] = []
        async for row in conn.cursor(_LOG, service, prefetch=5000):
            tick("log", None, 1)
            if public(row["type"]):
                rows.append(
                    _Logged(
                        row["position"],
                        row["id"],
                        row["stream_id"],
                        row["stream_version"],
                        row["type"],
                        _digest(orjson.loads(row["data"])),
                    )
                )
        outbox = {r["position"] for r in await conn.fetch("SELECT position FROM outbox")}
    seen = [row.position for row in rows if row.position in outbox]

    report.events = len(rows)
    by_id = {row.id: i for i, row in enumerate(rows)}
    # per aggregate: the log's events in version order, and the stream's messages in order
    logged: dict[str, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        logged[row.stream_id].append(i)
    for indexes in logged.values():
        indexes.sort(key=lambda i: rows[i].stream_version)
    held: dict[str, list[tuple[_Message, int]]] = defaultdict(list)
    for message in messages:
        index = by_id.get(message.id) if message.id is not None else None
        if index is None:
            report.foreign += 1
            continue
        held[rows[index].stream_id].append((message, index))

    delete: list[tuple[int, str]] = []
    missing: set[int] = set()
    for aggregate, indexes in logged.items():
        kept = 0
        broken = False  # from the first message not kept on, nothing of this aggregate stays
        for message, index in held.get(aggregate, []):
            expected = indexes[kept] if kept < len(indexes) else None
            intact = index == expected and _intact(message.doc, rows[index], service)
            if not broken and intact:
                kept += 1
                continue
            broken = True
            if index in indexes[:kept]:
                reason = "repeated"
            elif index == expected:
                reason = "damaged" if not intact else "after a gap"
            else:
                reason = "out of order"
            delete.append((message.seq, reason))
        report.kept += kept
        missing.update(indexes[kept:])

    for seq, reason in sorted(delete):
        with contextlib.suppress(NotFoundError):
            await js.delete_msg(stream, seq)
        report.reasons[reason] += 1
    report.deleted = len(delete)

    to_publish = [i for i in range(len(rows)) if i in missing]  # the log's publish order
    tick("publish", len(to_publish), 0)
    positions = [rows[i].position for i in to_publish]
    if not await _publish(conn, js, stream, positions, report, tick):
        return False

    if seen:
        await conn.execute("DELETE FROM outbox WHERE position = ANY($1::bigint[])", seen)
    report.outbox_cleared = len(seen)
    return True


async def _acknowledged(futures: list[asyncio.Future[Any]]) -> tuple[int, bool, bool]:
    """How many of a chain of publishes were stored, in order, and why the rest were not: a
    duplicate (the window remembers the id), or a refusal (the stream moved).

    Each is awaited with a timeout, in case an answer is lost."""
    stored = 0
    remembered = moved = False
    for future in futures:
        try:
            ack = await asyncio.wait_for(asyncio.shield(future), timeout=PUBLISH_TIMEOUT)
        except (TimeoutError, nats.js.errors.APIError) as exc:
            log.info("a publish was refused (%s); reading the stream again", exc or "no answer")
            moved = True
            break
        if ack.duplicate:
            remembered = True
            break
        stored += 1
    for future in futures:
        future.cancel()
    return stored, remembered, moved


async def _publish(
    conn: asyncpg.Connection,
    js: JetStreamContext,
    stream: str,
    positions: list[int],
    report: Report,
    tick: Progress,
) -> bool:
    """Publish the events at `positions`, in that order, chained on the stream's last sequence;
    False if the stream moved under the chain (something else published on it)."""
    window: float | None = None
    remembered_rounds = 0
    try:
        done = 0
        while done < len(positions):
            base = int((await js.stream_info(stream)).state.last_seq or 0)
            batch = positions[done : done + MAX_BATCH]
            found = {r["position"]: r for r in await conn.fetch(_EVENTS, batch)}
            futures = []
            previous: UUID | None = None
            for k, position in enumerate(batch):
                row = found[position]
                event = _recorded(row)
                futures.append(
                    await js.publish_async(
                        event.subject,
                        envelope.encode(event, row["data"]),
                        headers=chain_headers(event.id, base + k, previous),
                    )
                )
                previous = event.id
            stored, remembered, moved = await _acknowledged(futures)
            done += stored
            report.published += stored
            tick("publish", None, stored)
            if remembered:
                # the duplicate window remembers the id of a message that is gone
                remembered_rounds += 1
                if remembered_rounds > 20:
                    raise RuntimeError(f"{stream} keeps refusing events as duplicates")
                if window is None:
                    config = (await js.stream_info(stream)).config
                    window = float(config.duplicate_window or 120.0)
                    config.duplicate_window = MIN_DUPLICATE_WINDOW
                    await js.update_stream(config)
                    report.window_shortened = True
                await asyncio.sleep(MIN_DUPLICATE_WINDOW * 5)
            elif moved:
                return False
        return True
    finally:
        if window is not None:
            config = (await js.stream_info(stream)).config
            config.duplicate_window = window
            await js.update_stream(config)
