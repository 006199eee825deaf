"""The outbox relay: publishes committed public events to JetStream, exactly once as seen by
subscribers, in order per stream.

- Woken by LISTEN/NOTIFY (a statement trigger on `outbox` notifies on commit), with a slow poll
  as a safety net.
- Holds a session advisory lock: with several replicas of a service only one relay publishes.
- `Nats-Msg-Id` = event id: if the relay dies after JetStream stored a message but before the
  outbox row was deleted, the re-publish falls in JetStream's duplicate window and is dropped.
- Commit order is not position order: a transaction still open may commit an event with a lower
  position later. The relay reads only events whose inserting transaction id is below the
  snapshot's xmin (every transaction below it has finished), in `(tx_id, position)` order, so it
  never publishes past an event that could still appear behind it. Within one stream this order is
  the stream-version order. A long-running write transaction holds the relay back until it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from typing import Any

import asyncpg
import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from passhub_shared import envelope, metrics
from passhub_shared.events import Recorded
from passhub_shared.schema import OUTBOX_CHANNEL

log = logging.getLogger("passhub.relay")

_PENDING = """
SELECT e.position, e.id, e.stream_id, e.stream_version, e.type, e.origin, e.data::text AS data,
       e.occurred_at, e.correlation_id, e.causation_id, e.traceparent
FROM (
    SELECT position, tx_id FROM outbox
    WHERE tx_id < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY tx_id, position
    LIMIT $1
) o JOIN events e ON e.position = o.position
ORDER BY o.tx_id, o.position
"""


#: a round never has more publishes in flight than this, well under nats-py's pending limit
#: (4,000), so publishing never waits for a free slot
MAX_BATCH = 2000


def lock_key(service: str) -> int:
    return zlib.crc32(f"passhub-relay-{service}".encode())


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _recorded(row: asyncpg.Record) -> Recorded:
    """The row as an event; its body stays JSON text (`row["data"]`) until it is published."""
    return Recorded(
        id=row["id"],
        stream_id=row["stream_id"],
        stream_version=row["stream_version"],
        type=row["type"],
        origin=row["origin"],
        data={},
        occurred_at=row["occurred_at"],
        position=row["position"],
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        traceparent=row["traceparent"],
    )


class OutboxRelay:
    def __init__(
        self,
        service: str,
        database_url: str,
        nats_url: str,
        batch_size: int = 500,
        poll_seconds: float = 5.0,
        publish_timeout: float = 5.0,
    ) -> None:
        self.service = service
        self.dsn = asyncpg_dsn(database_url)
        self.nats_url = nats_url
        self.batch_size = min(batch_size, MAX_BATCH)
        self.poll_seconds = poll_seconds
        self.publish_timeout = publish_timeout
        self.is_leader = False
        self.published = 0
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._nc: NATS | None = None

    # -- lifecycle -------------------------------------------------------------------------
    async def run(self) -> None:
        """Run until `stop()`; survives PostgreSQL and NATS outages."""
        self._nc = await nats.connect(
            self.nats_url,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            name=f"passhub-{self.service}-relay",
        )
        js = self._nc.jetstream()
        backoff = 0.2
        try:
            while not self._stopping.is_set():
                try:
                    await self._lead(js)
                    backoff = 0.2
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("relay lost PostgreSQL: %s; retrying", exc)
                    self.is_leader = False
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
        finally:
            self.is_leader = False
            if self._nc is not None:
                await self._nc.close()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        """Sleep `seconds` unless woken (by `stop()` or a notification) meanwhile."""
        self._wake.clear()
        await self._wait(seconds)

    async def _wait(self, seconds: float) -> None:
        """Until woken, or `seconds`; a wake that came before the call counts."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    # -- leadership and the publish loop -----------------------------------------------------
    async def _lead(self, js: JetStreamContext) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self.dsn, timeout=10)
        try:
            while not self._stopping.is_set():
                if await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_key(self.service)):
                    break
                await self._sleep(1.0)
            else:
                return
            self.is_leader = True
            await conn.add_listener(OUTBOX_CHANNEL, self._notified)
            log.info("relay for %s is publishing", self.service)
            while not self._stopping.is_set():
                # Cleared before the round, not after: a commit notified while this round
                # publishes or looks at the outbox must start the next round, not wait for a poll.
                self._wake.clear()
                sent, full = await self._drain_once(conn, js)
                if full:
                    continue
                if sent < 0:  # NATS trouble: back off, the rows stay in the outbox
                    await self._sleep(1.0)
                elif await conn.fetchval("SELECT EXISTS (SELECT 1 FROM outbox)"):
                    # Rows held back behind a transaction still open.
                    if sent == 0:
                        # Only that transaction's end can free them: wait for a commit notified
                        # after this round (20 ms at most: an abort notifies nothing), rather
                        # than going round again for each commit of the others.
                        await self._sleep(0.02)
                    else:
                        await self._wait(0.02)
                else:
                    await self._wait(self.poll_seconds)
        finally:
            self.is_leader = False
            conn.terminate()

    def _notified(self, *_: Any) -> None:
        self._wake.set()

    async def _drain_once(self, conn: asyncpg.Connection, js: JetStreamContext) -> tuple[int, bool]:
        """Publish one batch. Returns (published count or -1 on NATS failure, batch was full)."""
        rows = await conn.fetch(_PENDING, self.batch_size)
        if not rows:
            return 0, False
        events = [(_recorded(r), r["data"]) for r in rows]
        done = await self._publish(js, events)
        if done:
            await conn.execute("DELETE FROM outbox WHERE position = ANY($1::bigint[])", done)
            self.published += len(done)
            metrics.EVENTS_PUBLISHED.labels(self.service).inc(len(done))
        if len(done) < len(events):
            return -1, False
        return len(done), len(rows) == self.batch_size

    async def _publish(self, js: JetStreamContext, events: list[tuple[Recorded, str]]) -> list[int]:
        """Publish in order, pipelined; return the positions JetStream acknowledged, a prefix.

        No `wait_stall`: a batch (at most MAX_BATCH) stays below
        nats-py's pending limit, and unanswered publishes are cancelled below, so acquiring a
        slot never waits; with `wait_stall` set, nats-py would spend a task per message on it."""
        futures: list[asyncio.Future[Any]] = []
        try:
            for event, data_json in events:
                futures.append(
                    await js.publish_async(
                        event.subject,
                        envelope.encode(event, data_json),
                        headers={
                            "Nats-Msg-Id": str(event.id),
                            "Content-Type": envelope.CONTENT_TYPE,
                        },
                    )
                )
            await asyncio.wait(futures, timeout=self.publish_timeout)
        except Exception as exc:  # connection closed, stalled, no responders
            log.warning("publish to JetStream failed: %s", exc)
        acked: list[int] = []
        for (event, _), future in zip(events, futures, strict=False):
            if future.done() and not future.cancelled() and future.exception() is None:
                acked.append(event.position)
            else:
                if not future.done():
                    future.cancel()
                elif not future.cancelled() and future.exception() is not None:
                    log.warning("JetStream refused %s: %s", event.id, future.exception())
                break
        return acked
