"""The outbox relay: publishes committed public events to JetStream, exactly once as seen by
subscribers, in order per stream.

- Woken by LISTEN/NOTIFY (a statement trigger on `outbox` notifies on commit), with a slow poll
  as a safety net.
- Holds a session advisory lock: with several replicas of a service only one relay publishes.
- Exactly once, whatever the downtime. Every message is published with
  `Nats-Expected-Last-Sequence` = the stream's sequence of the message published before it, so
  JetStream stores the relay's messages as an unbroken chain in publish order: a message whose
  predecessor was lost is refused, and so is one published again after its successors. Within a
  pipelined batch each message also expects its predecessor's id as the stream's last message
  id (`Nats-Expected-Last-Msg-Id`), so a message published by something else cannot stand in for
  a refused predecessor and let its successor be stored after a gap. On
  (re)start and after any publish error the relay resumes from what the stream holds: it reads
  the stream's last message, finds its event (`Nats-Msg-Id` = event id) in the outbox, and
  deletes that row and every row before it in publish order, all of which the chain puts in the
  stream. A relay that dies after JetStream stored a batch but before the outbox rows were
  deleted thus publishes nothing twice, however long it stays down; the duplicate window
  (`Nats-Msg-Id`) is only a second guard. This holds while the relay is the only publisher on
  its stream (it holds the advisory lock below); a message someone else published there makes
  the next publish fail the expectation, and the relay looks past such messages
  (`LOOKBACK`) for its own last one.
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
import os
from typing import Any
from uuid import UUID

import asyncpg
import nats
import nats.errors
import nats.js.errors
import orjson
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from passhub_shared.dev.natscluster import nats_servers
from passhub_shared.messages import envelope
from passhub_shared.messages.events import Recorded
from passhub_shared.messaging.streams import stream_name
from passhub_shared.operations import metrics
from passhub_shared.personaldata.keyshare import KeyPublisher
from passhub_shared.storage import locks
from passhub_shared.storage.schema import OUTBOX_CHANNEL

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


#: Where the stream's last message is, as one of this service's events: deletes the rows up to
#: and including it in publish order (they are in the stream) and says whose event it was
#: (NULL: no event of this database).
_RESUME = """
WITH found AS (SELECT position, origin FROM events WHERE id = $1),
last AS (SELECT o.tx_id, o.position FROM outbox o JOIN found f ON f.position = o.position),
gone AS (
    DELETE FROM outbox o USING last
    WHERE (o.tx_id, o.position) <= (last.tx_id, last.position)
    RETURNING 1
)
SELECT (SELECT origin FROM found) AS origin, (SELECT count(*) FROM gone) AS deleted
"""

#: on resuming, how many messages from the stream's end the relay looks at for its own last one
#: before concluding that none of the outbox is in the stream (only messages published on the
#: stream by something other than the relay are skipped)
LOOKBACK = 100

#: a round never has more publishes in flight than this, well under nats-py's pending limit
#: (4,000), so publishing never waits for a free slot
MAX_BATCH = 2000


class JetStream(JetStreamContext):
    """nats-py's JetStream context, with a refused asynchronous publish reported on its future.

    nats-py 2.16 raises a JetStream error reply (`wrong last sequence`, a stream without a
    leader during an election...) inside its reply handler instead of setting it on the
    publish's future, which then never completes: the relay would wait `publish_timeout` for
    it. Here the error is set on the future, as nats-py does for "no responders"."""

    async def _handle_async_reply(self, msg: Any) -> None:
        token = msg.subject[len(self._nc._inbox_prefix) + 22 + 2 :]
        future = self._publish_async_futures.get(token)
        if future is not None and not future.done() and msg.data:
            with contextlib.suppress(ValueError):
                error = orjson.loads(msg.data).get("error")
                if error:
                    try:
                        nats.js.errors.APIError.from_error(error)  # raises the right subclass
                    except nats.js.errors.APIError as exc:
                        future.set_exception(exc)
                    return
        await super()._handle_async_reply(msg)


def jetstream(nc: NATS) -> JetStream:
    return JetStream(nc)


def chain_headers(event_id: UUID, last_seq: int, previous: UUID | None) -> dict[str, str]:
    """The headers that chain a message to the stream: its id, the stream's last sequence it
    expects and, within a pipelined batch, its predecessor's id as the stream's last message id.

    The sequence alone is not enough: if a message of the batch is refused and something else
    published on the stream meanwhile, its successor could find the sequence it expects and be
    stored after a gap; expecting its predecessor's id too refuses it."""
    headers = {
        "Nats-Msg-Id": str(event_id),
        "Nats-Expected-Last-Sequence": str(last_seq),
        "Content-Type": envelope.CONTENT_TYPE,
    }
    if previous is not None:
        headers["Nats-Expected-Last-Msg-Id"] = str(previous)
    return headers


def lock_name(service: str) -> str:
    """The advisory lock (`passhub_shared.storage.locks`) the publishing relay of `service`
    holds."""
    return f"passhub-relay:{service}"


