"""Consuming other services' events from JetStream.

One durable pull consumer per (consuming service, publishing service), shared by all replicas of
the consumer. Messages arrive in batches. A batch is handled in ONE PostgreSQL transaction:
each event is recorded in the local `events` table (the event id is unique, so a redelivered
event is skipped), applied to the projections, and handed to the service's reaction (which may
append the service's own events); only after the commit are the messages acked. A crash before
the commit leaves them unacked and JetStream redelivers them; a crash after the commit but
before the ack redelivers events that are then skipped. Nothing is lost or counted twice.

When a batch fails, its events are retried one per transaction: the good ones are acked and the
failing one is nak'ed with a delay. After `max_deliver` deliveries a failing event is parked in
`dead_letters` and acked, so it never blocks the events behind it; `passhub dead-letters retry`
applies it once the cause is fixed. A poison event does let later events of the same aggregate
overtake it.

Every outcome is acked or nak'ed explicitly (`passhub_shared.messaging.pulling` runs the fetch
loop).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nats.aio.msg import Msg
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from passhub_shared.messages import envelope
from passhub_shared.messages.events import Recorded
from passhub_shared.operations import logs, metrics
from passhub_shared.personaldata.keyshare import ForeignKeys
from passhub_shared.storage.retrying import on_conflict
from passhub_shared.storage.schema import dead_letters
from passhub_shared.storage.store import EventStore

log = logging.getLogger("passhub.consumer")


@dataclass
class ReactionContext:
    """What a reaction gets: the open transaction and the service's store."""

    conn: AsyncConnection
    store: EventStore


#: service hook called with newly recorded foreign events, inside the recording transaction
Reaction = Callable[[ReactionContext, Sequence[Recorded]], Awaitable[None]]


def durable_name(service: str, origin: str) -> str:
    return f"{service}--{origin}"


class EventApplier:
    """Records consumed events and applies them; knows nothing about NATS."""

    def __init__(
        self,
        engine: AsyncEngine,
        store: EventStore,
        wanted: Mapping[str, frozenset[str]],
        reaction: Reaction | None = None,
        foreign: ForeignKeys | None = None,
    ) -> None:
        self.engine = engine
        self.store = store
        self.wanted = wanted
        self.reaction = reaction
        #: opens the sealed personal fields of the publishers' events (None: taken as they are)
        self.foreign = foreign

    async def _opened(self, events: Sequence[Recorded]) -> list[Recorded]:
        if self.foreign is None:
            return list(events)
        return await self.foreign.open(list(events))

    def is_wanted(self, event: Recorded) -> bool:
        return event.type in self.wanted.get(event.origin, frozenset())

    async def apply(self, events: Sequence[Recorded]) -> list[Recorded]:
        """Record and apply in one transaction; returns the events that were new."""
        events = await self._opened(events)

        async def attempt() -> list[Recorded]:
            async with self.engine.begin() as conn:
                fresh = await self.store.record(conn, events)
                if fresh and self.reaction is not None:
                    await self.reaction(ReactionContext(conn, self.store), fresh)
            return fresh

        fresh = await on_conflict(attempt)
        metrics.EVENTS_REDELIVERED.labels(self.store.service).inc(len(events) - len(fresh))
        for origin, count in Counter(e.origin for e in fresh).items():
            metrics.EVENTS_CONSUMED.labels(self.store.service, origin).inc(count)
        return fresh

    async def park(
        self, consumer: str, subject: str, payload: bytes, error: str, deliveries: int, type_: str
    ) -> None:
        event_id = _event_id_or_digest(payload)
        stmt = pg_insert(dead_letters).values(
            event_id=event_id,
            consumer=consumer,
            subject=subject,
            type=type_,
            payload=payload,
            error=error[:4000],
            deliveries=deliveries,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[dead_letters.c.event_id],
            set_={"error": stmt.excluded.error, "deliveries": stmt.excluded.deliveries},
        )
        async with self.engine.begin() as conn:
            await conn.execute(stmt)
        metrics.EVENTS_PARKED.labels(self.store.service).inc()
        log.error("parked %s (%s) after %d deliveries: %s", event_id, subject, deliveries, error)

    async def retry_parked(self, conn: AsyncConnection, event_id: str, payload: bytes) -> bool:
        """Apply a parked event inside `conn`'s transaction and drop it from dead letters."""
        (event,) = await self._opened([envelope.decode(payload)])
        fresh = await self.store.record(conn, [event])
        if fresh and self.reaction is not None:
            await self.reaction(ReactionContext(conn, self.store), fresh)
        await conn.execute(delete(dead_letters).where(dead_letters.c.event_id == event_id))
        return bool(fresh)


