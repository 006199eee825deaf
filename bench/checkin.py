"""Check-in benchmark of the attendance service: a campus-wide session start.

`python -m bench.checkin` starts its own NATS and PostgreSQL (the embedded servers of
`passhub_shared.dev.devservers`), schedules many sessions that all start now, runs the attendance
service under uvicorn in a subprocess, and has many students sign in with QR codes over HTTP to
all those sessions at once. It measures:

1. saturation: as many sign-ins as the service takes with `--concurrency` clients each sending
   one request after another (closed loop): sign-ins/s and latency percentiles;
2. paced: sign-ins sent at a fixed rate (`--rate`, 500/s) whatever the answers (open loop, so a
   slow answer cannot hide the requests that should have followed it): latency percentiles,
   measured from when each request was due;
3. sign-in to subscriber: a plain nats-py subscriber on the service's JetStream stream records
   when each `student_signed_in` arrives; latency from when the sign-in was due;
4. raw: one `INSERT` per transaction with asyncpg on the same PostgreSQL, with as many
   concurrent connections, for the ratio "sign-ins per raw insert";
5. web stack alone: the same requests, clients and uvicorn workers against `bench.bare_http`,
   a FastAPI route of the same shape that does no work, for the ratio "sign-ins per bare
   request": the most any endpoint on this stack sustains on this machine.

The load generator is a minimal HTTP/1.1 keep-alive client on asyncio streams (requests are
prepared beforehand), so that the client spends as little of the shared CPUs as possible. The
client, the service, PostgreSQL and NATS all share the machine: the figures are for the whole
stack on one box. Results go to `bench/results/checkin.json` (`checkin-workers-N.json` with
`--workers N`) and a table is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import nats
from nats.js.api import DeliverPolicy

from bench.common import asyncpg_dsn
from passhub_attendance.domain.qr import QrCodes
from passhub_attendance.service import service
from passhub_shared.contracts.sessions import LeaderRostered, SchemeLaunched, SessionScheduled
from passhub_shared.dev.devservers import NatsServer, PostgresServer, free_port
from passhub_shared.messages.events import Event, Recorded, new_event_id
from passhub_shared.operations import loop
from passhub_shared.operations.secretkeys import generate_secret
from passhub_shared.operations.service import Runtime
from passhub_shared.operations.settings import Settings
from passhub_shared.web.auth import make_token

RESULTS = Path(__file__).parent / "results"
# Random for each run: no secret has a usable default, in a benchmark either.
QR_SECRET = generate_secret()
JWT_SECRET = generate_secret()
FEEDBACK_GUARD_KEY = generate_secret()
# the personal fields' keys, for the services started here and in this process (bench.portal)
for _name in ("PASSHUB_PRIVACY_MASTER_KEY", "PASSHUB_STREAM_KEY"):
    os.environ.setdefault(_name, generate_secret())


@dataclass
class Options:
    sessions: int
    students: int
    concurrency: int
    rate: float
    seconds: float
    workers: int
    raw_seconds: float
    output: Path


# --------------------------------------------------------------------------- setup


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _sessions_event(event: Event, stream: str, version: int) -> Recorded:
    return Recorded(
        id=new_event_id(),
        stream_id=stream,
        stream_version=version,
        type=event.type_name(),
        origin="sessions",
        data=event.model_dump(mode="json"),
        occurred_at=datetime.now(UTC),
    )


async def schedule(settings: Settings, prefixes: Sequence[str], count: int) -> None:
    """`count` sessions per prefix, all starting now, each with two rostered leaders, recorded
    as the service's consumer would record them from the sessions service."""
    runtime = Runtime(service, settings)
    await runtime.migrate()
    start = datetime.now(UTC) - timedelta(minutes=5)
    events = [
        _sessions_event(
            SchemeLaunched(
                scheme_id="2026-27-BENCH",
                code="BENCH",
                title="Benchmark PASS",
                school="Benchmarks",
                academic_year="2026-27",
                modules=["BEN101", "BEN102"],
            ),
            "scheme-2026-27-BENCH",
            1,
        )
    ]
    for prefix in prefixes:
        for i in range(count):
            sid = f"{prefix}{i:04d}"
            stream = f"session-{sid}"
            events.append(
                _sessions_event(
                    SessionScheduled(
                        session_id=sid,
                        scheme_id="2026-27-BENCH",
                        starts_at=start,
                        ends_at=start + timedelta(hours=2),
                        room=f"R{i:04d}",
                        capacity=60,
                    ),
                    stream,
                    1,
                )
            )
            for n, leader in enumerate((f"L{prefix}{i}a", f"L{prefix}{i}b"), start=2):
                events.append(
                    _sessions_event(
                        LeaderRostered(
                            session_id=sid, scheme_id="2026-27-BENCH", student_number=leader
                        ),
                        stream,
                        n,
                    )
                )
    for i in range(0, len(events), 2000):
        await runtime.applier.apply(events[i : i + 2000])
    await runtime.engine.dispose()


