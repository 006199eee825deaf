"""The outbox relay on real PostgreSQL and NATS: every committed event reaches JetStream
exactly once, in order per stream, across crashes, outages and open transactions."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import nats
import pytest
from sqlalchemy import text

from passhub_shared.messaging.relay import MAX_BATCH, OutboxRelay
from passhub_shared.operations.service import Runtime
from passhub_shared.storage.decider import handle
from tests.kit import toy
from tests.support import read_stream, service_settings, wait_for

STREAM = "PASSHUB_KITTEST"
ROOT = Path(__file__).resolve().parents[2]


async def _append(rt: Runtime, counter: str, amount: int) -> None:
    async with rt.transaction() as conn:
        await handle(conn, rt.store, toy.counter, counter, toy.Increment(counter, amount))


async def _outbox_size(rt: Runtime) -> int:
    async with rt.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one())


async def _log_ids(rt: Runtime) -> list[str]:
    async with rt.engine.connect() as conn:
        rows = await conn.execute(text("SELECT id FROM events ORDER BY position"))
        return [str(r.id) for r in rows]


def _assert_in_order_per_stream(messages: list[dict[str, Any]]) -> None:
    last: dict[str, int] = {}
    for m in messages:
        assert m["streamversion"] == last.get(m["subject"], 0) + 1, m
        last[m["subject"]] = m["streamversion"]


async def test_every_committed_event_is_published_once_in_order(
    publisher: Runtime, nats_url: str
) -> None:
    for i in range(60):
        await _append(publisher, f"c-{i % 4}", i + 1)
    await wait_for(lambda: _outbox_empty(publisher))
    messages = await read_stream(nats_url, STREAM)
    assert sorted(m["id"] for m in messages) == sorted(await _log_ids(publisher))
    _assert_in_order_per_stream(messages)
    assert all(m["type"] == "passhub.kittest.counted.v1" for m in messages)


async def _outbox_empty(rt: Runtime) -> bool:
    return await _outbox_size(rt) == 0


async def test_relay_holds_back_behind_a_transaction_still_open(
    database_url: str, nats_url: str
) -> None:
    rt = Runtime(toy.publisher, service_settings(database_url, nats_url, relay_poll_seconds=0.1))
    await rt.start()
    try:
        async with rt.engine.connect() as held:
            tx = await held.begin()
            # the open transaction takes its position and id first ...
            await rt.store.append(held, "early", 0, [toy.Counted(counter_id="early", amount=1)])
            # ... then a later transaction commits behind it
            await _append(rt, "late", 2)
            await asyncio.sleep(1.0)
            assert await read_stream(nats_url, STREAM, timeout=0.3) == [], (
                "nothing may be published past an event a still-open transaction will commit"
            )
            await tx.commit()
        await wait_for(lambda: _outbox_empty(rt))
        messages = await read_stream(nats_url, STREAM)
        assert [m["subject"] for m in messages] == ["early", "late"]
    finally:
        await rt.stop()


class _CrashAfterPublish(OutboxRelay):
    """Dies after JetStream stored the batch but before the outbox rows were deleted."""

    crashed = False

    async def _publish(self, js: Any, events: list[Any]) -> list[int]:
        acked = await super()._publish(js, events)
        _CrashAfterPublish.crashed = True
        raise asyncio.CancelledError  # as if the process were killed here
        return acked  # pragma: no cover


async def test_a_relay_killed_between_publish_and_mark_publishes_nothing_twice(
    database_url: str, nats_url: str
) -> None:
    rt = Runtime(toy.publisher, service_settings(database_url, nats_url))
    await rt.start(relay=False)
    try:
        for i in range(25):
            await _append(rt, f"c-{i % 3}", 1)
        crashing = _CrashAfterPublish("kittest", rt.settings.database_url, nats_url)
        task = asyncio.create_task(crashing.run())
        await wait_for(lambda: _flag(_CrashAfterPublish.crashed))
        await asyncio.gather(task, return_exceptions=True)
        assert await _outbox_size(rt) == 25, "the crash left every row unmarked"
        assert len(await read_stream(nats_url, STREAM)) == 25, "but JetStream has them"

        relay = OutboxRelay("kittest", rt.settings.database_url, nats_url, poll_seconds=0.1)
        task = asyncio.create_task(relay.run())
        await wait_for(lambda: _outbox_empty(rt))
        relay.stop()
        await task
        messages = await read_stream(nats_url, STREAM)
        assert len(messages) == 25, "nothing was published again"
        assert sorted(m["id"] for m in messages) == sorted(await _log_ids(rt))
        assert (relay.resumed, relay.published) == (25, 0), "found in the stream, not re-sent"
    finally:
        await rt.stop()


async def _flag(value: bool) -> bool:
    return value


async def test_events_wait_in_the_outbox_while_nats_is_down(
    database_url: str, nats_url: str, nats_server: Any
) -> None:
    if not nats_server.can_restart:
        pytest.skip("this NATS server cannot be stopped from the tests")
    rt = Runtime(toy.publisher, service_settings(database_url, nats_url, relay_poll_seconds=0.2))
    await rt.start()
    try:
        await _append(rt, "before", 1)
        await wait_for(lambda: _outbox_empty(rt))
        nats_server.stop()
        for i in range(20):
            await _append(rt, f"during-{i % 2}", 1)
        await asyncio.sleep(1.5)
        assert await _outbox_size(rt) == 20, "nothing can be published, nothing is lost"
        nats_server.start()
        await wait_for(lambda: _outbox_empty(rt), timeout=30)
        messages = await read_stream(nats_url, STREAM)
        assert sorted(m["id"] for m in messages) == sorted(await _log_ids(rt))
        _assert_in_order_per_stream(messages)
    finally:
        await rt.stop()


async def test_of_two_relay_replicas_only_one_publishes_and_the_other_takes_over(
    database_url: str, nats_url: str
) -> None:
    rt = Runtime(toy.publisher, service_settings(database_url, nats_url))
    await rt.start(relay=False)
    first = OutboxRelay("kittest", rt.settings.database_url, nats_url, poll_seconds=0.1)
    second = OutboxRelay("kittest", rt.settings.database_url, nats_url, poll_seconds=0.1)
    tasks = [asyncio.create_task(first.run()), asyncio.create_task(second.run())]
    try:
        await wait_for(lambda: _flag(first.is_leader or second.is_leader))
        await asyncio.sleep(0.5)
        assert [first.is_leader, second.is_leader].count(True) == 1
        leader, standby = (first, second) if first.is_leader else (second, first)
        for i in range(10):
            await _append(rt, f"c-{i % 2}", 1)
        await wait_for(lambda: _outbox_empty(rt))
        assert (leader.published, standby.published) == (10, 0)

        leader.stop()  # its session lock is released; the standby takes over
        await wait_for(lambda: _flag(standby.is_leader), timeout=10)
        for i in range(5):
            await _append(rt, f"c-{i % 2}", 1)
        await wait_for(lambda: _outbox_empty(rt))
        assert standby.published == 5
        assert len(await read_stream(nats_url, STREAM)) == 15
    finally:
        first.stop()
        second.stop()
        await asyncio.gather(*tasks, return_exceptions=True)
        await rt.stop()


class _NotifiedWhileDraining(OutboxRelay):
    """Receives a commit's notification in the middle of its first round."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rounds = 0

    async def _drain_once(self, conn: Any, js: Any) -> tuple[int, bool]:
        result = await super()._drain_once(conn, js)
        self.rounds += 1
        if self.rounds == 1:
            self._notified()
        return result


