"""Consumers on real NATS and PostgreSQL: redelivery, poison events, crashes, outages."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest
from sqlalchemy import text

from passhub_shared.messages import envelope
from passhub_shared.messages.events import Recorded, new_event_id, utcnow
from passhub_shared.messaging.deadletters import list_dead_letters, retry_dead_letters
from passhub_shared.messaging.subscriptions import durable_name
from passhub_shared.operations.replay import rebuild
from passhub_shared.operations.service import Runtime
from passhub_shared.storage.decider import handle
from tests.kit import toy
from tests.support import service_settings, wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def consumer(consumer_db: str, nats_url: str) -> AsyncIterator[Runtime]:
    runtime = Runtime(toy.consumer, service_settings(consumer_db, nats_url))
    await runtime.start()
    yield runtime
    await runtime.stop()


async def _increment(rt: Runtime, counter: str, amount: int) -> None:
    async with rt.transaction() as conn:
        await handle(conn, rt.store, toy.counter, counter, toy.Increment(counter, amount))


async def _totals(rt: Runtime) -> dict[str, tuple[int, int]]:
    async with rt.engine.connect() as conn:
        rows = await conn.execute(text("SELECT counter_id, total, events FROM toy_totals"))
        return {r.counter_id: (r.total, r.events) for r in rows}


async def _consumed(rt: Runtime) -> int:
    async with rt.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM events"))).scalar_one())


def _counted(counter: str, amount: int, version: int) -> Recorded:
    return Recorded(
        id=new_event_id(),
        stream_id=counter,
        stream_version=version,
        type=toy.Counted.type_name(),
        origin="kittest",
        data={"counter_id": counter, "amount": amount},
        occurred_at=utcnow(),
    )


async def _publish_raw(nats_url: str, events: list[Recorded], msg_id_suffix: str = "") -> None:
    """Publish as any outside producer would; a suffix on Nats-Msg-Id defeats de-duplication,
    which is how a redelivery reaches a consumer."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for e in events:
            await js.publish(
                e.subject, envelope.encode(e), headers={"Nats-Msg-Id": f"{e.id}{msg_id_suffix}"}
            )
    finally:
        await nc.close()


async def test_a_redelivered_event_changes_nothing(consumer: Runtime, nats_url: str) -> None:
    events = [_counted("a", 5, 1), _counted("a", 7, 2)]
    await _publish_raw(nats_url, events)
    await wait_for(lambda: _has_events(consumer, 2))
    await _publish_raw(nats_url, events, msg_id_suffix="-again")
    await _publish_raw(nats_url, [_counted("b", 1, 1)])
    await wait_for(lambda: _has_events(consumer, 3))
    await asyncio.sleep(0.3)
    assert await _totals(consumer) == {"a": (12, 2), "b": (1, 1)}


async def _has_events(rt: Runtime, n: int) -> bool:
    return await _consumed(rt) >= n


async def test_a_poison_event_is_parked_and_retried_once_fixed(
    consumer: Runtime, nats_url: str
) -> None:
    poison = _counted("p", toy.POISON_AMOUNT, 1)
    behind = [_counted("q", i, i) for i in range(1, 21)]
    await _publish_raw(nats_url, [poison, *behind])
    # the events behind it are not blocked
    await wait_for(lambda: _has_events(consumer, 20), timeout=30)
    await wait_for(lambda: _parked(consumer, 1), timeout=30)
    [letter] = await list_dead_letters(consumer.engine)
    assert letter.event_id == str(poison.id)
    assert letter.deliveries == consumer.settings.consumer_max_deliver
    assert "poisoned" in letter.error
    assert (await _totals(consumer))["q"] == (sum(range(1, 21)), 20)
    assert "p" not in await _totals(consumer)

    # still broken: the retry fails and the letter stays
    [outcome] = await retry_dead_letters(consumer.engine, consumer.applier)
    assert not outcome.ok and len(await list_dead_letters(consumer.engine)) == 1

    toy.POISON_ACTIVE["on"] = False  # the fix is deployed
    [outcome] = await retry_dead_letters(consumer.engine, consumer.applier)
    assert outcome.ok
    assert await list_dead_letters(consumer.engine) == []
    assert (await _totals(consumer))["p"] == (toy.POISON_AMOUNT, 1)
    assert await retry_dead_letters(consumer.engine, consumer.applier) == []
    assert (await rebuild(consumer.engine, consumer.store, commit=False)).identical


async def _parked(rt: Runtime, n: int) -> bool:
    return len(await list_dead_letters(rt.engine)) >= n


