"""Helpers of the cluster tests: processes started and killed, and a stream read as an outside
subscriber would (plain nats-py, no passhub code)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import nats
import nats.js.errors

from passhub_shared.dev.natscluster import nats_servers

ROOT = Path(__file__).resolve().parents[2]


def spawn(module_or_args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, *module_or_args],
            cwd=ROOT,
            env={**os.environ, "PASSHUB_ENV_FILE": "/nonexistent", **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def relay_holder(dsn: str, service: str) -> int | None:
    """The process id of the relay holding `service`'s lock (from its session's name)."""
    from passhub_shared.messaging.relay import lock_name
    from passhub_shared.storage import locks

    conn = await asyncpg.connect(dsn)
    try:
        name = await conn.fetchval(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            f"WHERE {locks.HELD}",
            locks.key(lock_name(service)),
        )
    finally:
        await conn.close()
    return int(name.rsplit("-", 1)[1]) if name else None


async def stream_leader(url: str, stream: str, not_: str = "", timeout: float = 30.0) -> str:
    """The node leading `stream` (other than `not_`), once the cluster has one."""
    nc = await nats.connect(nats_servers(url))
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while True:
            try:
                info = await nc.jetstream(timeout=2).stream_info(stream)
                if info.cluster is not None and info.cluster.leader not in (None, "", not_):
                    return str(info.cluster.leader)
            except (nats.errors.Error, TimeoutError):
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{stream} had no leader within {timeout:.0f} s")
            await asyncio.sleep(0.2)
    finally:
        await nc.close()


async def read_all(url: str, stream: str, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Every message of `stream` from the start, with a plain nats-py pull consumer; asked
    again while the cluster answers "unavailable" (a node that was restarted catching up)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            return await _read_all(url, stream)
        except (nats.js.errors.ServiceUnavailableError, nats.errors.TimeoutError, TimeoutError):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def _read_all(url: str, stream: str) -> list[dict[str, Any]]:
    nc = await nats.connect(nats_servers(url))
    try:
        js = nc.jetstream()
        total = (await js.stream_info(stream)).state.messages
        sub = await js.pull_subscribe(">", stream=stream)
        out: list[dict[str, Any]] = []
        try:
            while len(out) < total:
                batch = await sub.fetch(min(1000, total - len(out)), timeout=5)
                for msg in batch:
                    out.append(json.loads(msg.data))
                    await msg.ack()
        finally:
            await sub.unsubscribe()
        return out
    finally:
        await nc.close()


def assert_once_in_order(messages: list[dict[str, Any]]) -> None:
    twice = [i for i, n in Counter(m["id"] for m in messages).items() if n > 1]
    assert twice == [], f"{len(twice)} events are in the stream more than once"
    last: dict[str, int] = {}
    for m in messages:
        assert m["streamversion"] > last.get(m["subject"], 0), m
        last[m["subject"]] = m["streamversion"]
