"""Throughput of the shared kit on real PostgreSQL and NATS, next to the raw client libraries.

Run from the repository root::

    python -m bench.kit            # full run (a few minutes), writes bench/results/kit.{json,md}
    python -m bench.kit --quick    # CI-sized run, results go to a temporary directory

Each figure is measured with the toy service of the kit's tests (`tests/kit/toy.py`: a
`kittest` publisher whose `counted` events feed a totals projection, and a `kitconsumer`
that records them into its own totals) and compared with a raw rate measured in the same run
on the same servers:

1. appends: `decider.handle` (load, decide, append, outbox, projection), the same commands
   through `GroupCommit` and `handle_many` (requests arriving together share a transaction),
   and a direct `EventStore.append`, one event per command, sequentially and from concurrent
   writers on different streams; raw: one asyncpg INSERT per transaction into a copy of
   `events`.
2. relay: `OutboxRelay` draining N outbox rows to JetStream; raw: nats-py `publish_async`
   of the same CloudEvents, pipelined, then awaiting every ack.
3. consumer: a `Runtime` of the consumer service, from start until all N events of the
   stream are recorded and applied; raw: nats-py pull `fetch` + ack of the same messages.
4. replay: `replay.rebuild` over the log; raw: an asyncpg cursor over the same table.

PostgreSQL runs with `synchronous_commit=off` unless `--durable`; `--profile DIR` writes a
cProfile of each measured phase (`--profile-phase relay` to choose) and prints its top functions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import nats
import orjson
from nats.js.api import ConsumerConfig, StreamConfig
from nats.js.errors import NotFoundError

from bench import peer
from bench.common import (
    RESULTS_DIR,
    Figure,
    Profiler,
    Servers,
    Timing,
    asyncpg_dsn,
    machine_info,
    machine_load,
    markdown_table,
    server_info,
    timed,
    write_results,
)
from passhub_shared.messages import envelope
from passhub_shared.messages.events import Recorded, new_event_id
from passhub_shared.messaging.relay import OutboxRelay
from passhub_shared.messaging.streams import stream_config, stream_name
from passhub_shared.messaging.subscriptions import durable_name
from passhub_shared.operations import loop, replay
from passhub_shared.operations.secretkeys import generate_secret
from passhub_shared.operations.service import Runtime, ServiceDefinition
from passhub_shared.operations.settings import Settings
from passhub_shared.storage.batching import GroupCommit
from passhub_shared.storage.decider import Command, handle, handle_many
from passhub_shared.storage.store import EventStore
from tests.kit import toy

log = logging.getLogger("bench.kit")

PUBLISHER = toy.publisher.name
COUNTED = toy.Counted.type_name()
#: events per stream in the append benchmark (a typical small aggregate)
STREAM_LENGTH = 10
#: events per stream, and appends per transaction, when filling the outbox
FILL_STREAM_LENGTH = 50
FILL_STREAMS_PER_TRANSACTION = 20
#: distinct counters (streams) in the replay log
REPLAY_COUNTERS = 1000
PHASES = ("appends", "relay", "consumer", "replay")

#: kit targets
CONSUMER_RATE_TARGET = 20_000.0
REPLAY_RATE_TARGET = 100_000.0

RAW_INSERT = """
INSERT INTO raw_events (id, stream_id, stream_version, type, origin, data, occurred_at,
                        correlation_id, causation_id, traceparent, actor)
VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11)
"""


@dataclass
class Options:
    appends: int
    writers: int
    repeats: int
    events: int
    replay_events: int
    phases: Sequence[str]
    profiler: Profiler
    output: Path
    quick: bool
    pg_settings: dict[str, str] = field(default_factory=dict)


def service_settings(definition: ServiceDefinition, database_url: str, nats_url: str) -> Settings:
    """The kit's default settings, pointed at the benchmark's servers."""
    return Settings(
        service=definition.name,
        database_url=database_url,
        nats_url=nats_url,
        run_migrations=False,
        log_json=False,
        jwt_secret=generate_secret(),
        privacy_master_key=generate_secret(),
        stream_key=generate_secret(),
    )


async def new_runtime(definition: ServiceDefinition, servers: Servers, database: str) -> Runtime:
    """A migrated runtime of `definition` on a new database (nothing started yet)."""
    url = servers.database(database)
    runtime = Runtime(definition, service_settings(definition, url, servers.nats_url))
    await runtime.migrate()
    return runtime


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- 1. appends

Op = Callable[[int, int], Awaitable[None]]


async def run_writers(op: Op, total: int, writers: int) -> tuple[int, Timing]:
    """`writers` tasks, each calling `op(writer, i)` for its share of `total`, one at a time."""
    per_writer = max(total // writers, 1)

    async def writer(w: int) -> None:
        for i in range(per_writer):
            await op(w, i)

    with timed() as timing:
        await asyncio.gather(*(writer(w) for w in range(writers)))
    return per_writer * writers, timing


def _stream(prefix: str, writer: int, i: int) -> str:
    return f"{prefix}-{writer}-{i // STREAM_LENGTH}"


#: The kit's append transaction written by hand with asyncpg, on copies of its tables: the
#: statements `decider.handle` sends (load the stream; insert the event and its outbox row in
#: one statement; the projection's upsert), each in one transaction: the ceiling of this design.
SAME_SQL_SETUP = (
    "CREATE TABLE same_events (LIKE events INCLUDING ALL)",
    "CREATE TABLE same_outbox (position bigint PRIMARY KEY REFERENCES same_events (position))",
    "CREATE TRIGGER same_outbox_notify AFTER INSERT ON same_outbox"
    " FOR EACH STATEMENT EXECUTE FUNCTION passhub_notify_outbox()",
    "CREATE TABLE same_totals (LIKE toy_totals INCLUDING ALL)",
)
SAME_LOAD = """
SELECT position, id, stream_id, stream_version, type, origin, data, occurred_at,
       correlation_id, causation_id, traceparent, actor
