"""Two replicas of attendance and two of recognition (processes), on a three-node NATS cluster
with the streams at R3, under a steady load of leader sign-ins. One NATS node is killed with
SIGKILL, then the attendance replica holding the relay's lock, then a recognition replica;
then all are started again. Every sign-in that got a 2xx is in attendance's projection, in
recognition's log and in the stream exactly once (read with plain nats-py), and
`passhub replay <service> --check` is clean for both."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import asyncpg
import httpx
import nats
import pytest

from bench.checkin import schedule
from passhub_shared.dev.devservers import free_port
from passhub_shared.dev.natscluster import NatsCluster, nats_servers
from passhub_shared.messaging.relay import asyncpg_dsn
from passhub_shared.web.auth import make_token
from tests.cluster.support import (
    ROOT,
    assert_once_in_order,
    read_all,
    relay_holder,
    spawn,
    stream_leader,
)
from tests.support import open_sealed, service_settings, wait_for

pytestmark = pytest.mark.slow

SESSIONS = 250  # two rostered leaders each: 500 possible sign-ins
RATE = 15.0  # sign-ins per second, alternating between the two attendance replicas
PHASE = 2.5  # seconds between faults


class Replica:
    def __init__(self, service: str, env: dict[str, str], log_dir: Path) -> None:
        self.service = service
        self.env = env
        self.log_dir = log_dir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.starts += 1
        self.proc = spawn(
            [
                "-m",
                "uvicorn",
                f"passhub_{self.service}.main:app",
                "--port",
                str(self.port),
                "--no-access-log",
            ],
            self.env,
            self.log_dir / f"{self.service}-{self.port}.log",
        )

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    async def ready(self) -> bool:
        """Ready to serve. A replica that exited before it was ready fails the test with the
        end of its log, except when another process took its port between `free_port` and
        uvicorn's bind: then it starts again on another port."""
        if self.proc is not None and self.proc.poll() is not None:
            log = self.log_dir / f"{self.service}-{self.port}.log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            if "address already in use" not in tail.lower():
                raise AssertionError(f"{self.service} on {self.port} exited:\n{tail}")
            self.port = free_port()
            self.start()
            return False
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                return (await client.get(f"{self.url}/readyz")).status_code == 200
        except httpx.HTTPError:
            return False


async def _scalar(dsn: str, sql: str, *args: object) -> object:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


