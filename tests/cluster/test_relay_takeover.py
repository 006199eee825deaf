"""One relay publishes per service across replicas: the PostgreSQL advisory lock. When the
process holding it is killed with SIGKILL, PostgreSQL ends its session as the connection
drops, and a standby replica's relay takes over within seconds, publishing nothing twice and
nothing out of order."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from sqlalchemy import text

from passhub_shared.messaging.relay import asyncpg_dsn
from passhub_shared.operations.service import Runtime
from tests.cluster.support import assert_once_in_order, read_all, relay_holder, spawn
from tests.kit import toy
from tests.support import service_settings, wait_for

#: the takeover bound asserted: a standby tries the lock every second
TAKEOVER_BOUND_S = 10.0


async def _outbox_empty(rt: Runtime) -> bool:
    async with rt.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one()) == 0


async def test_a_relay_killed_with_sigkill_is_replaced_by_a_standby_within_seconds(
    database_url: str, nats_url: str, tmp_path: Path
) -> None:
    rt = Runtime(toy.publisher, service_settings(database_url, nats_url))
    await rt.start(relay=False)
    env = {
        "PASSHUB_DATABASE_URL": database_url,
        "PASSHUB_NATS_URL": nats_url,
        "PASSHUB_RELAY_POLL_SECONDS": "0.2",
        "PASSHUB_LOG_JSON": "false",
    }
    relays = [
        spawn(["-m", "tests.kit.run_relay"], env, tmp_path / f"relay-{i}.log") for i in (1, 2)
    ]
    dsn = asyncpg_dsn(database_url)
    stop = asyncio.Event()

    async def load() -> int:
        n = 0
        while not stop.is_set():
            async with rt.transaction() as conn:
                await rt.store.append(
                    conn, f"c-{n % 7}", n // 7, [toy.Counted(counter_id=f"c-{n % 7}", amount=1)]
                )
            n += 1
            await asyncio.sleep(0.01)
        return n

    try:
        holder: list[int | None] = [None]

        async def held() -> bool:
            holder[0] = await relay_holder(dsn, "kittest")
            return holder[0] is not None

        await wait_for(held, timeout=30)
        first = holder[0]
        assert first in {p.pid for p in relays}
        writer = asyncio.create_task(load())
        await asyncio.sleep(1.0)
        os.kill(first, signal.SIGKILL)
        killed_at = time.monotonic()

        async def taken_over() -> bool:
            holder[0] = await relay_holder(dsn, "kittest")
            return holder[0] not in (None, first)

        await wait_for(taken_over, timeout=30, interval=0.02)
        takeover = time.monotonic() - killed_at
        await asyncio.sleep(1.0)
        stop.set()
        written = await writer
        await wait_for(lambda: _outbox_empty(rt), timeout=30)
        messages = await read_all(nats_url, "PASSHUB_KITTEST")
        assert len(messages) == written
        assert_once_in_order(messages)
        print(f"relay takeover after SIGKILL: {takeover:.2f} s")
        assert takeover < TAKEOVER_BOUND_S, f"the standby took over after {takeover:.1f} s"
    finally:
        stop.set()
        for proc in relays:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        await rt.stop()