FROM same_events WHERE origin = $1 AND stream_id = $2 ORDER BY stream_version
"""
SAME_APPEND = """
WITH new AS (
    INSERT INTO same_events (id, stream_id, stream_version, type, origin, data, occurred_at,
                             correlation_id, causation_id, traceparent, actor)
    VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11)
    RETURNING position
)
INSERT INTO same_outbox (position) SELECT position FROM new
"""
SAME_TOTALS = """
INSERT INTO same_totals (counter_id, total, events) VALUES ($1, $2, 1)
ON CONFLICT (counter_id) DO UPDATE
SET total = same_totals.total + excluded.total, events = same_totals.events + excluded.events
"""


@dataclass
class Best:
    """The fastest of repeated measurements of one variant."""

    events: int = 0
    timing: Timing = field(default_factory=Timing)

    @property
    def rate(self) -> float:
        return self.events / self.timing.seconds if self.timing.seconds else 0.0

    def offer(self, events: int, timing: Timing) -> None:
        if not self.events or events / timing.seconds > self.rate:
            self.events, self.timing = events, timing


#: what `decider.handle` is held to: the peer library (sequential; 16 writers) and the ceiling
PEER_TARGET = {"handle": (1.5, 3.0), "grouped": (None, 10.0)}
CEILING_TARGET = 0.6


def _us(best: Best) -> float:
    """Client CPU per command, in microseconds."""
    return 1e6 * best.timing.cpu_seconds / best.events if best.events else 0.0


def append_figures(
    best: dict[str, Best], mode: str, writers: int, repeats: int, labels: dict[str, str]
) -> list[Figure]:
    """The append figures of one mode: `decider.handle` and `handle_many` against the peer
    library, `decider.handle` against the hand-written ceiling, the store against a raw INSERT."""
    how = "sequential" if writers == 1 else f"{writers} concurrent writers"
    peer_, same, raw_ = best["peer"], best["same_sql"], best["raw"]
    common = {
        "writers": writers,
        "events_per_stream": STREAM_LENGTH,
        "best_of": repeats,
        "peer_rate": peer_.rate,
        "peer_cpu_us_per_event": _us(peer_),
        "same_statements_rate": same.rate,
        "same_statements_cpu_us_per_event": _us(same),
        "raw_rate": raw_.rate,
        "raw_cpu_us_per_event": _us(raw_),
    }
    figures: list[Figure] = []
    for name, what in labels.items():
        kit = best[name]
        notes = {
            **common,
            "kit_cpu_us_per_event": _us(kit),
            "ratio_to_peer": kit.rate / peer_.rate if peer_.rate else 0.0,
            "ratio_to_same_statements": kit.rate / same.rate if same.rate else 0.0,
        }
        per = "1 event/command" if name == "grouped" else "1 event/tx"
        if name in PEER_TARGET:
            target = PEER_TARGET[name][0 if writers == 1 else 1]
            base, base_label = peer_, "eventsourcing (psycopg), load + method + save"
            if writers > 1:
                base_label += f", {writers} threads"
        elif name == "handle_asyncpg":
            target, base = None, same
            base_label = "the same statements, asyncpg by hand" + (
                "" if writers == 1 else f", {writers} conns"
            )
        else:
            target, base = None, raw_
            base_label = "asyncpg INSERT, 1 row/tx" + ("" if writers == 1 else f", {writers} conns")
        figures.append(
            Figure(
                key=f"appends.{name}.{mode}",
                label=f"{what}, {per}, {how}",
                events=kit.events,
                seconds=kit.timing.seconds,
                raw_label=base_label,
                raw_events=base.events,
                raw_seconds=base.timing.seconds,
                target=f">= {target:g}x the peer" if target else "",
                target_ratio=target,
                cpu_share=kit.timing.cpu_share,
                raw_cpu_share=base.timing.cpu_share,
                notes=notes,
            )
        )
    handle_ = best["handle"]
    figures.append(
        Figure(
            key=f"appends.handle_vs_ceiling.{mode}",
            label=f"decider.handle against its own statements hand-written, {how}",
            events=handle_.events,
            seconds=handle_.timing.seconds,
            raw_label="the same statements, asyncpg by hand"
            + ("" if writers == 1 else f", {writers} conns"),
            raw_events=same.events,
            raw_seconds=same.timing.seconds,
            target=f">= {CEILING_TARGET:.0%} of the ceiling" if writers == 1 else "",
            target_ratio=CEILING_TARGET if writers == 1 else None,
            cpu_share=handle_.timing.cpu_share,
            raw_cpu_share=same.timing.cpu_share,
            notes={**common, "kit_cpu_us_per_event": _us(handle_)},
        )
    )
    return figures


class AppendVariants:
    """The ways of appending measured side by side: each `name(prefix)` gives the operation
    `op(writer, i)` that runs one command on the writer's streams named after `prefix`."""

    def __init__(
        self,
        runtime: Runtime,
        raw_conns: list[asyncpg.Connection],
        kit_conns: list[asyncpg.Connection],
    ) -> None:
        self.runtime = runtime
        self.kit_conns = kit_conns
        self.store = runtime.store
        self.bare = EventStore(PUBLISHER)  # the store alone: events and outbox rows, no projection
        self.raw_conns = raw_conns

    def all(self) -> dict[str, Callable[[str], Op]]:
        return {
            "raw": self.raw,
            "same_sql": self.same_sql,
            "handle": self.handle,
            "grouped": self.grouped,
            "append": self.append,
            "store": self.store_only,
            "handle_asyncpg": self.handle_asyncpg,
        }

    def handle(self, prefix: str) -> Op:
        async def op(w: int, i: int) -> None:
            stream = _stream(prefix, w, i)
            async with self.runtime.transaction() as conn:
                await handle(
                    conn, self.store, toy.counter, stream, toy.Increment(stream, 1 + i % 7)
                )

        return op

    def handle_asyncpg(self, prefix: str) -> Op:
        """`decider.handle`, the same code, in a transaction of a plain asyncpg connection
        (JSON codecs as SQLAlchemy sets them) held by the writer instead of
        `Runtime.transaction()`: what the kit's command path costs without its pool and the
        `AsyncConnection` a service's transaction is."""

        async def op(w: int, i: int) -> None:
            stream = _stream(prefix, w, i)
            conn = self.kit_conns[w]
            async with conn.transaction():
                await handle(
                    conn, self.store, toy.counter, stream, toy.Increment(stream, 1 + i % 7)
                )

        return op

    def _appending(self, prefix: str, store: EventStore) -> Op:
        async def op(w: int, i: int) -> None:
            stream = _stream(prefix, w, i)
            event = toy.Counted(counter_id=stream, amount=1 + i % 7)
            async with self.runtime.transaction() as conn:
                await store.append(conn, stream, i % STREAM_LENGTH, [event])

        return op

    def append(self, prefix: str) -> Op:
        return self._appending(prefix, self.store)

    def store_only(self, prefix: str) -> Op:
        return self._appending(prefix, self.bare)

    def raw(self, prefix: str) -> Op:
        async def op(w: int, i: int) -> None:
            stream = _stream(prefix, w, i)
            data = json.dumps({"counter_id": stream, "amount": 1 + i % 7})
            await self.raw_conns[w].execute(RAW_INSERT, *_row(stream, i % STREAM_LENGTH + 1, data))

        return op

    def same_sql(self, prefix: str) -> Op:
        async def op(w: int, i: int) -> None:
            stream = _stream(prefix, w, i)
            amount = 1 + i % 7
            data = json.dumps({"counter_id": stream, "amount": amount})
            conn = self.raw_conns[w]
            async with conn.transaction():
                history = await conn.fetch(SAME_LOAD, PUBLISHER, stream)
                await conn.execute(SAME_APPEND, *_row(stream, len(history) + 1, data))
                await conn.execute(SAME_TOTALS, stream, amount)

        return op

    async def _write_batch(
        self, batch: list[Command[toy.Increment]]
    ) -> Sequence[list[Recorded] | Exception]:
        async with self.runtime.transaction() as conn:
            return await handle_many(conn, self.store, toy.counter, batch)

    def grouped(self, prefix: str) -> Op:
        # one group per measurement, as a service holds one per use case
        group: GroupCommit[Command[toy.Increment], list[Recorded]] = GroupCommit(self._write_batch)

        async def op(w: int, i: int) -> None:
            stream = _stream(prefix, w, i)
            await group.submit(Command(stream, toy.Increment(stream, 1 + i % 7)))

        return op