def stop_service(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT (uvicorn's graceful shutdown), then kill if it has not exited in 30 s."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def start_service(
    opts: Options,
    database_url: str,
    nats_url: str,
    port: int,
    log: Path,
    app: str = "passhub_attendance.main:app",
) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "PASSHUB_ENV_FILE": "/nonexistent/passhub.env",
        "PASSHUB_DATABASE_URL": database_url,
        "PASSHUB_ATTENDANCE_DATABASE_URL": database_url,
        "PASSHUB_NATS_URL": nats_url,
        "PASSHUB_JWT_SECRET": JWT_SECRET,
        "PASSHUB_LOG_LEVEL": "WARNING",
        "PASSHUB_RUN_MIGRATIONS": "false",
        "PASSHUB_ATTENDANCE_QR_SECRET": QR_SECRET,
        "PASSHUB_ATTENDANCE_FEEDBACK_GUARD_KEY": FEEDBACK_GUARD_KEY,
        "PASSHUB_ATTENDANCE_QR_VALIDITY_SECONDS": "3600",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--workers",
        str(opts.workers),
    ]
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


async def wait_ready(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the service exited:\n{_tail(log)}")
        try:
            conn = HttpConnection("127.0.0.1", port)
            await conn.open()
            status, _ = await conn.request(
                b"GET /readyz HTTP/1.1\r\nHost: bench\r\nContent-Length: 0\r\n\r\n"
            )
            await conn.close()
            if status == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the service was not ready in 60 s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_bytes()[-3000:].decode(errors="replace")


# --------------------------------------------------------------------------- HTTP client


class HttpConnection:
    """One keep-alive HTTP/1.1 connection; requests are pre-built bytes."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await self.reader.readexactly(length) if length else b""
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()


@dataclass
class SignInRequest:
    session_id: str
    student: str
    raw: bytes
    due: float = 0.0
    sent: float = 0.0
    done: float = 0.0
    status: int = 0


def build_requests(
    prefix: str, sessions: int, per_session: int, port: int, settings: Settings
) -> list[SignInRequest]:
    """Interleaved by session (the first student of every session, then the second...), as
    when a whole campus arrives at once."""
    codes = QrCodes(QR_SECRET, timedelta(hours=1))
    now = datetime.now(UTC)
    session_codes = {
        f"{prefix}{i:04d}": codes.issue(f"{prefix}{i:04d}", now) for i in range(sessions)
    }
    out: list[SignInRequest] = []
    for k in range(per_session):
        for i in range(sessions):
            sid = f"{prefix}{i:04d}"
            student = f"{prefix}{i:04d}s{k:03d}"
            token = make_token(settings, student, ["student"], ttl=timedelta(hours=2))
            body = json.dumps({"code": session_codes[sid]}).encode()
            raw = (
                f"POST /sessions/{sid}/sign-in HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\n"
                f"Authorization: Bearer {token}\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            out.append(SignInRequest(sid, student, raw))
    return out


async def closed_loop(port: int, requests: list[SignInRequest], concurrency: int) -> float:
    """`concurrency` clients, each sending its next request when the last one answered."""
    queue = iter(requests)

    async def client() -> None:
        conn = HttpConnection("127.0.0.1", port)
        await conn.open()
        try:
            for r in queue:
                r.due = r.sent = time.perf_counter()
                r.status, _ = await conn.request(r.raw)
                r.done = time.perf_counter()
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return time.perf_counter() - started


async def paced(count: int, rate: float, fire: Callable[[int, float], Awaitable[None]]) -> float:
    """Call `fire(i, due)` for i in range(count), the i-th due at `start + i / rate` whatever
    happened to the others (open loop), each in a task of its own; returns the seconds from
    start until the last has finished."""
    tasks = []
    start = time.perf_counter() + 0.05
    for i in range(count):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(fire(i, due)))
    await asyncio.gather(*tasks)
    return time.perf_counter() - start


async def open_loop(
    port: int, requests: list[SignInRequest], rate: float, connections: int
) -> float:
    """Request i is due at `start + i / rate`, whatever happened to the others (open loop); it
    waits for a free connection of the pool when all are busy. Its latency counts from when it
    was due, so a backlog shows in the figures instead of slowing the arrivals down."""
    pool: asyncio.Queue[HttpConnection] = asyncio.Queue()
    for _ in range(connections):
        conn = HttpConnection("127.0.0.1", port)
        await conn.open()
        pool.put_nowait(conn)

    async def send(i: int, due: float) -> None:
        r = requests[i]
        r.due = due
        conn = await pool.get()
        r.sent = time.perf_counter()
        r.status, _ = await conn.request(r.raw)
        r.done = time.perf_counter()
        pool.put_nowait(conn)

    elapsed = await paced(len(requests), rate, send)
    while not pool.empty():
        await pool.get_nowait().close()
    return elapsed


# --------------------------------------------------------------------------- subscriber


class Subscriber:
    """A plain nats-py JetStream subscriber, as an outside system would run it, noting when
    each `student_signed_in` arrives (de-duplicated by CloudEvent id)."""

    def __init__(self, nats_url: str) -> None:
        self.nats_url = nats_url
        self.arrived: dict[tuple[str, str], float] = {}
        self.ids: set[str] = set()
        self.messages = 0

    async def start(self) -> None:
        self.nc = await nats.connect(self.nats_url)
        js = self.nc.jetstream()
        self.sub = await js.subscribe(
            "passhub.attendance.student_signed_in",
            stream="PASSHUB_ATTENDANCE",
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
            cb=self._on_message,
        )

    async def _on_message(self, msg: Any) -> None:
        at = time.perf_counter()
        self.messages += 1
        event = json.loads(msg.data)
        if event["id"] in self.ids:
            return
        self.ids.add(event["id"])
        data = event["data"]
        self.arrived[(data["session_id"], data["student_number"])] = at

    async def wait_for(self, count: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.arrived) < count and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        await self.sub.unsubscribe()
        await self.nc.close()


# --------------------------------------------------------------------------- raw baseline


async def raw_inserts(dsn: str, concurrency: int, seconds: float) -> tuple[int, float]:
    """One INSERT per transaction (autocommit), `concurrency` connections, for `seconds`."""
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    assert pool is not None
    async with pool.acquire() as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_raw (id uuid PRIMARY KEY, session_id text,"
            " student_number text, data jsonb)"
        )
    count = 0
    stop = time.perf_counter() + seconds

    async def worker(w: int) -> None:
        nonlocal count
        async with pool.acquire() as conn:
            i = 0
            while time.perf_counter() < stop:
                await conn.execute(
                    "INSERT INTO bench_raw VALUES ($1, $2, $3, $4)",
                    new_event_id(),
                    f"s{w}",
                    f"n{i}",
                    '{"method": "qr"}',
                )
                i += 1
                count += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    elapsed = time.perf_counter() - started
    await pool.close()
    return count, elapsed


async def raw_paced(dsn: str, rate: float, seconds: float, connections: int) -> dict[str, Any]:
    """One INSERT per transaction due every `1 / rate` s whatever the others do (open loop, as
    the paced sign-ins), on a pool of `connections`: the latency of a durable commit on this
    PostgreSQL and disk at that rate, the floor under any sign-in's."""
    pool = await asyncpg.create_pool(dsn, min_size=connections, max_size=connections)
    assert pool is not None
    latencies: list[float] = []

    async def insert(i: int, due: float) -> None:
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO bench_raw VALUES ($1, $2, $3, $4)",
                new_event_id(),
                "paced",
                f"n{i}",
                '{"method": "qr"}',
            )
        latencies.append(time.perf_counter() - due)

    elapsed = await paced(int(rate * seconds), rate, insert)
    await pool.close()
    return {
        "inserts": len(latencies),
        "target_rate": rate,
        "inserts_per_s": round(len(latencies) / elapsed, 1),
        "latency": latency_summary(latencies),
    }


