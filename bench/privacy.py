"""What crypto-shredding costs: the attendance sign-in path and replay, with personal fields
sealed (`passhub_shared.personaldata.personal`) and without, on the same servers in the same run.

    python -m bench.privacy            # writes bench/results/privacy.json
    python -m bench.privacy --quick    # a small run, results in a temporary directory

1. sign-in: `api.deps.write_sign_ins` (the group commit's batch: the sessions read, the
   attendance streams, the append, the projections, in one transaction), batches of
   `--batch` kiosk sign-ins, sequentially, for students who already have a key (the steady
   state; a warm-up round signs every student in once first, untimed). Sealed: one query for
   the batch's keys, the student number and actor sealed under the student's key.
2. replay: `replay.rebuild(commit=False)` of the whole attendance service over a log of
   `--replay-events` sign-ins (`--replay-students` students, appended in large batches through
   the same store). Sealed: the key table read once, every token opened.

Each is measured with and without sealing side by side, on databases of their own on the same
servers: the sign-in batches alternate between the two services (a batch on one right after
the same batch on the other, the order swapped each time), and so do the replays. The ratio is
sealed time / plain time, the median over the pairs (`--rounds` rounds of sign-ins, `--rounds`
x `--replays` pairs of replays); target <= 1.10. The CPU time of this process and of the
PostgreSQL server is measured too (`cpu_ratio`): the machine is shared, and other work changes
wall times by a factor of two from one minute to the next, CPU times much less.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

from bench.common import RESULTS_DIR, Servers, machine_info, machine_load
from passhub_shared.messages.events import Metadata
from passhub_shared.operations.secretkeys import generate_secret

for _name in (
    "PASSHUB_JWT_SECRET",
    "PASSHUB_ATTENDANCE_QR_SECRET",
    "PASSHUB_ATTENDANCE_FEEDBACK_GUARD_KEY",
    "PASSHUB_PRIVACY_MASTER_KEY",
    "PASSHUB_STREAM_KEY",
):
    os.environ.setdefault(_name, generate_secret())

from passhub_attendance.api.deps import write_sign_ins  # noqa: E402
from passhub_attendance.handlers import SignInRequest  # noqa: E402
from passhub_attendance.service import service as attendance  # noqa: E402
from passhub_attendance.settings import AttendanceSettings  # noqa: E402
from passhub_shared.contracts.attendance import StudentSignedIn  # noqa: E402
from passhub_shared.operations.replay import rebuild  # noqa: E402
from passhub_shared.operations.service import Runtime  # noqa: E402
from passhub_shared.operations.settings import Settings  # noqa: E402
from passhub_shared.storage.store import Append  # noqa: E402
from tests.attendance.helpers import (  # noqa: E402
    MODULES,
    SCHEME,
    scheme_launched,
    session_events,
)


async def runtime_for(servers: Servers, name: str, sealed: bool) -> Runtime:
    settings = Settings(
        database_url=servers.database(name), nats_url=servers.nats_url, log_json=False
    )  # type: ignore[call-arg]
    rt = Runtime(attendance, settings)
    await rt.migrate()
    if not sealed:
        rt.store.privacy = None
    return rt


async def seed(rt: Runtime, sessions: int) -> list[str]:
    ids = [f"B{i:04d}" for i in range(sessions + 1)]
    start = datetime.now(UTC) - timedelta(minutes=10)
    events = [scheme_launched()]
    for sid in ids:
        events.extend(session_events(sid, starts_at=start))
    await rt.applier.apply(events)
    return ids


class Clock:
    """Wall time, this process's CPU time and the PostgreSQL server's (every backend's, the
    ones that have exited included), between `start` and `stop`, added up over calls."""

    def __init__(self, postmaster: psutil.Process) -> None:
        self.postmaster = postmaster
        self.wall = self.cpu = self.server_cpu = 0.0

    def _server(self) -> float:
        t = self.postmaster.cpu_times()
        total = t.user + t.system + t.children_user + t.children_system
        for child in self.postmaster.children():
            try:
                c = child.cpu_times()
            except psutil.NoSuchProcess:  # exited meanwhile: counted in children_* next time
                continue
            total += c.user + c.system
        return total

    def start(self) -> None:
        self._marks = (time.perf_counter(), time.process_time(), self._server())

    def stop(self) -> None:
        wall, cpu, server = self._marks
        self.wall += time.perf_counter() - wall
        self.cpu += time.process_time() - cpu
        self.server_cpu += self._server() - server


def postmaster(servers: Servers) -> psutil.Process:
    pid = int((servers.postgres.pgdata / "postmaster.pid").read_text().split()[0])
    return psutil.Process(pid)


async def warm_up(
    rt: Runtime, settings: AttendanceSettings, session_id: str, numbers: Sequence[str], batch: int
) -> None:
    """Every student signs in once (and so gets their key): the steady state."""
    now = datetime.now(UTC)
    warm = [SignInRequest(session_id, n, "kiosk", now, Metadata(actor="kiosk-1")) for n in numbers]
    for i in range(0, len(warm), batch):
        await write_sign_ins(rt, settings, warm[i : i + batch])


async def sign_ins(
    rts: dict[str, Runtime],
    clocks: dict[str, Clock],
    settings: AttendanceSettings,
    session_ids: Sequence[str],
    students: int,
    batch: int,
) -> int:
    """The timed sign-ins, batch by batch, alternately on the sealed and the plain service (a
    batch of one right after the same batch of the other, the order swapped each time), so
    that both meet the same load of the machine."""
    now = datetime.now(UTC)
    numbers = [f"{2000000 + n}" for n in range(students)]
    for rt in rts.values():
        await warm_up(rt, settings, session_ids[0], numbers, batch)
    timed = [
        SignInRequest(sid, n, "kiosk", now, Metadata(actor="kiosk-1"))
        for sid in session_ids[1:]
        for n in numbers
    ]
    for k, i in enumerate(range(0, len(timed), batch)):
        for kind in KINDS if k % 2 == 0 else KINDS[::-1]:
            clocks[kind].start()
            outcomes = await write_sign_ins(rts[kind], settings, timed[i : i + batch])
            clocks[kind].stop()
            assert all(not isinstance(o, Exception) for o in outcomes), outcomes[:1]
    return len(timed)


async def fill_log(rt: Runtime, events: int, students: int) -> None:
    """`events` sign-ins of `students` students, spread over sessions, appended 2,000 at a time."""
    numbers = [f"{3000000 + n}" for n in range(students)]
    sessions = max(1, events // students)
    start = datetime.now(UTC) - timedelta(days=1)
    await rt.applier.apply(
        [e for i in range(sessions) for e in session_events(f"R{i:05d}", starts_at=start)]
    )
    pending: list[Append] = []
    async with rt.transaction() as conn:
        names = await rt.store.pseudonyms(conn, numbers)
    for i in range(sessions):
        for n in numbers:
            event = StudentSignedIn(
                session_id=f"R{i:05d}", scheme_id=SCHEME, modules=list(MODULES),
                student_number=n, signed_in_at=start, method="kiosk",
            )  # fmt: skip
            pending.append(Append(f"attendance-R{i:05d}/{names[n]}", 0, [event]))
            if len(pending) == 2000:
                async with rt.transaction() as conn:
                    await rt.store.append_many(conn, pending)
                pending = []
    if pending:
        async with rt.transaction() as conn:
            await rt.store.append_many(conn, pending)


async def replays(rts: dict[str, Runtime], times: int) -> tuple[dict[str, list[Clock]], int]:
    """Each replay of the sealed service right next to one of the plain (order swapped each
    time): one clock per replay."""
    out: dict[str, list[Clock]] = {kind: [] for kind in KINDS}
    events = 0
    for k in range(times):
        for kind in KINDS if k % 2 == 0 else KINDS[::-1]:
            clock = Clock(POSTMASTER[0])
            clock.start()
            report = await rebuild(rts[kind].engine, rts[kind].store, commit=False)
            clock.stop()
            assert report.identical
            out[kind].append(clock)
            events = report.events
    return out, events


KINDS = ("sealed", "plain")
#: the benchmark's PostgreSQL server's postmaster, once started
POSTMASTER: list[psutil.Process] = []


def ratios(sealed: Sequence[float], plain: Sequence[float]) -> dict[str, Any]:
    """Sealed over plain, pair by pair: the median and every pair's."""
    pairs = [s / p for s, p in zip(sealed, plain, strict=True)]
    return {"median": round(statistics.median(pairs), 3), "pairs": [round(r, 3) for r in pairs]}


