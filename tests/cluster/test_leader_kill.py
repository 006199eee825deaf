"""The stream's NATS leader is killed with SIGKILL under a steady load, then started again:
every event reaches the R3 stream once and in order, and the consumer records each once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from passhub_shared.dev.natscluster import NatsCluster
from passhub_shared.operations.service import Runtime
from tests.cluster.support import assert_once_in_order, read_all, spawn, stream_leader
from tests.kit import toy
from tests.support import service_settings, wait_for

STREAM = "PASSHUB_KITTEST"


async def _count(rt: Runtime, sql: str) -> int:
    async with rt.engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar_one())


async def test_killing_the_stream_leader_loses_nothing_and_repeats_nothing(
    database_url: str, consumer_db: str, nats_cluster: NatsCluster, tmp_path: Path
) -> None:
    url = nats_cluster.url
    publisher = Runtime(toy.publisher, service_settings(database_url, url, stream_replicas=3))
    consumer = Runtime(toy.consumer, service_settings(consumer_db, url, stream_replicas=3))
    await publisher.start(relay=False)
    await consumer.start()
    relay = spawn(
        ["-m", "tests.kit.run_relay"],
        {
            "PASSHUB_DATABASE_URL": database_url,
            "PASSHUB_NATS_URL": url,
            "PASSHUB_RELAY_POLL_SECONDS": "0.2",
            "PASSHUB_LOG_JSON": "false",
        },
        tmp_path / "relay.log",
    )
    stop = asyncio.Event()

    async def load() -> int:
        n = 0
        while not stop.is_set():
            async with publisher.transaction() as conn:
                c = f"c-{n % 5}"
                await publisher.store.append(conn, c, n // 5, [toy.Counted(counter_id=c, amount=1)])
            n += 1
            await asyncio.sleep(0.01)
        return n

    try:
        writer = asyncio.create_task(load())
        await asyncio.sleep(1.5)
        leader = await stream_leader(url, STREAM)
        nats_cluster.node(leader).kill()
        await stream_leader(url, STREAM, not_=leader)  # a new leader is elected
        await asyncio.sleep(1.0)
        nats_cluster.node(leader).start()
        await asyncio.sleep(1.5)
        stop.set()
        written = await writer

        async def published() -> bool:
            return await _count(publisher, "SELECT count(*) FROM outbox") == 0

        async def consumed() -> bool:
            return await _count(consumer, "SELECT count(*) FROM events") == written

        await wait_for(published, timeout=60)
        await wait_for(consumed, timeout=60)
        messages = await read_all(url, STREAM)
        assert len(messages) == written
        assert_once_in_order(messages)
        assert await _count(consumer, "SELECT sum(events) FROM toy_totals") == written
    finally:
        stop.set()
        if relay.poll() is None:
            relay.kill()
            relay.wait()
        await consumer.stop()
        await publisher.stop()