# --------------------------------------------------------------------------- CPU accounting


TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(parent pid, CPU seconds, CPU seconds of its children that exited) of a process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (
        int(fields[1]),
        (int(fields[11]) + int(fields[12])) / TICK,
        (int(fields[13]) + int(fields[14])) / TICK,
    )


def tree_cpu(root: int) -> float:
    """CPU seconds used so far by `root` and its descendants (uvicorn workers, PostgreSQL
    backends), including those that exited (counted in their parent's children time)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            found = _stat(int(entry))
            if found is not None:
                parents[int(entry)], own, waited = found
                cpu[int(entry)] = own + waited
    total, wanted = 0.0, {root}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in wanted and pid not in wanted:
                wanted.add(pid)
                changed = True
    for pid in wanted:
        total += cpu.get(pid, 0.0)
    return total


@dataclass
class CpuMeter:
    """CPU used by the service's processes and by PostgreSQL's over a phase."""

    service_pid: int
    postgres_pid: int
    start: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def begin(self) -> None:
        self.start = (
            tree_cpu(self.service_pid),
            tree_cpu(self.postgres_pid),
            time.process_time(),
        )

    def end(self, sign_ins: int) -> dict[str, float]:
        service_s = tree_cpu(self.service_pid) - self.start[0]
        postgres_s = tree_cpu(self.postgres_pid) - self.start[1]
        client_s = time.process_time() - self.start[2]
        per = 1000 / max(sign_ins, 1)
        return {
            "service_cpu_ms_per_sign_in": round(service_s * per, 3),
            "postgres_cpu_ms_per_sign_in": round(postgres_s * per, 3),
            "load_generator_cpu_ms_per_sign_in": round(client_s * per, 3),
        }


# --------------------------------------------------------------------------- figures


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def latency_summary(values_s: Sequence[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    return {
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2) if ms else float("nan"),
        "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan"),
    }


def phase_figures(
    requests: list[SignInRequest], elapsed: float, subscriber: Subscriber
) -> dict[str, Any]:
    ok = [r for r in requests if r.status in (200, 201)]
    created = [r for r in requests if r.status == 201]
    arrivals = [
        subscriber.arrived[(r.session_id, r.student)] - r.due
        for r in created
        if (r.session_id, r.student) in subscriber.arrived
    ]
    return {
        "requests": len(requests),
        "sign_ins": len(created),
        "errors": len(requests) - len(ok),
        "statuses": sorted({r.status for r in requests}),
        "seconds": round(elapsed, 3),
        "sign_ins_per_s": round(len(created) / elapsed, 1) if elapsed else 0.0,
        "latency": latency_summary([r.done - r.due for r in ok]),
        "events_received": len(arrivals),
        "sign_in_to_subscriber": latency_summary(arrivals),
    }


def machine() -> dict[str, Any]:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 0
    started = time.process_time()
    sum(range(10_000_000))
    calibration = time.process_time() - started
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": cpus,
        #: CPU seconds of `sum(range(10**7))`: about 0.1 s on a current laptop core; larger
        #: means a slower (or shared) CPU, and every figure here scales with it
        "python_calibration_s": round(calibration, 3),
        "load_average_1min_at_start": round(load, 2),
        "python": platform.python_version(),
        "event_loop": loop.name(),
        "system": platform.platform(),
    }


def table(result: dict[str, Any]) -> str:
    sat, paced, raw = result["saturation"], result["paced"], result["raw"]
    half = result["paced_half_saturation"]
    rows = [
        ("saturation: sign-ins/s", f"{sat['sign_ins_per_s']:.0f}", ">= 1000"),
        (
            "saturation: p50 / p99 ms",
            f"{sat['latency']['p50_ms']} / {sat['latency']['p99_ms']}",
            "",
        ),
        (
            f"paced {paced['target_rate']:.0f}/s: achieved /s",
            f"{paced['sign_ins_per_s']:.0f}",
            "",
        ),
        (
            f"paced {paced['target_rate']:.0f}/s: p50 / p95 / p99 ms",
            f"{paced['latency']['p50_ms']} / {paced['latency']['p95_ms']} / "
            f"{paced['latency']['p99_ms']}",
            "p99 < 50",
        ),
        (
            "sign-in to subscriber: p50 / p99 ms (paced)",
            f"{paced['sign_in_to_subscriber']['p50_ms']} / "
            f"{paced['sign_in_to_subscriber']['p99_ms']}",
            "p99 < 100",
        ),
        (
            "CPU ms per sign-in: service / PostgreSQL",
            f"{sat['cpu']['service_cpu_ms_per_sign_in']} / "
            f"{sat['cpu']['postgres_cpu_ms_per_sign_in']}",
            "",
        ),
        (
            f"paced {half['target_rate']:.0f}/s (half saturation): p50 / p99 ms",
            f"{half['latency']['p50_ms']} / {half['latency']['p99_ms']}",
            "",
        ),
        (
            f"  sign-in to subscriber at {half['target_rate']:.0f}/s: p50 / p99 ms",
            f"{half['sign_in_to_subscriber']['p50_ms']} / "
            f"{half['sign_in_to_subscriber']['p99_ms']}",
            "",
        ),
        ("raw INSERT per transaction /s", f"{raw['inserts_per_s']:.0f}", ""),
        (
            f"raw INSERT paced {raw['paced']['target_rate']:.0f}/s: p50 / p99 ms",
            f"{raw['paced']['latency']['p50_ms']} / {raw['paced']['latency']['p99_ms']}",
            "",
        ),
        ("sign-ins / raw inserts", f"{result['ratio_to_raw']:.2f}", ""),
        (
            "web stack alone (no work): requests/s, p99 ms",
            f"{result['web_stack_alone']['requests_per_s']:.0f}, "
            f"{result['web_stack_alone']['latency']['p99_ms']}",
            "",
        ),
        ("sign-ins / bare requests", f"{result['ratio_to_web_stack']:.2f}", ""),
        ("errors (saturation + paced)", f"{sat['errors'] + paced['errors']}", "0"),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'measure'.ljust(width)}  {'value':>24}  target", "-" * (width + 36)]
    lines += [f"{a.ljust(width)}  {b:>24}  {c}" for a, b, c in rows]
    lines.append("")
    lines.append(
        "targets: "
        + ", ".join(f"{k}={'met' if v else 'NOT met'}" for k, v in result["targets"].items())
    )
    return "\n".join(lines)


async def bare_http(
    opts: Options, root: Path, measured: list[SignInRequest], warm: list[SignInRequest]
) -> dict[str, Any]:
    """The saturation phase's requests, clients and workers against `bench.bare_http`."""
    port = free_port()
    log = root / "bare_http.log"
    proc = start_service(opts, "", "", port, log, app="bench.bare_http:app")
    try:
        await wait_ready(port, proc, log)
        copies = [SignInRequest(r.session_id, r.student, r.raw) for r in warm + measured]
        await closed_loop(port, copies[: len(warm)], opts.concurrency)
        timed = copies[len(warm) :]
        elapsed = await closed_loop(port, timed, opts.concurrency)
    finally:
        stop_service(proc)
    ok = [r for r in timed if r.status == 201]
    return {
        "app": "bench.bare_http:app (uvicorn + FastAPI, no auth, no database, no NATS)",
        "requests": len(timed),
        "errors": len(timed) - len(ok),
        "seconds": round(elapsed, 3),
        "requests_per_s": round(len(ok) / elapsed, 1) if elapsed else 0.0,
        "latency": latency_summary([r.done - r.due for r in ok]),
    }