def _replay_check(service: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "passhub"), "replay", service, "--check"],
        cwd=ROOT,
        env={
            **os.environ,
            "PASSHUB_ENV_FILE": "/nonexistent",
            f"PASSHUB_{service.upper()}_DATABASE_URL": database_url,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("node", ["any", "leader"])
async def test_every_acknowledged_sign_in_survives_node_and_replica_kills(
    node: str,
    database_url: str,
    consumer_db: str,
    nats_cluster: NatsCluster,
    tmp_path: Path,
) -> None:
    url = nats_cluster.url
    settings = service_settings(database_url, url, stream_replicas=3)
    settings.service = "attendance"
    await schedule(settings, ["ft"], SESSIONS)
    common = {
        "PASSHUB_NATS_URL": url,
        "PASSHUB_STREAM_REPLICAS": "3",
        "PASSHUB_LOG_JSON": "false",
        "PASSHUB_LOG_LEVEL": "WARNING",
        "PASSHUB_RELAY_POLL_SECONDS": "0.5",
        "PASSHUB_CONSUMER_ACK_WAIT_SECONDS": "5",
    }
    attendance = [
        Replica("attendance", {**common, "PASSHUB_DATABASE_URL": database_url}, tmp_path)
        for _ in range(2)
    ]
    recognition = [
        Replica("recognition", {**common, "PASSHUB_DATABASE_URL": consumer_db}, tmp_path)
        for _ in range(2)
    ]
    replicas = attendance + recognition
    for replica in replicas:
        replica.start()
    accepted: list[tuple[str, str]] = []
    refused = Counter[str]()
    stop = asyncio.Event()

    async def load() -> None:
        leaders = [(f"ft{i:04d}", f"Lft{i}{x}") for x in "ab" for i in range(SESSIONS)]
        async with httpx.AsyncClient(timeout=5) as client:
            for n, (session_id, leader) in enumerate(leaders):
                if stop.is_set():
                    return
                token = make_token(settings, leader, ["leader"])
                # as a load balancer would: the other replica when one does not answer
                for target in (attendance[n % 2], attendance[(n + 1) % 2]):
                    try:
                        answer = await client.post(
                            f"{target.url}/sessions/{session_id}/leader-sign-in",
                            headers={"Authorization": f"Bearer {token}"},
                        )
                    except httpx.HTTPError as error:
                        refused[type(error).__name__] += 1
                        continue
                    if answer.status_code in (200, 201):
                        accepted.append((session_id, leader))
                    else:
                        refused[str(answer.status_code)] += 1
                    break
                await asyncio.sleep(1 / RATE)

    try:
        for replica in replicas:
            try:
                await wait_for(replica.ready, timeout=90, interval=0.25)
            except AssertionError as error:
                log = tmp_path / f"{replica.service}-{replica.port}.log"
                tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
                where = f"{replica.service} on {replica.port}"
                raise AssertionError(f"{where}: {error}\n{tail}") from None
        writer = asyncio.create_task(load())
        await asyncio.sleep(PHASE)

        victim = (
            await stream_leader(url, "PASSHUB_ATTENDANCE")
            if node == "leader"
            else nats_cluster.names[0]
        )
        nats_cluster.node(victim).kill()
        await asyncio.sleep(PHASE)

        holder = await relay_holder(asyncpg_dsn(database_url), "attendance")
        publishing = next(r for r in attendance if r.proc is not None and r.proc.pid == holder)
        publishing.kill()
        await asyncio.sleep(PHASE)

        recognition[0].kill()
        await asyncio.sleep(PHASE)

        nats_cluster.node(victim).start()
        publishing.start()
        recognition[0].start()
        await asyncio.sleep(PHASE * 2)
        stop.set()
        await writer
        assert len(accepted) > 60, (len(accepted), refused)
        print(f"{len(accepted)} sign-ins accepted; failed attempts: {dict(refused)}")

        dsn, rec_dsn = asyncpg_dsn(database_url), asyncpg_dsn(consumer_db)
        signed = {f"{s}/{leader}" for s, leader in accepted}

        async def published() -> bool:
            return await _scalar(dsn, "SELECT count(*) FROM outbox") == 0

        await wait_for(published, timeout=60)
        messages = [
            m
            for m in await read_all(url, "PASSHUB_ATTENDANCE")
            if m["type"] == "passhub.attendance.leader_signed_in.v1"
        ]
        nc = await nats.connect(nats_servers(url))
        try:  # leaders' numbers are sealed: opened as an authorised integration opens them
            js = nc.jetstream()
            numbers = [
                await open_sealed(js, "attendance", m["data"]["student_number"]) for m in messages
            ]
        finally:
            await nc.close()
        in_stream = Counter(
            f"{m['data']['session_id']}/{number}"
            for m, number in zip(messages, numbers, strict=True)
        )
        assert set(in_stream) == signed
        assert set(in_stream.values()) == {1}
        assert_once_in_order(messages)
        ids = [m["id"] for m in messages]

        async def recognised() -> bool:
            found = await _scalar(
                rec_dsn,
                "SELECT count(DISTINCT id) FROM events WHERE origin = 'attendance' "
                "AND id = ANY($1::uuid[])",
                ids,
            )
            return found == len(ids)

        await wait_for(recognised, timeout=60)
        rows = await _scalar(
            dsn,
            "SELECT count(*) FROM attendance_attendances a "
            "WHERE (a.session_id || '/' || a.student_number) = ANY($1::text[]) AND a.active",
            sorted(signed),
        )
        assert rows == len(signed)
        for service, db in (("attendance", database_url), ("recognition", consumer_db)):
            checked = _replay_check(service, db)
            assert checked.returncode == 0, checked.stdout + checked.stderr
    finally:
        stop.set()
        for replica in replicas:
            replica.stop()