async def with_json_codecs(conn: asyncpg.Connection) -> None:
    """json and jsonb as SQLAlchemy's asyncpg dialect sets them up (text in, parsed out)."""
    await conn.set_type_codec(
        "json", encoder=str.encode, decoder=orjson.loads, schema="pg_catalog", format="binary"
    )
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda text: b"\x01" + text.encode(),
        decoder=lambda data: orjson.loads(data[1:]),
        schema="pg_catalog",
        format="binary",
    )


def _row(stream: str, version: int, data: str) -> tuple[Any, ...]:
    """An event row's values in the order of `RAW_INSERT` and `SAME_APPEND`."""
    return (
        new_event_id(), stream, version, COUNTED, PUBLISHER, data, datetime.now(UTC),
        None, None, None, None,
    )  # fmt: skip


async def bench_appends(servers: Servers, opts: Options) -> list[Figure]:
    runtime = await new_runtime(toy.publisher, servers, "bench_appends")
    dsn = asyncpg_dsn(runtime.settings.database_url)
    admin = await asyncpg.connect(dsn)
    await admin.execute("CREATE TABLE raw_events (LIKE events INCLUDING ALL)")
    for statement in SAME_SQL_SETUP:
        await admin.execute(statement)
    await admin.close()
    raw_conns = [await asyncpg.connect(dsn) for _ in range(opts.writers)]
    kit_conns = [await asyncpg.connect(dsn) for _ in range(opts.writers)]
    for conn in kit_conns:
        await with_json_codecs(conn)
    variants = AppendVariants(runtime, raw_conns, kit_conns).all()
    labels = {
        "handle": "decider.handle",
        "grouped": "decider.handle_many through GroupCommit",
        "append": "EventStore.append",
        "store": "EventStore.append, no projection",
        "handle_asyncpg": "decider.handle in a plain asyncpg transaction",
    }
    figures: list[Figure] = []
    peer_app = peer.application(servers.database("bench_peer"), opts.writers)

    async def run_peer(total: int, writers: int) -> tuple[int, Timing]:
        with timed() as timing:
            count = await asyncio.to_thread(peer.run, peer_app, total, writers, STREAM_LENGTH)
        return count, timing

    try:
        # Warm up: connections in the pools, prepared statements, plan caches.
        for name, make in variants.items():
            await run_writers(make(f"warm-{name}"), 20 * opts.writers, opts.writers)
        await run_peer(20 * opts.writers, opts.writers)

        for mode, writers in (("sequential", 1), ("concurrent", opts.writers)):
            best = {name: Best() for name in (*variants, "peer")}
            load_before = machine_load()
            for round_ in range(opts.repeats):
                for name, make in variants.items():
                    phase = f"appends-{name}-{mode}"
                    profiling = round_ == 0 and name in labels
                    with opts.profiler.phase(phase) if profiling else nullcontext():
                        count, timing = await run_writers(
                            make(f"{name}-{mode}-{round_}"), opts.appends, writers
                        )
                    best[name].offer(count, timing)
                best["peer"].offer(*await run_peer(opts.appends, writers))
            load_after = machine_load()
            progress(
                f"appends, {mode}: "
                + ", ".join(f"{name} {b.rate:,.0f}/s" for name, b in best.items())
            )
            figures += append_figures(best, mode, writers, opts.repeats, labels)
            for figure in figures[-len(labels) - 1 :]:
                figure.notes.update(load_before=load_before, load_after=load_after)
    finally:
        for conn in raw_conns + kit_conns:
            await conn.close()
        await runtime.engine.dispose()
    return figures


