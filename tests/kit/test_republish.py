"""`passhub republish`: a lost, truncated or damaged stream is rebuilt from the PostgreSQL log,
and a plain nats-py subscriber reading it from the start sees each event once, in order per
aggregate, while the relay goes on publishing afterwards without a duplicate."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import nats
from sqlalchemy import text

from passhub_shared.messaging.relay import OutboxRelay
from passhub_shared.operations.republish import republish
from passhub_shared.operations.service import Runtime
from tests.kit import toy
from tests.support import read_stream, service_settings, wait_for

STREAM = "PASSHUB_KITTEST"


async def _append_many(rt: Runtime, counters: int, rounds: int) -> None:
    for r in range(rounds):
        async with rt.transaction() as conn:
            for c in range(counters):
                await rt.store.append(
                    conn, f"c-{c}", r, [toy.Counted(counter_id=f"c-{c}", amount=r + 1)]
                )


async def _log_ids(rt: Runtime) -> list[str]:
    async with rt.engine.connect() as conn:
        rows = await conn.execute(text("SELECT id FROM events ORDER BY position"))
        return [str(r.id) for r in rows]


async def _outbox(rt: Runtime) -> int:
    async with rt.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one())


async def _outbox_empty(rt: Runtime) -> bool:
    return await _outbox(rt) == 0


def _once_in_order(messages: list[dict[str, Any]], log_ids: list[str]) -> None:
    ids = [m["id"] for m in messages if "id" in m]
    twice = [i for i, n in Counter(ids).items() if n > 1]
    assert twice == [], f"{len(twice)} events are in the stream more than once"
    assert sorted(ids) == sorted(log_ids), "the stream does not hold every logged event"
    last: dict[str, int] = {}
    for m in messages:
        if "id" not in m:
            continue
        assert m["streamversion"] == last.get(m["subject"], 0) + 1, m
        last[m["subject"]] = m["streamversion"]


async def _delete_stream(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().delete_stream(STREAM)
    finally:
        await nc.close()


async def test_a_deleted_stream_is_published_again_from_the_log_while_the_relay_runs(
    database_url: str, nats_url: str
) -> None:
    rt = Runtime(toy.publisher, service_settings(database_url, nats_url, relay_poll_seconds=0.1))
    await rt.start()
    try:
        await _append_many(rt, counters=8, rounds=25)
        await wait_for(lambda: _outbox_empty(rt))
        await _delete_stream(nats_url)

        phases: Counter[str] = Counter()
        report = await republish(
            "kittest",
            rt.settings.database_url,
            nats_url,
            progress=lambda phase, total, n: phases.update({phase: n}),
        )
        assert report.created
        assert (report.events, report.published, report.deleted) == (200, 200, 0)
        assert report.relay_interrupted == 1, "the running relay held the lock"
        assert phases["publish"] == 200 and phases["log"] == 200
        _once_in_order(await read_stream(nats_url, STREAM), await _log_ids(rt))

        # the relay takes the lock again and resumes after what republish published
        assert rt.relay is not None
        await wait_for(lambda: _flag(rt.relay is not None and rt.relay.is_leader), timeout=10)
        await _append_many_more(rt)
        await wait_for(lambda: _outbox_empty(rt))
        messages = await read_stream(nats_url, STREAM)
        assert len(messages) == 216
        _once_in_order(messages, await _log_ids(rt))
    finally:
        await rt.stop()


async def _append_many_more(rt: Runtime) -> None:
    async with rt.transaction() as conn:
        for c in range(16):
            await rt.store.append(conn, f"d-{c}", 0, [toy.Counted(counter_id=f"d-{c}", amount=1)])


async def _flag(value: bool) -> bool:
    return value


async def test_holes_damage_and_repeats_are_repaired_in_order_per_aggregate(
    database_url: str, nats_url: str
) -> None:
    """Messages lost in the middle and at the end, one replaced by a damaged copy under the
    same id: each aggregate keeps its intact run from version 1, and the rest is published
    again after it; a message that is no event of the service stays."""
    window = 0.1
    rt = Runtime(
        toy.publisher,
        service_settings(
            database_url, nats_url, relay_poll_seconds=0.1, duplicate_window_seconds=window
        ),
    )
    await rt.start()
    try:
        await _append_many(rt, counters=4, rounds=10)  # 40 events: c-0 v1 is seq 1 ...
        await wait_for(lambda: _outbox_empty(rt))
        assert rt.relay is not None
        rt.relay.stop()
        nc = await nats.connect(nats_url)
        try:
            js = nc.jetstream()
            for seq in (6, 7, 40, 39):  # c-1 v2, c-2 v2 in the middle; c-3 v10, c-2 v10
                await js.delete_msg(STREAM, seq)
            damaged = await js.get_msg(STREAM, 13)  # c-0 v4
            await js.delete_msg(STREAM, 13)
            await asyncio.sleep(window * 4)  # the window forgets its id
            body = damaged.data.replace(b'"amount": 4,', b'"amount": 40,')
            assert body != damaged.data
            msg_id = (damaged.headers or {})["Nats-Msg-Id"]
            await js.publish(damaged.subject, body, headers={"Nats-Msg-Id": msg_id})
            await js.publish("passhub.kittest.note", b"{}", headers={"Nats-Msg-Id": "note-1"})
        finally:
            await nc.close()

        report = await republish("kittest", rt.settings.database_url, nats_url)
        # c-0: v1-v3 kept, v5-v10 deleted after the damaged v4, v4-v10 published (7)
        # c-1: v1 kept, v3-v10 deleted, v2-v10 published (9)
        # c-2: v1 kept, v3-v9 deleted, v2-v10 published (9)
        # c-3: v1-v9 kept, v10 published (1)
        assert report.published == 7 + 9 + 9 + 1
        assert report.kept == 3 + 1 + 1 + 9
        assert report.deleted == 7 + 8 + 7  # c-0's damaged copy and v5-v10, ...
        assert report.reasons["damaged"] == 1
        assert report.foreign == 1
        messages = await read_stream(nats_url, STREAM)
        _once_in_order(messages, await _log_ids(rt))
        assert [m for m in messages if "id" not in m] == [{}], "the note stays"
    finally:
        await rt.stop()


async def test_the_outbox_is_published_and_cleared_so_the_relay_publishes_nothing_twice(
    database_url: str, nats_url: str
) -> None:
    """Events still in the outbox (the relay was not running) are published by republish, which
    clears their rows: a relay starting afterwards has nothing left to publish."""
    rt = Runtime(toy.publisher, service_settings(database_url, nats_url))
    await rt.start(relay=False)
    try:
        await _append_many(rt, counters=3, rounds=5)
        assert await _outbox(rt) == 15
        report = await republish("kittest", rt.settings.database_url, nats_url)
        assert (report.published, report.outbox_cleared) == (15, 15)
        assert await _outbox(rt) == 0
        relay = OutboxRelay("kittest", rt.settings.database_url, nats_url, poll_seconds=0.1)
        task = asyncio.create_task(relay.run())
        await wait_for(lambda: _flag(relay.is_leader))
        await _append_many_more(rt)
        await wait_for(lambda: _outbox_empty(rt))
        relay.stop()
        await task
        assert relay.published == 16
        _once_in_order(await read_stream(nats_url, STREAM), await _log_ids(rt))

        again = await republish("kittest", rt.settings.database_url, nats_url)
        assert (again.published, again.deleted, again.kept) == (0, 0, 31), "nothing to repair"
    finally:
        await rt.stop()


async def test_a_purged_stream_is_published_again_past_the_duplicate_window(
    publisher: Runtime, nats_url: str
) -> None:
    """JetStream's duplicate window (two minutes) still remembers the ids of purged messages;
    republish shortens it while it publishes, so nothing is dropped, and restores it."""
    await _append_many(publisher, counters=2, rounds=5)
    await wait_for(lambda: _outbox_empty(publisher))
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().purge_stream(STREAM)
        report = await republish("kittest", publisher.settings.database_url, nats_url)
        assert (report.published, report.window_shortened) == (10, True)
        config = (await nc.jetstream().stream_info(STREAM)).config
        assert config.duplicate_window == publisher.settings.duplicate_window_seconds
    finally:
        await nc.close()
    _once_in_order(await read_stream(nats_url, STREAM), await _log_ids(publisher))


async def test_a_running_consumer_of_a_deleted_stream_creates_its_consumer_again(
    publisher: Runtime, consumer_db: str, nats_url: str
) -> None:
    """The stream is deleted with its durable consumers; once republish has restored it, a
    consumer still running creates its durable consumer again, reads from the start, skips by
    id what it had, and goes on with new events, without a restart."""
    consumer = Runtime(toy.consumer, service_settings(consumer_db, nats_url))
    await consumer.start()

    async def consumed(n: int) -> bool:
        async with consumer.engine.connect() as conn:
            return (await conn.execute(text("SELECT count(*) FROM events"))).scalar_one() == n

    try:
        await _append_many(publisher, counters=2, rounds=5)
        await wait_for(lambda: consumed(10))
        await _delete_stream(nats_url)
        await asyncio.sleep(0.5)
        await republish("kittest", publisher.settings.database_url, nats_url)
        await _append_many_more(publisher)
        await wait_for(lambda: consumed(26), timeout=30)
        async with consumer.engine.connect() as conn:
            total = (await conn.execute(text("SELECT sum(events) FROM toy_totals"))).scalar_one()
        assert total == 26
    finally:
        await consumer.stop()
