"""Exactly once into the LRS through faults: the bridge killed mid-batch (SIGKILL), the LRS
down while students sign in, and the whole stream sent again: one statement per attendance."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

import nats
from nats.js.errors import NotFoundError

from passhub_attendance.service import service
from passhub_xapi.bridge import Bridge
from passhub_xapi.settings import BridgeSettings
from tests.support import Harness, running_service, wait_for
from tests.xapi.flow import (
    attendance_events,
    bridge_running,
    consumer_drained,
    kiosk,
    known,
    ours,
    schedule,
    statement_id,
    until_statements,
)
from tests.xapi.ralph import Ralph


def bridge_env(settings: BridgeSettings, **overrides: object) -> dict[str, str]:
    values = {
        "NATS_URL": settings.nats_url,
        "DURABLE": settings.durable,
        "STREAM_KEY": settings.stream_key.get_secret_value(),
        "LRS_ENDPOINT": str(settings.lrs_endpoint),
        "LRS_USERNAME": settings.lrs_username,
        "LRS_PASSWORD": settings.lrs_password.get_secret_value(),
        "ACCOUNT_HOME_PAGE": settings.home_page,
        "ACTIVITY_BASE": settings.base,
        "STORE_PATH": str(settings.store_path),
        "BATCH_SIZE": str(settings.batch_size),
        "FETCH_WAIT_SECONDS": "0.2",
        **{k.upper(): str(v) for k, v in overrides.items()},
    }
    return {**os.environ, **{f"PASSHUB_XAPI_{k}": v for k, v in values.items()}}


async def sign_in_many(h: Harness, students: range) -> None:
    for n in students:
        await kiosk(h, "S1" if n % 2 else "S2", str(n))


async def test_killed_mid_batch_lrs_down_and_a_full_resend_leave_one_statement_each(
    database_url: str, nats_url: str, ralph: Ralph, bridge_settings: BridgeSettings
) -> None:
    await schedule(nats_url, "S1", "S2")
    async with running_service(service, database_url, nats_url) as h:
        await wait_for(lambda: known(h, "S2"))
        await sign_in_many(h, range(3000, 3200))
        events = await attendance_events(nats_url, 200)
    expected = {statement_id(e["id"]) for e in events}

    # 1. The bridge, a process of its own, killed with SIGKILL while a batch is in flight:
    # delivered to it, perhaps posted, not acknowledged.
    process = subprocess.Popen(  # noqa: ASYNC220 - started once, killed below
        [sys.executable, "-m", "passhub_xapi", "run"],
        env=bridge_env(bridge_settings, batch_size=10),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    consumer = f"{bridge_settings.durable}-attendance"

    async def mid_batch() -> bool:
        """Some batches done, and one delivered to the bridge and not yet acknowledged."""
        try:
            info = await js.consumer_info("PASSHUB_ATTENDANCE", consumer)
        except NotFoundError:
            return False
        return info.ack_floor.stream_seq >= 10 and info.num_ack_pending > 0

    try:
        await wait_for(mid_batch, timeout=60, interval=0.005)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    info = await js.consumer_info("PASSHUB_ATTENDANCE", consumer)
    await nc.close()
    assert info.num_ack_pending > 0, "killed between batches"

    # 2. The LRS goes down; more students sign in; the bridge starts and retries; the LRS
    # comes back.
    ralph.stop()
    async with running_service(service, database_url, nats_url) as h:
        await sign_in_many(h, range(3200, 3240))
        events = await attendance_events(nats_url, 240)
    expected = {statement_id(e["id"]) for e in events}
    async with bridge_running(bridge_settings) as bridge:
        await asyncio.sleep(3)  # posting into a closed port, backing off
        assert bridge.totals.posted == 0
        ralph.start()
        got = await until_statements(ralph, bridge_settings, 240, timeout=120)
        await wait_for(lambda: consumer_drained(bridge_settings), timeout=60)
    ids = [s["id"] for s in got]
    assert len(ids) == len(set(ids)) == 240
    assert set(ids) == expected

    # 3. Everything sent again from the start of the stream.
    again = Bridge(bridge_settings)
    try:
        totals = await again.resend()
    finally:
        await again.close()
    assert totals.events == 240 and totals.statements == 240 and totals.parked == 0
    ids = [s["id"] for s in ours(ralph, bridge_settings)]
    assert len(ids) == len(set(ids)) == 240
    assert set(ids) == expected
