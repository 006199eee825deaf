"""`passhub dev up --cluster`: three NATS nodes with the services' streams at R3, two replicas of
each service sharing their durable consumers, and a NATS node killed with SIGKILL started again
by the supervisor while the rest keep running."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import nats
import pytest

from passhub_shared.dev.devrun import SERVICES
from passhub_shared.dev.devservers import free_port
from passhub_shared.dev.natscluster import nats_servers
from tests.kit.test_devrun import free_port_run, get, wait_until

pytestmark = pytest.mark.slow


async def _streams_and_consumers(url: str) -> tuple[dict[str, int], dict[str, int]]:
    nc = await nats.connect(nats_servers(url))
    try:
        js = nc.jetstream()
        replicas = {
            i.config.name or "": i.config.num_replicas or 0 for i in await js.streams_info()
        }
        waiting = {c.name: c.num_waiting or 0 for c in await js.consumers_info("PASSHUB_SESSIONS")}
        return replicas, waiting
    finally:
        await nc.close()


def test_dev_up_cluster_runs_three_nodes_and_two_replicas_of_each_service(
    tmp_path: Path,
) -> None:
    var, log = tmp_path / "var", tmp_path / "dev-up.log"
    # one run of free ports: the services at +0..+3 and +10..+13, NATS +14..+16, PostgreSQL +17
    http = free_port_run(18)
    nats_port, pg_port = http + 14, http + 17
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSHUB_")}
    command = [
        str(Path(sys.executable).with_name("passhub")),
        "dev",
        "up",
        "--cluster",
        "--var",
        str(var),
        "--nats-port",
        str(nats_port),
        "--pg-port",
        str(pg_port),
        "--http-port",
        str(http),
        "--oidc-port",
        str(free_port()),
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            env=env | {"COLUMNS": "200"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    ports = [http + i + offset for offset in (0, 10) for i in range(len(SERVICES))]
    try:
        wait_until(
            "eight replicas",
            lambda: all(get(f"http://127.0.0.1:{p}/healthz")[0] == 200 for p in ports),
            proc,
            log,
        )
        settings = dict(
            line.split("=", 1)
            for line in (var / "passhub.env").read_text().splitlines()
            if "=" in line
        )
        url = settings["PASSHUB_NATS_URL"]
        assert len(nats_servers(url)) == 3 and settings["PASSHUB_STREAM_REPLICAS"] == "3"
        replicas, waiting = asyncio.run(_streams_and_consumers(url))
        # the services' streams and the personal data's key bucket, all at R3
        assert replicas == {f"PASSHUB_{s.upper()}": 3 for s in (*SERVICES, "keys")}
        # each consumer of the sessions stream has a pull outstanding from both replicas
        assert waiting == {
            "attendance--sessions": 2,
            "recognition--sessions": 2,
            "recruitment--sessions": 2,
        }

        node = int((var / "nats-cluster" / "n2" / "nats.pid").read_text())
        os.kill(node, signal.SIGKILL)
        wait_until(
            "NATS n2 to be started again",
            lambda: "NATS n2 started again" in log.read_text(),
            proc,
            log,
        )
        assert "NATS n2 stopped" in log.read_text()
        assert all(get(f"http://127.0.0.1:{p}/healthz")[0] == 200 for p in ports)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    assert proc.returncode == 0, log.read_text()[-3000:]
