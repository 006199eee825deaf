"""`passhub dev up` as a developer or a pilot runs it, on free ports: it makes every secret,
points the public links at --public-url, and supervises: a service killed with SIGKILL is started
again while NATS, PostgreSQL and the other services keep running; Ctrl-C stops everything."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from passhub_shared.dev.devrun import DEV_SECRETS, PROCESSES, SERVICES
from passhub_shared.dev.devservers import free_port, pid_alive
from passhub_shared.operations.secretkeys import secret_problem

START_TIMEOUT = 240.0
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port_run(count: int) -> int:
    """The first of `count` consecutive free ports, below the kernel's ephemeral range: a port
    the OS hands out (`free_port`) is in that range, and the ports after it may be taken as the
    source port of any outgoing connection before dev up binds them."""
    low, _ = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    rng = random.Random()
    for _ in range(200):
        first = rng.randrange(10_000, low - count)
        if all(_bindable(first + i) for i in range(count)):
            return first
    raise RuntimeError("no run of free ports")


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def get(url: str) -> tuple[int, bytes]:
    try:
        with _http.open(url, timeout=2) as response:
            return response.status, response.read()
    except OSError:
        return 0, b""


def wait_until(
    what: str, check: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not check():
        if proc.poll() is not None:
            pytest.fail(f"dev up exited ({proc.returncode}) before {what}:\n{tail(log)}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}:\n{tail(log)}")
        time.sleep(0.5)


def tail(log: Path) -> str:
    return log.read_text()[-4000:]


def pid_of(var: Path, service: str) -> int:
    try:
        return int((var / "run" / f"{service}.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


@pytest.fixture
def dev_up(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path, Path, int]]:
    var = tmp_path / "var"
    log = tmp_path / "dev-up.log"
    http = free_port_run(len(PROCESSES))
    # Nothing secret comes from outside: dev up makes every one.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSHUB_")}
    env["COLUMNS"] = "200"
    command = [
        str(Path(sys.executable).with_name("passhub")),
        "dev",
        "up",
        "--var",
        str(var),
        "--nats-port",
        str(free_port()),
        "--pg-port",
        str(free_port()),
        "--http-port",
        str(http),
        "--oidc-port",
        str(free_port()),
        "--public-url",
        "http://pilot.example.test",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield proc, var, log, http
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_dev_up_makes_its_secrets_and_restarts_a_killed_service(
    dev_up: tuple[subprocess.Popen[bytes], Path, Path, int],
) -> None:
    proc, var, log, http = dev_up
    ports = {name: http + i for i, name in enumerate(SERVICES)}

    def healthy(name: str) -> bool:
        return get(f"http://127.0.0.1:{ports[name]}/healthz")[0] == 200

    wait_until("every service", lambda: all(healthy(s) for s in SERVICES), proc, log)
    # dev up counts a service that stops before every process (the portal too) is healthy as a
    # failed start: supervision begins once it says where to open passhub
    wait_until(
        "dev up to be running",
        lambda: "Open passhub" in log.read_text("utf-8", "replace"),
        proc,
        log,
    )

    settings = dict(
        line.split("=", 1) for line in (var / "passhub.env").read_text().splitlines() if "=" in line
    )
    for variable, name in DEV_SECRETS.items():
        kept = var / name
        assert kept.stat().st_mode & 0o777 == 0o600
        assert settings[variable] == kept.read_text().strip()
        assert secret_problem(settings[variable]) is None
    assert len({settings[v] for v in DEV_SECRETS}) == len(DEV_SECRETS)  # one key per purpose
    assert (
        # QR codes open the portal's sign-in page
        settings["PASSHUB_ATTENDANCE_PUBLIC_URL"]
        == f"http://pilot.example.test:{http + len(SERVICES)}"
    )
    assert (
        settings["PASSHUB_SESSIONS_PUBLIC_URL"] == f"http://pilot.example.test:{ports['sessions']}"
    )
    status, body = get(f"http://127.0.0.1:{ports['recognition']}/.well-known/did.json")
    assert status == 200
    assert json.loads(body)["id"] == f"did:web:pilot.example.test%3A{ports['recognition']}"

    before = {name: pid_of(var, name) for name in SERVICES}
    os.kill(before["attendance"], signal.SIGKILL)
    wait_until(
        "attendance to come back",
        lambda: (
            pid_of(var, "attendance") not in (0, before["attendance"]) and healthy("attendance")
        ),
        proc,
        log,
    )
    output = log.read_text()
    assert "attendance stopped (killed by SIGKILL)" in output
    assert "attendance started again (restart 1)" in output
    for name in SERVICES:
        if name != "attendance":
            assert pid_of(var, name) == before[name] and pid_alive(before[name]), name
            assert healthy(name)
    assert proc.poll() is None

    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0
    assert "passhub stopped" in log.read_text()
    for name in SERVICES:
        assert not healthy(name)