async def test_a_notification_during_a_round_is_not_lost_until_the_next_poll(
    database_url: str, nats_url: str
) -> None:
    rt = Runtime(toy.publisher, service_settings(database_url, nats_url))
    await rt.start(relay=False)
    # a poll far longer than the test's patience: only the notification can start round two
    relay = _NotifiedWhileDraining("kittest", rt.settings.database_url, nats_url, poll_seconds=600)
    task = asyncio.create_task(relay.run())
    try:
        await wait_for(lambda: _flag(relay.rounds >= 2), timeout=10)
    finally:
        relay.stop()
        await task
        await rt.stop()


def _start_relay_process(database_url: str, nats_url: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PASSHUB_DATABASE_URL": database_url,
        "PASSHUB_NATS_URL": nats_url,
        # one batch for the whole outbox: killed once the stream grows, the relay has stored
        # events it has not yet deleted from the outbox
        "PASSHUB_RELAY_BATCH_SIZE": str(MAX_BATCH),
        "PASSHUB_RELAY_POLL_SECONDS": "0.2",
        "PASSHUB_LOG_JSON": "false",
        "PASSHUB_ENV_FILE": "/nonexistent",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.kit.run_relay"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


async def _stream_count(js: Any) -> int:
    try:
        return int((await js.stream_info(STREAM)).state.messages)
    except Exception:  # NATS still starting
        return 0


async def test_a_relay_killed_after_publishing_and_restarted_past_the_duplicate_window_publishes_nothing_twice(  # noqa: E501
    database_url: str, nats_url: str, nats_server: Any
) -> None:
    """NATS stops; 1,500 events are written; NATS starts; the relay process is killed -9 as
    soon as the stream grows, and a relay starts again only after JetStream's duplicate window
    (shortened to one second here, two minutes by default) has passed, so that window cannot
    drop a re-publish. A plain nats-py reader still finds every event in the stream once."""
    window = 1.0
    total = 1500
    rt = Runtime(
        toy.publisher,
        service_settings(database_url, nats_url, duplicate_window_seconds=window),
    )
    await rt.start(relay=False)  # the stream, with the short window
    proc = _start_relay_process(rt.settings.database_url, nats_url)
    try:
        assert proc.stdout is not None
        line = await asyncio.to_thread(proc.stdout.readline)
        assert "relay publishing" in line, line
        if nats_server.can_restart:
            nats_server.stop()
        for i in range(total // 10):  # 150 transactions of 10 events each
            async with rt.transaction() as conn:
                events = [toy.Counted(counter_id=f"s-{i}", amount=n + 1) for n in range(10)]
                await rt.store.append(conn, f"s-{i}", 0, events)
        if nats_server.can_restart:
            nats_server.start()
        nc = await nats.connect(nats_url)
        try:
            js = nc.jetstream()
            while await _stream_count(js) == 0:
                assert proc.poll() is None, "the relay process died by itself"
                await asyncio.sleep(0.002)
            os.kill(proc.pid, signal.SIGKILL)
            await asyncio.to_thread(proc.wait)
            stored = await _stream_count(js)
        finally:
            await nc.close()
        left = await _outbox_size(rt)
        assert stored + left > total, (
            f"killed with {stored} events in the stream and {left} still in the outbox: "
            "some are in both"
        )

        await asyncio.sleep(window * 3)  # the duplicate window has forgotten them
        relay = OutboxRelay("kittest", rt.settings.database_url, nats_url, poll_seconds=0.1)
        task = asyncio.create_task(relay.run())
        await wait_for(lambda: _outbox_empty(rt), timeout=30)
        relay.stop()
        await task

        messages = await read_stream(nats_url, STREAM)
        seen = Counter(m["id"] for m in messages)
        twice = [event_id for event_id, n in seen.items() if n > 1]
        assert twice == [], f"{len(twice)} events are in the stream more than once"
        assert sorted(seen) == sorted(await _log_ids(rt))
        _assert_in_order_per_stream(messages)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        await rt.stop()


async def test_a_message_another_client_put_on_the_stream_is_looked_past(
    publisher: Runtime, nats_url: str
) -> None:
    """Something else publishes on the relay's stream: the relay's next publish no longer finds
    the sequence it expects, so it reads the stream again, looks past that message for its own
    last one, and goes on, publishing nothing twice and losing nothing."""
    for i in range(3):
        await _append(publisher, f"c-{i}", 1)
    await wait_for(lambda: _outbox_empty(publisher))
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish("passhub.kittest.stray", b"{}", headers={"Nats-Msg-Id": "x"})
    finally:
        await nc.close()
    # One transaction, so one batch: its first message is refused (the stray is the stream's
    # last), and the second must be refused too, though it expects the stray's sequence.
    async with publisher.transaction() as conn:
        for i in range(3):
            await handle(conn, publisher.store, toy.counter, f"c-{i}", toy.Increment(f"c-{i}", 2))
    await wait_for(lambda: _outbox_empty(publisher))
    messages = await read_stream(nats_url, STREAM)
    ids = [m.get("id") for m in messages]
    assert len(ids) == 7
    assert sorted(i for i in ids if i) == sorted(await _log_ids(publisher))
    assert publisher.relay is not None and publisher.relay.published == 6
