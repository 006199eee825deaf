"""Portal benchmark: a campus-wide session start, students signing in through the portal.

`python -m bench.portal` starts its own NATS and PostgreSQL, schedules many sessions that all
start now (as `bench.checkin` does), and runs attendance, recruitment and the portal under
uvicorn, one process each, the services verifying the portal's tokens with its JWKS. Students
are logged in already: each has the portal's session cookie (signed with the portal's key, as
the portal itself would after a login), and signs in by posting the QR page's form
(`POST /s/{code}`), which costs the portal the sign-in at attendance, with a token it signs for
the student (a student's role is enough: recruitment is not asked). In the same run:

1. direct: the same number of sign-ins posted straight to attendance (`POST
   /sessions/{id}/sign-in` with a bearer token), saturated by `--concurrency` clients: the
   baseline;
2. portal: the same, through the portal: sign-ins/s, and the ratio to direct (target: 60%);
3. paced: sign-ins through the portal at `--rate` (300/s) whatever the answers (open loop):
   latency percentiles from when each was due (target: p99 under 150 ms).

With `--before <git ref>` (e.g. `--before HEAD~3`), a second portal runs from that commit's
code (its `shared/` and `services/portal/`, exported with `git archive`) beside the current one,
with the same signing key and the same attendance and recruitment, and phases 2 and 3 run for
both, the earlier code first: the change's effect measured in one run, on one machine state.
(Attendance and the kit it runs are the current code for both.)

Everything shares the machine (the client, the service processes, PostgreSQL and NATS).
Results go to `bench/results/portal.json`, and a table is printed. `BENCH_PORTAL_PROFILE=<file>`
runs the portal under cProfile (the `--before` one to `<file>.before`);
`BENCH_PORTAL_ACCESS_LOG=<file>` keeps its access log. The load average at the start and the end
goes into the results: other work on the machine moves every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
from itsdangerous import TimestampSigner

from bench.checkin import (
    JWT_SECRET,
    QR_SECRET,
    HttpConnection,
    Options,
    SignInRequest,
    _tail,
    build_requests,
    closed_loop,
    latency_summary,
    machine,
    open_loop,
    say,
    schedule,
    start_service,
    stop_service,
    tree_cpu,
)
from bench.common import Servers, asyncpg_dsn
from passhub_attendance.domain.qr import QrCodes
from passhub_portal.tokens import generate_private_key_pem
from passhub_recruitment.service import service as recruitment_service
from passhub_shared.dev.devservers import free_port
from passhub_shared.operations import loop
from passhub_shared.operations.service import Runtime
from passhub_shared.operations.settings import Settings

RESULTS = Path(__file__).parent / "results"


@dataclass
class PortalOptions:
    sessions: int
    students: int
    concurrency: int
    rate: float
    seconds: float
    output: Path
    before: str | None = None


def session_cookie(secret: str, number: str, csrf: str) -> str:
    """The cookie the portal sets after a login (Starlette's SessionMiddleware format)."""
    data = {
        "who": {"number": number, "name": number, "staff_roles": [], "kiosk_room": None},
        "until": int(time.time()) + 3600,
        "csrf": csrf,
    }
    payload = base64.b64encode(json.dumps(data).encode())
    return TimestampSigner(secret).sign(payload).decode()


def portal_requests(
    prefix: str, sessions: int, per_session: int, port: int, secret: str
) -> list[SignInRequest]:
    """Logged-in students posting the QR page's "Sign in" form, interleaved by session."""
    codes = QrCodes(QR_SECRET, timedelta(hours=1))
    now = datetime.now(UTC)
    issued = {f"{prefix}{i:04d}": codes.issue(f"{prefix}{i:04d}", now) for i in range(sessions)}
    out = []
    for k in range(per_session):
        for i in range(sessions):
            sid = f"{prefix}{i:04d}"
            student = f"{prefix}{i:04d}s{k:03d}"
            csrf = secrets.token_urlsafe(16)
            body = urlencode({"session_id": sid, "csrf": csrf}).encode()
            raw = (
                f"POST /s/{issued[sid]} HTTP/1.1\r\n"
                f"Host: 127.0.0.1:{port}\r\n"
                f"Cookie: passhub_portal={session_cookie(secret, student, csrf)}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            out.append(SignInRequest(sid, student, raw))
    return out


def start(
    app: str, port: int, env: dict[str, str], log: Path, profile: str | None = None
) -> subprocess.Popen[bytes]:
    """`profile`: a file to write the process's cProfile to."""
    wrap = ["-m", "cProfile", "-o", profile] if profile else []
    command = [
        sys.executable, *wrap, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
        *([] if os.environ.get("BENCH_PORTAL_ACCESS_LOG") else ["--no-access-log"]),
        "--log-level", "info" if os.environ.get("BENCH_PORTAL_ACCESS_LOG") else "warning",
    ]  # fmt: skip
    with log.open("wb") as out:
        return subprocess.Popen(command, env=os.environ | env, stdout=out, stderr=subprocess.STDOUT)


async def wait_up(port: int, proc: subprocess.Popen[bytes], log: Path, path: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited:\n{_tail(log)}")
        try:
            conn = HttpConnection("127.0.0.1", port)
            await conn.open()
            status, _ = await conn.request(
                f"GET {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: 0\r\n\r\n".encode()
            )
            await conn.close()
            if status == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"not up in 60 s:\n{_tail(log)}")


def cpu_of(procs: dict[str, subprocess.Popen[bytes]]) -> dict[str, float]:
    """CPU seconds each process has used so far."""
    return {name: tree_cpu(proc.pid) for name, proc in procs.items()}


def cpu_per(
    procs: dict[str, subprocess.Popen[bytes]], before: dict[str, float], done: dict[str, Any]
) -> dict[str, float]:
    """Milliseconds of CPU per sign-in each process spent in a phase: a figure that depends
    less than throughput on what else the shared machine runs."""
    after = cpu_of(procs)
    n = max(done["sign_ins"], 1)
    return {name: round((after[name] - before[name]) * 1000 / n, 3) for name in procs}


def export(ref: str, into: Path) -> Path:
    """The code of `ref` (the kit and the portal) in `into`: its `PYTHONPATH` for a portal."""
    root = Path(__file__).resolve().parent.parent
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", ref, "shared/src", "services/portal/src"],
        check=True,
        capture_output=True,
    ).stdout
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def git_describe(ref: str) -> str:
    root = Path(__file__).resolve().parent.parent
    return subprocess.run(
        ["git", "-C", str(root), "log", "-1", "--format=%h %s", ref],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()[:100]


def figures(requests: list[SignInRequest], elapsed: float, ok: set[int]) -> dict[str, Any]:
    done = [r for r in requests if r.status in ok]
    return {
        "requests": len(requests),
        "sign_ins": len(done),
        "errors": len(requests) - len(done),
        "statuses": sorted({r.status for r in requests}),
        "seconds": round(elapsed, 3),
        "sign_ins_per_s": round(len(done) / elapsed, 1) if elapsed else 0.0,
        "latency": latency_summary([r.done - r.due for r in done]),
    }


async def run(opts: PortalOptions) -> dict[str, Any]:
    host = machine()
    procs: dict[str, subprocess.Popen[bytes]] = {}
    portals = ["portal", "before"] if opts.before else ["portal"]
    prefixes = {"portal": ("por", "pac"), "before": ("bpo", "bpa")}
    with Servers() as servers:
        try:
            attendance_db = servers.database("attendance")
            recruitment_db = servers.database("recruitment")
            kit = Settings(
                service="attendance",
                database_url=attendance_db,
                nats_url=servers.nats_url,
                jwt_secret=JWT_SECRET,
                log_json=False,
            )
            say(f"scheduling {opts.sessions} sessions per phase...")
            await schedule(kit, ["dir", *(p for n in portals for p in prefixes[n])], opts.sessions)
            recruitment = Runtime(
                recruitment_service,
                Settings(
                    service="recruitment",
                    database_url=recruitment_db,
                    jwt_secret=JWT_SECRET,
                    log_json=False,
                ),
            )
            await recruitment.migrate()
            await recruitment.engine.dispose()

            ports = {name: free_port() for name in ("attendance", "recruitment", *portals)}
            jwks = f"http://127.0.0.1:{ports['portal']}/.well-known/jwks.json"
            session_secret = secrets.token_urlsafe(32)
            signing_key = generate_private_key_pem()  # both portals: attendance knows one JWKS
            os.environ["PASSHUB_JWT_JWKS_URL"] = jwks
            checkin = Options(0, 0, 0, 0.0, 0.0, 1, 0.0, opts.output)
            root = servers.root
            procs["attendance"] = start_service(
                checkin, attendance_db, servers.nats_url, ports["attendance"], root / "att.log"
            )
            procs["recruitment"] = start_service(
                checkin,
                recruitment_db,
                servers.nats_url,
                ports["recruitment"],
                root / "rec.log",
                app="passhub_recruitment.main:app",
            )
            for name in portals:
                env = {
                    "PASSHUB_ENV_FILE": "/nonexistent/passhub.env",
                    "PASSHUB_LOG_LEVEL": "WARNING",
                    "PASSHUB_JWT_SECRET": JWT_SECRET,
                    "PASSHUB_PORTAL_OIDC_ISSUER": "http://127.0.0.1:9",
                    "PASSHUB_PORTAL_OIDC_CLIENT_ID": "bench",
                    "PASSHUB_PORTAL_OIDC_CLIENT_SECRET": secrets.token_urlsafe(16),
                    "PASSHUB_PORTAL_SESSION_SECRET": session_secret,
                    "PASSHUB_PORTAL_SIGNING_KEY": signing_key,
                    "PASSHUB_PORTAL_PUBLIC_URL": f"http://127.0.0.1:{ports[name]}",
                    "PASSHUB_PORTAL_RECRUITMENT_URL": f"http://127.0.0.1:{ports['recruitment']}",
                    "PASSHUB_PORTAL_SESSIONS_URL": "http://127.0.0.1:9",
                    "PASSHUB_PORTAL_ATTENDANCE_URL": f"http://127.0.0.1:{ports['attendance']}",
                    "PASSHUB_PORTAL_RECOGNITION_URL": "http://127.0.0.1:9",
                }
                if name == "before":
                    assert opts.before is not None
                    code = export(opts.before, root / "before")
                    env["PYTHONPATH"] = os.pathsep.join(
                        [str(code / "services/portal/src"), str(code / "shared/src")]
                    )
                profile = os.environ.get("BENCH_PORTAL_PROFILE")
                procs[name] = start(
                    "passhub_portal.main:app",
                    ports[name],
                    env,
                    root / f"{name}.log",
                    f"{profile}.{name}" if profile and name == "before" else profile,
                )
            await wait_up(ports["attendance"], procs["attendance"], root / "att.log", "/readyz")
            await wait_up(ports["recruitment"], procs["recruitment"], root / "rec.log", "/readyz")
            for name in portals:
                await wait_up(ports[name], procs[name], root / f"{name}.log", "/healthz")
            say(f"attendance, recruitment and {len(portals)} portal(s) are up")

            direct = build_requests("dir", opts.sessions, opts.students, ports["attendance"], kit)
            count = int(opts.rate * opts.seconds)
            per_session = max(1, -(-count // opts.sessions))
            through, paced_requests = {}, {}
            for name in portals:
                saturated, paced = prefixes[name]
                through[name] = portal_requests(
                    saturated, opts.sessions, opts.students, ports[name], session_secret
                )
                paced_requests[name] = portal_requests(
                    paced, opts.sessions, per_session, ports[name], session_secret
                )[:count]

            warm = opts.concurrency * 2
            await closed_loop(ports["attendance"], direct[:warm], opts.concurrency)
            for name in portals:
                await closed_loop(ports[name], through[name][:warm], opts.concurrency)
            say(f"direct: {len(direct) - warm} sign-ins, {opts.concurrency} clients...")
            before = cpu_of(procs)
            elapsed = await closed_loop(ports["attendance"], direct[warm:], opts.concurrency)
            direct_figures = figures(direct[warm:], elapsed, {200, 201})
            direct_figures["cpu_ms_per_sign_in"] = cpu_per(procs, before, direct_figures)
            saturated_figures: dict[str, dict[str, Any]] = {}
            for name in reversed(portals):  # the code before the change first
                await asyncio.sleep(1.0)
                say(f"{name}: {len(through[name]) - warm} sign-ins, {opts.concurrency} clients...")
                before = cpu_of(procs)
                elapsed = await closed_loop(ports[name], through[name][warm:], opts.concurrency)
                saturated_figures[name] = figures(through[name][warm:], elapsed, {303})
                saturated_figures[name]["cpu_ms_per_sign_in"] = cpu_per(
                    procs, before, saturated_figures[name]
                )
            paced_figures: dict[str, dict[str, Any]] = {}
            for name in reversed(portals):
                await asyncio.sleep(2.0)
                say(f"{name}, paced: {len(paced_requests[name])} at {opts.rate:.0f}/s...")
                before = cpu_of(procs)
                elapsed = await open_loop(ports[name], paced_requests[name], opts.rate, 128)
                paced_figures[name] = figures(paced_requests[name], elapsed, {303}) | {
                    "target_rate": opts.rate
                }
                paced_figures[name]["cpu_ms_per_sign_in"] = cpu_per(
                    procs, before, paced_figures[name]
                )
            load_at_end = os.getloadavg()[0]

            conn = await asyncpg.connect(asyncpg_dsn(attendance_db))
            try:
                recorded = await conn.fetchval(
                    "SELECT count(*) FROM attendance_attendances WHERE active"
                )
            finally:
                await conn.close()
        finally:
            for proc in procs.values():
                stop_service(proc)
            if os.environ.get("BENCH_PORTAL_ACCESS_LOG"):
                shutil.copy(root / "portal.log", os.environ["BENCH_PORTAL_ACCESS_LOG"])
            os.environ.pop("PASSHUB_JWT_JWKS_URL", None)
    portal_figures, paced_now = saturated_figures["portal"], paced_figures["portal"]
    host["load_average_1min_at_end"] = round(load_at_end, 2)
    sent = len(direct) + sum(len(through[n]) + len(paced_requests[n]) for n in portals)
    ratio = portal_figures["sign_ins_per_s"] / max(direct_figures["sign_ins_per_s"], 1e-9)
    return {
        "benchmark": "portal",
        "machine": host,
        "options": {
            "sessions_per_phase": opts.sessions,
            "students_per_session": opts.students,
            "concurrency": opts.concurrency,
            "paced_rate": opts.rate,
            "paced_seconds": opts.seconds,
            "processes": "attendance, recruitment and the portal: one uvicorn worker each",
            "method": "logged-in students post the QR page's form, POST /s/{code} (303)",
        },
        "direct": direct_figures,
        "portal": portal_figures,
        "ratio_portal_to_direct": round(ratio, 3),
        "paced": paced_now,
        **(
            {
                "before": {
                    "ref": opts.before,
                    "commit": git_describe(opts.before or "HEAD"),
                    "portal": saturated_figures["before"],
                    "ratio_portal_to_direct": round(
                        saturated_figures["before"]["sign_ins_per_s"]
                        / max(direct_figures["sign_ins_per_s"], 1e-9),
                        3,
                    ),
                    "paced": paced_figures["before"],
                }
            }
            if "before" in saturated_figures
            else {}
        ),
        "consistency": {"sign_ins_sent": sent, "attendances_in_read_model": recorded},
        "targets": {
            "portal_at_least_60_percent_of_direct": ratio >= 0.6,
            "paced_p99_under_150ms": paced_now["latency"]["p99_ms"] < 150,
        },
    }


def table(result: dict[str, Any]) -> str:
    d, p, paced = result["direct"], result["portal"], result["paced"]
    was = result.get("before")

    def then(path: tuple[str, ...], fmt: str) -> str:
        if was is None:
            return ""
        value: Any = was
        for key in path:
            value = value[key]
        return f"before: {value:{fmt}}"

    rows = [
        ("direct to attendance: sign-ins/s", f"{d['sign_ins_per_s']:.0f}", "baseline"),
        (
            "through the portal: sign-ins/s",
            f"{p['sign_ins_per_s']:.0f}",
            then(("portal", "sign_ins_per_s"), ".0f"),
        ),
        (
            "portal / direct (>= 60%)",
            f"{result['ratio_portal_to_direct']:.0%}",
            then(("ratio_portal_to_direct",), ".0%"),
        ),
        (
            "direct: attendance CPU ms per sign-in",
            f"{d['cpu_ms_per_sign_in']['attendance']:.2f}",
            "",
        ),
        (
            "portal: portal CPU ms per sign-in",
            f"{p['cpu_ms_per_sign_in']['portal']:.2f}",
            then(("portal", "cpu_ms_per_sign_in", "before"), ".2f"),
        ),
        (
            "portal: attendance CPU ms per sign-in",
            f"{p['cpu_ms_per_sign_in']['attendance']:.2f}",
            then(("portal", "cpu_ms_per_sign_in", "attendance"), ".2f"),
        ),
        (
            "portal, saturated: p99 ms",
            f"{p['latency']['p99_ms']:.0f}",
            then(("portal", "latency", "p99_ms"), ".0f"),
        ),
        (
            f"portal paced at {paced['target_rate']:.0f}/s: p99 ms (< 150)",
            f"{paced['latency']['p99_ms']:.0f}",
            then(("paced", "latency", "p99_ms"), ".0f"),
        ),
        ("paced: errors", str(paced["errors"]), then(("paced", "errors"), "d")),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{a:<{width}}  {b:>8}  {c}" for a, b, c in rows)


def parse(argv: Sequence[str] | None = None) -> PortalOptions:
    parser = argparse.ArgumentParser(prog="python -m bench.portal", description=__doc__)
    parser.add_argument("--sessions", type=int, default=100, help="sessions starting at once")
    parser.add_argument("--students", type=int, default=20, help="students per session")
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent clients")
    parser.add_argument("--rate", type=float, default=300.0, help="paced sign-ins per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="paced phase length")
    parser.add_argument("--quick", action="store_true", help="a small run (smoke test)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="results directory")
    parser.add_argument(
        "--before", metavar="REF", help="also run a portal from this git commit, alternating"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.sessions, args.students, args.seconds = 20, 10, 2.0
    return PortalOptions(
        args.sessions,
        args.students,
        args.concurrency,
        args.rate,
        args.seconds,
        args.output,
        args.before,
    )


def main(argv: Sequence[str] | None = None) -> None:
    opts = parse(argv)
    result = loop.run(run(opts))
    opts.output.mkdir(parents=True, exist_ok=True)
    path = opts.output / "portal.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(table(result))
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