def lock_session_settings(service: str) -> dict[str, str]:
    """The lock's session: named after the relay and its process (`pg_stat_activity` shows which
    replica publishes), and with TCP keepalives, so that PostgreSQL ends the session of a
    replica whose machine died or was cut off within about 20 s (5 s idle, then 3 probes 5 s
    apart), releasing the lock to a standby. A process that dies on a live machine closes
    its connection and releases the lock at once."""
    return {
        "application_name": f"passhub-{service}-relay-{os.getpid()}",
        "tcp_keepalives_idle": "5",
        "tcp_keepalives_interval": "5",
        "tcp_keepalives_count": "3",
    }


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
        keys: KeyPublisher | None = None,
    ) -> None:
        self.service = service
        #: puts new data keys in the key bucket, and takes erased ones out, before publishing
        self.keys = keys
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
        self.stream = stream_name(service)
        #: the stream's last sequence as this relay left it; None: read the stream before the
        #: next publish (at start, after a publish error, on taking over the lock)
        self._last_seq: int | None = None
        #: outbox rows found already in the stream on resuming, and deleted unpublished
        self.resumed = 0

    # -- lifecycle -------------------------------------------------------------------------
    async def run(self) -> None:
        """Run until `stop()`; survives PostgreSQL and NATS outages."""
        self._nc = await nats.connect(
            nats_servers(self.nats_url),
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            name=f"passhub-{self.service}-relay",
        )
        js = jetstream(self._nc)
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
        conn: asyncpg.Connection = await asyncpg.connect(
            self.dsn, timeout=10, server_settings=lock_session_settings(self.service)
        )
        try:
            while not self._stopping.is_set():
                if await locks.try_session(conn, lock_name(self.service)):
                    break
                await self._sleep(1.0)
            else:
                return
            self.is_leader = True
            self._last_seq = None  # another relay may have published while this one waited
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
        if self._last_seq is None:
            try:
                await self._resume(conn, js)
            except (nats.errors.Error, OSError, TimeoutError) as exc:
                log.warning("cannot read stream %s to resume: %s", self.stream, exc)
                return -1, False
        rows = await conn.fetch(_PENDING, self.batch_size)
        if self.keys is not None:
            # Every key these events are sealed under was committed with them, so it is seen
            # here and put in the bucket before any subscriber gets the events; erased keys
            # leave the bucket (each round: an erasure of someone unknown publishes nothing).
            try:
                await self.keys.sync(conn, js)
            except (nats.errors.Error, OSError, TimeoutError) as exc:
                log.warning("cannot update the key bucket: %s", exc)
                return -1, False
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

    async def _resume(self, conn: asyncpg.Connection, js: JetStreamContext) -> None:
        """Delete from the outbox what the stream already holds, and learn its last sequence.

        The stream's last message that is one of this service's events marks how far the
        relay got: the chain of expected sequences means every row before it in publish order
        is in the stream too. If that event is still in the outbox, it and the rows before it
        are deleted; if it is not, the outbox holds only later rows. Messages that are no event
        of this service (published on the stream by something else) are looked past."""
        info = await js.stream_info(self.stream)
        last = int(info.state.last_seq or 0)
        first = int(info.state.first_seq or 0)
        seq = last
        while seq >= max(first, 1) and last - seq < LOOKBACK:
            event_id = await self._event_id_at(js, seq)
            if event_id is not None:
                row = await conn.fetchrow(_RESUME, event_id)
                if row["origin"] == self.service:
                    if row["deleted"]:
                        self.resumed += row["deleted"]
                        log.info(
                            "%s already holds %d outbox events, up to %s: not published again",
                            self.stream,
                            row["deleted"],
                            event_id,
                        )
                    break
            seq -= 1
        else:
            if last - seq:
                log.warning(
                    "none of the last %d messages of %s is an event of %s",
                    last - seq,
                    self.stream,
                    self.service,
                )
        self._last_seq = last

    async def _event_id_at(self, js: JetStreamContext, seq: int) -> UUID | None:
        try:
            msg = await js.get_msg(self.stream, seq)
        except NotFoundError:  # deleted from the stream
            return None
        try:
            return UUID((msg.headers or {}).get("Nats-Msg-Id", ""))
        except ValueError:
            return None

    async def _publish(self, js: JetStreamContext, events: list[tuple[Recorded, str]]) -> list[int]:
        """Publish in order, pipelined; return the positions JetStream acknowledged, a prefix.

        Each message expects the stream's last sequence to be its predecessor's, so JetStream
        stores the batch as an unbroken run after the relay's last message or refuses the rest.
        After anything short of every message stored as expected, the next round resumes from
        the stream (`_resume`).

        No `wait_stall`: a batch (at most MAX_BATCH) stays below
        nats-py's pending limit, and unanswered publishes are cancelled below, so acquiring a
        slot never waits; with `wait_stall` set, nats-py would spend a task per message on it."""
        futures: list[asyncio.Future[Any]] = []
        assert self._last_seq is not None
        base = self._last_seq
        self._last_seq = None  # until the whole batch is known to be stored as expected
        try:
            for i, (event, data_json) in enumerate(events):
                futures.append(
                    await js.publish_async(
                        event.subject,
                        envelope.encode(event, data_json),
                        headers=chain_headers(
                            event.id, base + i, events[i - 1][0].id if i else None
                        ),
                    )
                )
            await asyncio.wait(futures, timeout=self.publish_timeout)
        except Exception as exc:  # connection closed, stalled, no responders
            log.warning("publish to JetStream failed: %s", exc)
        acked: list[int] = []
        chained = True  # every acknowledged message was stored at the sequence expected
        for (event, _), future in zip(events, futures, strict=False):
            if future.done() and not future.cancelled() and future.exception() is None:
                ack = future.result()
                chained = chained and not ack.duplicate and ack.seq == base + len(acked) + 1
                acked.append(event.position)
            else:
                if not future.done():
                    future.cancel()
                elif not future.cancelled() and future.exception() is not None:
                    log.warning("JetStream refused %s: %s", event.id, future.exception())
                break
        if chained and len(acked) == len(events):
            self._last_seq = base + len(acked)
        return acked