async def test_consumer_survives_its_database_connections_being_terminated(
    publisher: Runtime, consumer: Runtime
) -> None:
    for i in range(30):
        await _increment(publisher, f"c-{i % 3}", 1)
    await wait_for(lambda: _has_events(consumer, 30))
    async with publisher.engine.connect() as conn:  # any other session may kill them
        killed = (
            await conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": consumer.engine.url.database},
            )
        ).scalar_one()
    assert killed >= 1
    for i in range(30):
        await _increment(publisher, f"c-{i % 3}", 1)
    await wait_for(lambda: _has_events(consumer, 60), timeout=30)
    assert await _totals(consumer) == await _totals(publisher)


async def test_idle_pull_consumers_recover_after_a_nats_restart(
    publisher: Runtime, consumer: Runtime, nats_server: Any
) -> None:
    if not nats_server.can_restart:
        pytest.skip("this NATS server cannot be restarted from the tests")
    await _increment(publisher, "x", 1)
    await wait_for(lambda: _has_events(consumer, 1))
    await asyncio.sleep(1.0)  # the consumer is idle, waiting in fetch
    nats_server.restart()
    await asyncio.sleep(2.0)
    for _ in range(10):
        await _increment(publisher, "x", 1)
    await wait_for(lambda: _has_events(consumer, 11), timeout=45)
    assert await _totals(consumer) == {"x": (11, 11)}


# -- the consumer as a separate process ---------------------------------------------------------


def _start_process(database_url: str, nats_url: str, slow: float) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PASSHUB_DATABASE_URL": database_url,
        "PASSHUB_NATS_URL": nats_url,
        "PASSHUB_CONSUMER_ACK_WAIT_SECONDS": "3",
        "PASSHUB_CONSUMER_BATCH_SIZE": "50",
        "PASSHUB_LOG_JSON": "false",
        "PASSHUB_ENV_FILE": "/nonexistent",
        "TOY_SLOW_APPLY": str(slow),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.kit.run_consumer"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def _wait_started(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = await asyncio.to_thread(proc.stdout.readline)
    assert "consumer started" in line, line


async def _ack_floor(nats_url: str) -> int:
    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().consumer_info(
            "PASSHUB_KITTEST", durable_name("kitconsumer", "kittest")
        )
        return int(info.ack_floor.stream_seq or 0)
    finally:
        await nc.close()


async def _publish_many(nats_url: str, n: int) -> int:
    events = [_counted(f"k-{i % 10}", 1, i // 10 + 1) for i in range(n)]
    await _publish_raw(nats_url, events)
    return n


async def test_a_consumer_killed_mid_batch_ends_equal_to_a_full_replay(
    consumer_db: str, nats_url: str
) -> None:
    probe = Runtime(toy.consumer, service_settings(consumer_db, nats_url))
    await probe.start(relay=False, consumers=False)  # migrate and create the streams
    try:
        proc = _start_process(consumer_db, nats_url, slow=0.15)
        await _wait_started(proc)
        total = await _publish_many(nats_url, 1000)
        await wait_for(lambda: _has_events(probe, 100), timeout=30)
        proc.send_signal(signal.SIGKILL)  # no goodbye: a batch is mid-transaction
        proc.wait(timeout=10)
        killed_at = await _consumed(probe)
        assert 0 < killed_at < total

        proc = _start_process(consumer_db, nats_url, slow=0.0)
        await _wait_started(proc)
        await wait_for(lambda: _has_events(probe, total), timeout=60)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)

        assert await _totals(probe) == {f"k-{i}": (100, 100) for i in range(10)}
        report = await rebuild(probe.engine, probe.store, commit=False)
        assert report.events == total and report.identical
    finally:
        await probe.stop()


async def test_sigterm_lets_the_batch_in_flight_finish(consumer_db: str, nats_url: str) -> None:
    probe = Runtime(toy.consumer, service_settings(consumer_db, nats_url))
    await probe.start(relay=False, consumers=False)
    try:
        proc = _start_process(consumer_db, nats_url, slow=0.3)
        await _wait_started(proc)
        total = await _publish_many(nats_url, 600)
        await wait_for(lambda: _has_events(probe, 50), timeout=30)
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.to_thread(proc.communicate, timeout=40)
        assert proc.returncode == 0, out
        assert "consumer stopped" in out
        committed = await _consumed(probe)
        assert 0 < committed < total
        # every committed event was acked before exit, so none will come back to be redone
        assert await _ack_floor(nats_url) == committed

        proc = _start_process(consumer_db, nats_url, slow=0.0)
        await _wait_started(proc)
        await wait_for(lambda: _has_events(probe, total), timeout=60)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert await _totals(probe) == {f"k-{i}": (60, 60) for i in range(10)}
        assert await _ack_floor(nats_url) == total
    finally:
        await probe.stop()