# --------------------------------------------------------------------------- 2. relay


async def fill_outbox(runtime: Runtime, count: int, prefix: str = "r") -> None:
    """Append `count` public events through the store, many streams per transaction."""
    done = 0
    stream = 0
    while done < count:
        async with runtime.transaction() as conn:
            for _ in range(FILL_STREAMS_PER_TRANSACTION):
                size = min(FILL_STREAM_LENGTH, count - done)
                if size <= 0:
                    break
                sid = f"{prefix}-{stream}"
                batch = [toy.Counted(counter_id=sid, amount=1 + k % 7) for k in range(size)]
                await runtime.store.append(conn, sid, 0, batch)
                done += size
                stream += 1


async def outbox_size(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM outbox"))
    finally:
        await conn.close()


async def stream_messages(nats_url: str, name: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().stream_info(name)
        return int(info.state.messages)
    except NotFoundError:
        return 0
    finally:
        await nc.close()


async def drain(runtime: Runtime, count: int) -> Timing:
    """Run an `OutboxRelay` from cold until it has published `count` events."""
    s = runtime.settings
    relay = OutboxRelay(
        runtime.name,
        s.database_url,
        s.nats_url,
        batch_size=s.relay_batch_size,
        poll_seconds=s.relay_poll_seconds,
    )
    with timed() as timing:
        task = asyncio.create_task(relay.run())
        while relay.published < count:
            if task.done():
                task.result()
                raise RuntimeError("the relay stopped early")
            await asyncio.sleep(0.002)
    relay.stop()
    await asyncio.wait_for(task, timeout=30)
    return timing


async def raw_publish(nats_url: str, events: Sequence[Recorded]) -> Timing:
    """Publish the same CloudEvents with plain nats-py: pipelined, then every ack awaited."""
    messages = [
        (
            "bench.raw." + e.subject,
            envelope.encode(e),
            {"Nats-Msg-Id": str(e.id), "Content-Type": envelope.CONTENT_TYPE},
        )
        for e in events
    ]
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        config = stream_config(PUBLISHER)
        await js.add_stream(
            StreamConfig(
                name="BENCH_RAW",
                subjects=["bench.raw.>"],
                storage=config.storage,
                retention=config.retention,
                duplicate_window=config.duplicate_window,
            )
        )
        with timed() as timing:
            futures = [
                await js.publish_async(subject, payload, headers=headers)
                for subject, payload, headers in messages
            ]
            await asyncio.gather(*futures)
        info = await js.stream_info("BENCH_RAW")
        if info.state.messages != len(messages):
            raise RuntimeError(f"raw publish stored {info.state.messages} of {len(messages)}")
        await js.delete_stream("BENCH_RAW")
    finally:
        await nc.close()
    return timing


async def published_events(runtime: Runtime) -> list[Recorded]:
    events: list[Recorded] = []
    async with runtime.engine.connect() as conn:
        async for batch in runtime.store.read_all(conn):
            events.extend(batch)
    return events


async def bench_relay(servers: Servers, opts: Options) -> list[Figure]:
    runtime = await new_runtime(toy.publisher, servers, "bench_relay")
    try:
        await runtime.ensure_streams()
        with timed() as fill:
            await fill_outbox(runtime, opts.events)
        progress(
            f"outbox filled with {opts.events:,} events in {fill.seconds:.1f}s "
            f"({opts.events / fill.seconds:,.0f}/s through the store, big transactions)"
        )
        with opts.profiler.phase("relay"):
            timing = await drain(runtime, opts.events)
        left = await outbox_size(asyncpg_dsn(runtime.settings.database_url))
        stored = await stream_messages(servers.nats_url, stream_name(PUBLISHER))
        if left or stored != opts.events:
            raise RuntimeError(f"relay left {left} in the outbox, stream holds {stored}")
        progress(f"relay: {opts.events / timing.seconds:,.0f}/s")
        events = await published_events(runtime)
        raw_timing = await raw_publish(servers.nats_url, events)
        progress(f"raw publish_async: {len(events) / raw_timing.seconds:,.0f}/s")
        size = sum(len(envelope.encode(e)) for e in events[:1000]) / min(len(events), 1000)
    finally:
        await runtime.engine.dispose()
    return [
        Figure(
            key="relay",
            label="OutboxRelay, outbox to JetStream",
            events=opts.events,
            seconds=timing.seconds,
            raw_label="nats-py publish_async, pipelined",
            raw_events=len(events),
            raw_seconds=raw_timing.seconds,
            cpu_share=timing.cpu_share,
            raw_cpu_share=raw_timing.cpu_share,
            notes={
                "batch_size": runtime.settings.relay_batch_size,
                "mean_payload_bytes": round(size),
                "fill_rate": opts.events / fill.seconds,
            },
        )
    ]


# --------------------------------------------------------------------------- 3. consumer


async def ensure_stream_holds(servers: Servers, count: int) -> None:
    """Make sure the publisher's stream holds `count` events (when the relay phase did not
    run), by filling an outbox and draining it, untimed."""
    if await stream_messages(servers.nats_url, stream_name(PUBLISHER)) >= count:
        return
    runtime = await new_runtime(toy.publisher, servers, "bench_relay")
    try:
        await runtime.ensure_streams()
        await fill_outbox(runtime, count)
        await drain(runtime, count)
    finally:
        await runtime.engine.dispose()


async def redeliveries(nats_url: str, durable: str) -> int:
    """Deliveries beyond one per message: each one is a message that was fetched but neither
    acked nor nak'ed, and came back only after `ack_wait`."""
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().consumer_info(stream_name(PUBLISHER), durable)
        return int(info.delivered.consumer_seq or 0) - int(info.delivered.stream_seq or 0)
    finally:
        await nc.close()


async def poll_until(
    count: Callable[[], Awaitable[int]], target: int, interval: float = 0.02
) -> None:
    """Poll `count()` (a query from outside the service) until it reaches `target`."""
    while True:
        if await count() >= target:
            return
        await asyncio.sleep(interval)


async def applied(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT coalesce(sum(events), 0) FROM toy_totals"))


async def raw_fetch(nats_url: str, count: int, batch: int) -> Timing:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        sub = await js.pull_subscribe(
            f"passhub.{PUBLISHER}.>",
            durable="bench-raw",
            stream=stream_name(PUBLISHER),
            config=ConsumerConfig(ack_wait=30, max_ack_pending=max(batch * 4, 1000)),
        )
        received = 0
        with timed() as timing:
            while received < count:
                try:
                    messages = await sub.fetch(batch, timeout=1.0)
                except TimeoutError:
                    continue
                for msg in messages:
                    await msg.ack()
                received += len(messages)
            await nc.flush()
        await js.delete_consumer(stream_name(PUBLISHER), "bench-raw")
    finally:
        await nc.close()
    return timing


async def bench_consumer(servers: Servers, opts: Options) -> list[Figure]:
    await ensure_stream_holds(servers, opts.events)
    total = await stream_messages(servers.nats_url, stream_name(PUBLISHER))
    runtime = await new_runtime(toy.consumer, servers, "bench_consumer")
    conn = await asyncpg.connect(asyncpg_dsn(runtime.settings.database_url))
    try:
        with opts.profiler.phase("consumer"), timed() as timing:
            await runtime.start(relay=False)
            await poll_until(lambda: applied(conn), total)
        recorded = int(await conn.fetchval("SELECT count(*) FROM events"))
        if recorded != total:
            raise RuntimeError(f"consumer recorded {recorded} of {total}")
        redelivered = await redeliveries(
            servers.nats_url, durable_name(toy.consumer.name, PUBLISHER)
        )
    finally:
        await runtime.stop()
        await conn.close()
    progress(f"consumer runtime: {total / timing.seconds:,.0f}/s")
    raw_timing = await raw_fetch(servers.nats_url, total, runtime.settings.consumer_batch_size)
    progress(f"raw fetch + ack: {total / raw_timing.seconds:,.0f}/s")
    return [
        Figure(
            key="consumer",
            label="consumer Runtime: fetch, record, project, ack",
            events=total,
            seconds=timing.seconds,
            raw_label="nats-py pull fetch + ack, no DB",
            raw_events=total,
            raw_seconds=raw_timing.seconds,
            target=f">= {CONSUMER_RATE_TARGET:,.0f}/s",
            target_rate=CONSUMER_RATE_TARGET,
            cpu_share=timing.cpu_share,
            raw_cpu_share=raw_timing.cpu_share,
            notes={
                "batch_size": runtime.settings.consumer_batch_size,
                "redelivered": redelivered,
                "ack_wait_seconds": runtime.settings.consumer_ack_wait_seconds,
            },
        )
    ]


# --------------------------------------------------------------------------- 4. replay

FILL_REPLAY = f"""
INSERT INTO events (id, stream_id, stream_version, type, origin, data, occurred_at)
SELECT gen_random_uuid(), 'c-' || (g % {REPLAY_COUNTERS}), g / {REPLAY_COUNTERS} + 1, $1, $2,
       jsonb_build_object('counter_id', 'c-' || (g % {REPLAY_COUNTERS}), 'amount', 1 + g % 7),
       now()
FROM generate_series($3::bigint, $4::bigint) AS g
"""

LIVE_TOTALS = """
INSERT INTO toy_totals (counter_id, total, events)
SELECT data->>'counter_id', sum((data->>'amount')::int), count(*) FROM events GROUP BY 1
"""


async def fill_log(dsn: str, count: int) -> None:
    """`count` events of `REPLAY_COUNTERS` streams, and the totals the live projection would
    hold for them (set-based SQL: this is setup, not what is measured)."""
    conn = await asyncpg.connect(dsn)
    try:
        chunk = 200_000
        for start in range(0, count, chunk):
            end = min(start + chunk, count) - 1
            await conn.execute(FILL_REPLAY, COUNTED, PUBLISHER, start, end)
        await conn.execute(LIVE_TOTALS)
        await conn.execute("VACUUM (ANALYZE) events")
        await conn.execute("VACUUM (ANALYZE) toy_totals")
    finally:
        await conn.close()


#: rows per page of the raw reader, as replay's (replay.DEFAULT_BATCH_SIZE)
RAW_PAGE = 20_000


async def raw_read(dsn: str) -> tuple[int, Timing]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = 0
        with timed() as timing:
            async with conn.transaction():
                cursor = await conn.cursor("SELECT * FROM events ORDER BY position")
                while page := await cursor.fetch(RAW_PAGE):
                    rows += len(page)
    finally:
        await conn.close()
    return rows, timing


async def bench_replay(servers: Servers, opts: Options) -> list[Figure]:
    runtime = await new_runtime(toy.publisher, servers, "bench_replay")
    dsn = asyncpg_dsn(runtime.settings.database_url)
    try:
        with timed() as fill:
            await fill_log(dsn, opts.replay_events)
        progress(f"log filled with {opts.replay_events:,} events in {fill.seconds:.1f}s")
        await raw_read(dsn)  # warm the caches for both readers
        raw_rows, raw_timing = await raw_read(dsn)
        progress(f"raw cursor: {raw_rows / raw_timing.seconds:,.0f}/s")
        with opts.profiler.phase("replay"), timed() as timing:
            report = await replay.rebuild(runtime.engine, runtime.store, commit=False)
        progress(f"replay.rebuild: {report.events / timing.seconds:,.0f}/s")
        if report.events != opts.replay_events or not report.identical:
            raise RuntimeError(
                f"replay saw {report.events} events, differing: {report.differing_tables}"
            )
    finally:
        await runtime.engine.dispose()
    return [
        Figure(
            key="replay",
            label="replay.rebuild, toy totals projection",
            events=report.events,
            seconds=timing.seconds,
            raw_label="asyncpg cursor, all columns, 20k-row pages",
            raw_events=raw_rows,
            raw_seconds=raw_timing.seconds,
            target=f">= {REPLAY_RATE_TARGET:,.0f}/s (1M events)",
            target_rate=REPLAY_RATE_TARGET,
            cpu_share=timing.cpu_share,
            raw_cpu_share=raw_timing.cpu_share,
            notes={
                "streams": REPLAY_COUNTERS,
                "identical": report.identical,
                "rebuild_seconds": report.seconds,
            },
        )
    ]


# --------------------------------------------------------------------------- main

PREAMBLE = """
Throughput of the shared kit (`python -m bench.kit`) with the toy service of
`tests/kit/toy.py`, on embedded PostgreSQL and NATS started by the benchmark, each
next to the same work done with the plain client library (asyncpg, nats-py) in the
same run. Client, PostgreSQL and NATS share the machine's CPUs. PostgreSQL runs with
`synchronous_commit=off` (fsync on) unless `--durable` is given: a commit then does not
wait for the disk, whose flush latency on a shared virtual machine varies thirty-fold
and would hide the cost of the code. Append figures are the best of `--repeats` runs.
"""


async def run(opts: Options) -> list[Figure]:
    pg_settings = opts.pg_settings or None
    figures: list[Figure] = []
    with Servers(pg_settings) as servers:
        progress(f"servers up: {servers.nats_url}, {servers.postgres.url}")
        info: dict[str, Any] = {
            "machine": machine_info(),
            "servers": await server_info(servers),
            "options": {
                "quick": opts.quick,
                "appends": opts.appends,
                "writers": opts.writers,
                "repeats": opts.repeats,
                "events": opts.events,
                "replay_events": opts.replay_events,
                "phases": list(opts.phases),
                "pg_settings": opts.pg_settings,
            },
        }
        benches = {
            "appends": bench_appends,
            "relay": bench_relay,
            "consumer": bench_consumer,
            "replay": bench_replay,
        }
        for phase in PHASES:
            if phase in opts.phases:
                progress(f"{phase}...")
                before = machine_load()
                measured = await benches[phase](servers, opts)
                after = machine_load()
                for figure in measured:
                    figure.notes.setdefault("load_before", before)
                    figure.notes.setdefault("load_after", after)
                figures += measured
    write_results(
        "kit",
        "Kit benchmark",
        figures,
        info,
        preamble=PREAMBLE,
        epilogue=epilogue(figures),
        directory=opts.output,
    )
    return figures


def epilogue(figures: Sequence[Figure]) -> str:
    """Markdown after the main table: the append breakdown and the machine's load."""
    lines: list[str] = []
    appends = {f.key: f for f in figures if f.key.startswith("appends.")}
    if appends:
        lines += [
            "### Appends: the peer, the kit and the ceiling",
            "",
            "One command = load the stream, decide, append one event (and, for the kit, its",
            "outbox row and the toy projection's row) in one transaction. The peer is the",
            "`eventsourcing` library (`bench/peer.py`): get the aggregate, call a method, save,",
            "from threads. The ceiling is the kit's own statements written by hand with asyncpg",
            'on copies of its tables: what this design can reach on this machine. "handle in a',
            'plain asyncpg tx" is the same `decider.handle` in a transaction of an asyncpg',
            "connection the writer holds, instead of `Runtime.transaction()` (the kit's pool and",
            "the `AsyncConnection` it yields, `passhub_shared/storage/connections.py`).",
            "The raw INSERT is one row per transaction, no read.",
            "",
            "| mode | peer (cmd/s) | decider.handle | handle / peer | handle_many, GroupCommit "
            "| grouped / peer | ceiling | handle / ceiling "
            "| handle in a plain asyncpg tx / ceiling | raw INSERT "
            "| client CPU per command, peer / handle / handle in asyncpg tx / ceiling / raw (µs) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for mode in ("sequential", "concurrent"):
            h, g = appends.get(f"appends.handle.{mode}"), appends.get(f"appends.grouped.{mode}")
            a = appends.get(f"appends.handle_asyncpg.{mode}")
            if h is None or g is None or a is None:
                continue
            n = h.notes
            writers = n["writers"]
            lines.append(
                f"| {mode} ({writers} writer{'s' if writers > 1 else ''}) "
                f"| {n['peer_rate']:,.0f} | {h.rate:,.0f} | {n['ratio_to_peer']:.2f}x "
                f"| {g.rate:,.0f} | {g.notes['ratio_to_peer']:.2f}x "
                f"| {n['same_statements_rate']:,.0f} | {n['ratio_to_same_statements']:.0%} "
                f"| {a.notes['ratio_to_same_statements']:.0%} | {n['raw_rate']:,.0f} "
                f"| {n['peer_cpu_us_per_event']:,.0f} / {n['kit_cpu_us_per_event']:,.0f} / "
                f"{a.notes['kit_cpu_us_per_event']:,.0f} / "
                f"{n['same_statements_cpu_us_per_event']:,.0f} / {n['raw_cpu_us_per_event']:,.0f} |"
            )
        lines.append("")
    lines += [
        "### Machine load during each measurement",
        "",
        "Other work on the machine slows every figure; ratios (same run, same servers) are the",
        "steadier numbers. CPU pressure is the share of the last 10 s in which some task waited",
        "for a CPU.",
        "",
        "| benchmark | client CPU, kit / raw (cores) | load avg before / after "
        "| CPU pressure before / after (%) |",
        "|---|---:|---:|---:|",
    ]
    for f in figures:
        b, a = f.notes.get("load_before", {}), f.notes.get("load_after", {})
        lines.append(
            f"| {f.label} | {f.cpu_share:.2f} / {f.raw_cpu_share:.2f} "
            f"| {_num(b.get('loadavg_1m'))} / {_num(a.get('loadavg_1m'))} "
            f"| {_num(b.get('cpu_pressure_avg10'))} / {_num(a.get('cpu_pressure_avg10'))} |"
        )
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def parse(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.kit", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small CI-sized run")
    parser.add_argument(
        "--events", type=int, help="events for the relay and consumer (50,000; quick 5,000)"
    )
    parser.add_argument(
        "--appends", type=int, help="appends per append measurement (2,000; quick 300)"
    )
    parser.add_argument("--writers", type=int, default=16, help="concurrent writers (16)")
    parser.add_argument(
        "--repeats", type=int, help="append measurements repeated, best kept (2; quick 1)"
    )
    parser.add_argument(
        "--replay-events", type=int, help="events in the replayed log (1,000,000; quick 100,000)"
    )
    parser.add_argument(
        "--only", action="append", choices=PHASES, help="run only this phase (repeatable)"
    )
    parser.add_argument(
        "--durable",
        action="store_true",
        help="PostgreSQL with synchronous_commit=on: every commit waits for its WAL flush, so "
        "sequential figures measure the disk more than the code (default: off; fsync stays on)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="directory for kit.json and kit.md (bench/results; quick: a temporary directory)",
    )
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="cProfile the measured phases into DIR"
    )
    parser.add_argument(
        "--profile-phase",
        action="append",
        default=[],
        help="profile only these phases (e.g. relay, consumer, replay, appends-handle-sequential)",
    )
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    output = args.output or (
        Path(tempfile.gettempdir()) / "passhub-bench" if quick else RESULTS_DIR
    )
    return Options(
        appends=args.appends or (300 if quick else 2000),
        writers=args.writers,
        repeats=args.repeats or (1 if quick else 2),
        events=args.events or (5000 if quick else 50_000),
        replay_events=args.replay_events or (100_000 if quick else 1_000_000),
        phases=args.only or PHASES,
        profiler=Profiler(args.profile, args.profile_phase),
        output=output,
        quick=quick,
        pg_settings={} if args.durable else {"synchronous_commit": "off"},
    )


def main(argv: Sequence[str] | None = None) -> None:
    opts = parse(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.disable(logging.INFO)  # FastStream logs each restart of its fetch task at INFO
    figures = loop.run(run(opts))
    print(markdown_table(figures))
    print(f"\nresults: {opts.output / 'kit.json'}, {opts.output / 'kit.md'}")


if __name__ == "__main__":
    main()