async def run(opts: argparse.Namespace) -> dict[str, Any]:
    servers = Servers({"synchronous_commit": "off"})
    servers.start()
    POSTMASTER[:] = [postmaster(servers)]
    settings = AttendanceSettings()  # type: ignore[call-arg]
    sign_in_clocks: dict[str, list[Clock]] = {kind: [] for kind in KINDS}
    replay_clocks: dict[str, list[Clock]] = {kind: [] for kind in KINDS}
    counts: dict[str, int] = {}
    try:
        for round_ in range(opts.rounds):
            rts = {
                kind: await runtime_for(servers, f"bench_{kind}_{round_}", kind == "sealed")
                for kind in KINDS
            }
            try:
                clocks = {kind: Clock(POSTMASTER[0]) for kind in KINDS}
                ids = {kind: await seed(rt, opts.sessions) for kind, rt in rts.items()}
                assert ids["sealed"] == ids["plain"]
                n = await sign_ins(rts, clocks, settings, ids["sealed"], opts.students, opts.batch)
                counts["sign_ins"] = n
                for kind in KINDS:
                    sign_in_clocks[kind].append(clocks[kind])
                for rt in rts.values():
                    await fill_log(rt, opts.replay_events, opts.replay_students)
                done, events = await replays(rts, opts.replays)
                counts["replay_events"] = events
                for kind in KINDS:
                    replay_clocks[kind].extend(done[kind])
                print(
                    f"round {round_}: sign-ins sealed {n / clocks['sealed'].wall:,.0f}/s, "
                    f"plain {n / clocks['plain'].wall:,.0f}/s; replays sealed "
                    + ", ".join(f"{events / c.wall:,.0f}" for c in done["sealed"])
                    + " events/s, plain "
                    + ", ".join(f"{events / c.wall:,.0f}" for c in done["plain"]),
                    flush=True,
                )
            finally:
                for rt in rts.values():
                    await rt.engine.dispose()
    finally:
        servers.stop()
    figures = {}
    for measure, clocks_of, count in (
        ("sign_in", sign_in_clocks, counts["sign_ins"]),
        ("replay", replay_clocks, counts["replay_events"]),
    ):
        sealed, plain = clocks_of["sealed"], clocks_of["plain"]
        wall = ratios([c.wall for c in sealed], [c.wall for c in plain])
        cpu = ratios([c.cpu + c.server_cpu for c in sealed], [c.cpu + c.server_cpu for c in plain])
        figures[measure] = {
            "sealed_per_s": round(count / statistics.median(c.wall for c in sealed)),
            "plain_per_s": round(count / statistics.median(c.wall for c in plain)),
            # time sealed / time plain, the median of the pairs measured side by side
            "cost_ratio": wall["median"],
            "cost_ratio_pairs": wall["pairs"],
            # CPU (this process and PostgreSQL's) sealed / plain: what other work on the
            # machine changes least
            "cpu_ratio": cpu["median"],
            "cpu_ratio_pairs": cpu["pairs"],
            "cpu_ms_per_1000_sealed": round(
                statistics.median(c.cpu + c.server_cpu for c in sealed) / count * 1e6, 1
            ),
            "cpu_ms_per_1000_plain": round(
                statistics.median(c.cpu + c.server_cpu for c in plain) / count * 1e6, 1
            ),
        }
    return {
        "benchmark": "privacy",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": vars(opts) | {"output": str(opts.output)},
        "counts": counts,
        "figures": figures,
        "target": "cost_ratio <= 1.10 on each",
        "met": all(f["cost_ratio"] <= 1.10 for f in figures.values()),
        "machine": machine_info(),
        "load": machine_load(),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=4, help="runs of each, alternating")
    parser.add_argument("--sessions", type=int, default=60)
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--batch", type=int, default=32, help="sign-ins per transaction")
    parser.add_argument("--replays", type=int, default=3, help="replays per run (median)")
    parser.add_argument("--replay-events", type=int, default=200_000)
    parser.add_argument("--replay-students", type=int, default=2_000)
    parser.add_argument("--output", type=Path, default=RESULTS_DIR)
    opts = parser.parse_args(argv)
    if opts.quick:
        opts.rounds, opts.sessions, opts.students = 2, 5, 40
        opts.replay_events, opts.replay_students = 4_000, 200
        opts.output = Path(tempfile.mkdtemp(prefix="passhub-bench-"))
    result = asyncio.run(run(opts))
    opts.output.mkdir(parents=True, exist_ok=True)
    path = opts.output / "privacy.json"
    path.write_text(json.dumps(result, indent=2))
    for measure, f in result["figures"].items():
        print(
            f"{measure}: sealed {f['sealed_per_s']:,}/s, plain {f['plain_per_s']:,}/s, "
            f"time ratio {f['cost_ratio']:.3f} (pairs {f['cost_ratio_pairs']}), "
            f"CPU ratio {f['cpu_ratio']:.3f}"
        )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