def _event_id_or_digest(payload: bytes) -> str:
    try:
        return str(envelope.decode(payload).id)
    except envelope.InvalidEnvelope:
        return "sha256:" + hashlib.sha256(payload).hexdigest()


def _is_transient(exc: BaseException) -> bool:
    """Database unreachable or connection killed: worth retrying the whole batch later."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OSError | ConnectionError | asyncio.TimeoutError)


class BatchHandler:
    """Turns a batch of JetStream messages into acks, naks and parked letters."""

    def __init__(
        self, applier: EventApplier, consumer: str, max_deliver: int, nak_delay: float = 0.5
    ) -> None:
        self.applier = applier
        self.consumer = consumer
        self.max_deliver = max_deliver
        self.nak_delay = nak_delay
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()

    async def __call__(self, messages: Sequence[Msg]) -> None:
        self.in_flight += 1
        self.idle.clear()
        try:
            await asyncio.shield(self._handle(messages))
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self.idle.set()

    async def _handle(self, messages: Sequence[Msg]) -> None:
        decoded: list[tuple[Msg, Recorded]] = []
        for msg in messages:
            try:
                event = envelope.decode(msg.data)
            except envelope.InvalidEnvelope as exc:
                await self.applier.park(
                    self.consumer, msg.subject, msg.data, str(exc), _deliveries(msg), ""
                )
                await msg.ack()
                continue
            if self.applier.is_wanted(event):
                decoded.append((msg, event))
            else:
                await msg.ack()
        if not decoded:
            return
        try:
            await self.applier.apply([e for _, e in decoded])
        except Exception as exc:
            if _is_transient(exc):
                log.warning("database unavailable, batch will be redelivered: %s", exc)
                for msg, _ in decoded:
                    await _nak(msg, self.nak_delay)
                return
            log.warning("batch failed (%s); applying its events one at a time", exc)
            await self._one_by_one(decoded)
            return
        for msg, _ in decoded:
            await msg.ack()

    async def _one_by_one(self, decoded: Sequence[tuple[Msg, Recorded]]) -> None:
        for msg, event in decoded:
            with _correlation(event):
                try:
                    await self.applier.apply([event])
                except Exception as exc:
                    deliveries = _deliveries(msg)
                    if not _is_transient(exc) and deliveries >= self.max_deliver:
                        await self.applier.park(
                            self.consumer, msg.subject, msg.data, repr(exc), deliveries, event.type
                        )
                        await msg.ack()
                    else:
                        await _nak(msg, self.nak_delay * deliveries)
                    continue
            await msg.ack()


class _correlation:
    def __init__(self, event: Recorded) -> None:
        self.value = event.correlation_id or str(event.id)

    def __enter__(self) -> None:
        self.token = logs.correlation_id.set(self.value)

    def __exit__(self, *_: Any) -> None:
        logs.correlation_id.reset(self.token)


def _deliveries(msg: Msg) -> int:
    try:
        return int(msg.metadata.num_delivered)
    except Exception:
        return 1


async def _nak(msg: Msg, delay: float) -> None:
    try:
        await msg.nak(delay=delay)
    except Exception as exc:  # connection gone: ack_wait expiry redelivers it anyway
        log.warning("nak failed: %s", exc)