# --------------------------------------------------------------------------- run


async def run(opts: Options) -> dict[str, Any]:
    host = machine()
    root = Path(tempfile.mkdtemp(prefix="passhub-checkin-"))
    nats_server = NatsServer(root / "nats")
    pg = PostgresServer(root / "postgres")
    proc: subprocess.Popen[bytes] | None = None
    try:
        nats_server.start()
        pg.start()
        database_url = pg.create_database("attendance")
        settings = Settings(
            service="attendance",
            database_url=database_url,
            nats_url=nats_server.url,
            jwt_secret=JWT_SECRET,
            log_json=False,
        )
        say(f"scheduling {opts.sessions} sessions per phase...")
        await schedule(settings, ["sat", "pac", "sus"], opts.sessions)
        port = free_port()
        log = root / "service.log"
        proc = start_service(opts, database_url, nats_server.url, port, log)
        await wait_ready(port, proc, log)
        say(f"service up on port {port} ({opts.workers} worker(s))")

        paced_total = int(opts.rate * opts.seconds)
        paced_per_session = max(1, -(-paced_total // opts.sessions))
        saturation = build_requests("sat", opts.sessions, opts.students, port, settings)
        paced = build_requests("pac", opts.sessions, paced_per_session, port, settings)[
            :paced_total
        ]
        subscriber = Subscriber(nats_server.url)
        await subscriber.start()

        warm = saturation[: opts.concurrency * 2]
        await closed_loop(port, warm, opts.concurrency)

        assert pg._proc is not None
        meter = CpuMeter(proc.pid, pg._proc.pid)
        say(f"saturation: {len(saturation) - len(warm)} sign-ins, {opts.concurrency} clients...")
        measured = saturation[len(warm) :]
        meter.begin()
        elapsed = await closed_loop(port, measured, opts.concurrency)
        await subscriber.wait_for(len(saturation))
        sat = phase_figures(measured, elapsed, subscriber)
        sat["cpu"] = meter.end(sat["sign_ins"])
        await asyncio.sleep(1.0)

        say(f"paced: {len(paced)} sign-ins at {opts.rate:.0f}/s...")
        elapsed = await open_loop(port, paced, opts.rate, max(opts.concurrency, 128))
        await subscriber.wait_for(len(saturation) + len(paced))
        pac = phase_figures(paced, elapsed, subscriber) | {"target_rate": opts.rate}
        received = len(saturation) + len(paced)

        # The same, at half the rate the service sustained: the latency of a service that
        # keeps up, whatever this machine's speed.
        sustainable = max(10.0, round(sat["sign_ins_per_s"] * 0.5))
        count = int(sustainable * opts.seconds)
        per_session = max(1, -(-count // opts.sessions))
        calm = build_requests("sus", opts.sessions, per_session, port, settings)[:count]
        await asyncio.sleep(2.0)
        say(f"paced at half the saturation rate: {len(calm)} sign-ins at {sustainable:.0f}/s...")
        elapsed = await open_loop(port, calm, sustainable, max(opts.concurrency, 128))
        await subscriber.wait_for(received + len(calm))
        half = phase_figures(calm, elapsed, subscriber) | {"target_rate": sustainable}
        await subscriber.stop()

        say("raw inserts...")
        dsn = asyncpg_dsn(database_url)
        count, raw_elapsed = await raw_inserts(
            dsn,
            opts.concurrency,
            opts.raw_seconds,
        )
        raw = {
            "inserts": count,
            "seconds": round(raw_elapsed, 3),
            "inserts_per_s": round(count / raw_elapsed, 1),
            "connections": opts.concurrency,
            "paced": await raw_paced(
                dsn,
                opts.rate,
                opts.seconds,
                max(opts.concurrency, 128),
            ),
        }
        bare = await bare_http(opts, root, measured, warm)
        say(f"web stack alone: {bare['requests_per_s']:.0f} requests/s")
        conn = await asyncpg.connect(dsn)
        try:
            attendances = await conn.fetchval(
                "SELECT count(*) FROM attendance_attendances WHERE active"
            )
        finally:
            await conn.close()
        expected = len(saturation) + len(paced) + len(calm)
        result: dict[str, Any] = {
            "benchmark": "checkin",
            "machine": host,
            "options": {
                "sessions_per_phase": opts.sessions,
                "students_per_session": opts.students,
                "concurrency": opts.concurrency,
                "paced_rate": opts.rate,
                "paced_seconds": opts.seconds,
                "uvicorn_workers": opts.workers,
                "method": "QR sign-in, POST /sessions/{id}/sign-in with a student bearer token",
                "postgres": "embedded, default durable settings (fsync on)",
            },
            "saturation": sat,
            "paced": pac,
            "paced_half_saturation": half,
            "raw": raw,
            "ratio_to_raw": round(sat["sign_ins_per_s"] / raw["inserts_per_s"], 3),
            "web_stack_alone": bare,
            "ratio_to_web_stack": round(sat["sign_ins_per_s"] / bare["requests_per_s"], 3),
            "consistency": {
                "sign_ins_sent": expected,
                "attendances_in_read_model": attendances,
                "distinct_events_received": len(subscriber.arrived),
                "messages_received": subscriber.messages,
            },
        }
        result["targets"] = {
            "saturation_at_least_1000_per_s": sat["sign_ins_per_s"] >= 1000,
            "paced_500_p99_under_50ms": pac["latency"]["p99_ms"] < 50,
            "subscriber_p99_under_100ms": pac["sign_in_to_subscriber"]["p99_ms"] < 100,
        }
        return result
    finally:
        if proc is not None:
            stop_service(proc)
        pg.stop()
        nats_server.stop()
        shutil.rmtree(root, ignore_errors=True)


def parse(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench.checkin", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sessions", type=int, default=200, help="sessions starting at once (200)")
    parser.add_argument(
        "--students", type=int, default=25, help="students per session, saturation phase (25)"
    )
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent clients (64)")
    parser.add_argument("--rate", type=float, default=500.0, help="paced sign-ins per second (500)")
    parser.add_argument("--seconds", type=float, default=10.0, help="paced phase length (10 s)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (1)")
    parser.add_argument("--raw-seconds", type=float, default=5.0, help="raw insert phase (5 s)")
    parser.add_argument("--quick", action="store_true", help="a small run (smoke test)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="results directory")
    args = parser.parse_args(argv)
    if args.quick:
        args.sessions, args.students, args.seconds, args.raw_seconds = 20, 10, 2.0, 1.0
    return Options(
        sessions=args.sessions,
        students=args.students,
        concurrency=args.concurrency,
        rate=args.rate,
        seconds=args.seconds,
        workers=args.workers,
        raw_seconds=args.raw_seconds,
        output=args.output,
    )


def main(argv: Sequence[str] | None = None) -> None:
    opts = parse(argv)
    result = loop.run(run(opts))
    opts.output.mkdir(parents=True, exist_ok=True)
    name = "checkin.json" if opts.workers == 1 else f"checkin-workers-{opts.workers}.json"
    path = opts.output / name
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(table(result))
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
