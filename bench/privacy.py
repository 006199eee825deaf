"""What crypto-shredding costs: the attendance sign-in path and replay, with personal fields
sealed (`passhub_shared.personal`) and without, on the same servers in the same run.

    python -m bench.privacy            # writes bench/results/privacy.json
    python -m bench.privacy --quick    # a small run, results in a temporary directory

1. sign-in: `handlers.sign_in_many` (the group commit's batch: the sessions read, the
   attendance streams, the append, the projections, in one transaction), batches of
   `--batch` kiosk sign-ins, sequentially, for students who already have a key (the steady
   state; a warm-up round signs every student in once first, untimed). Sealed: one query for
   the batch's keys, the student number and actor sealed under the student's key.
2. replay: `replay.rebuild(commit=False)` of the whole attendance service over a log of
   `--replay-events` sign-ins (`--replay-students` students, appended in large batches through
   the same store). Sealed: the key table read once, every token opened.

Each is run alternately with and without sealing (`--rounds` times each, on databases of their
own) and the medians are compared: the ratio is sealed time / plain time (target <= 1.10).
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

from bench.common import RESULTS_DIR, Servers, machine_info, machine_load
from passhub_shared.events import Metadata
from passhub_shared.secretkeys import generate_secret

for _name in (
    "PASSHUB_JWT_SECRET",
    "PASSHUB_ATTENDANCE_QR_SECRET",
    "PASSHUB_ATTENDANCE_FEEDBACK_GUARD_KEY",
    "PASSHUB_PRIVACY_MASTER_KEY",
    "PASSHUB_STREAM_KEY",
):
    os.environ.setdefault(_name, generate_secret())

from passhub_attendance.handlers import SignInRequest, sign_in_many  # noqa: E402
from passhub_attendance.service import service as attendance  # noqa: E402
from passhub_attendance.settings import AttendanceSettings  # noqa: E402
from passhub_shared.contracts.attendance import StudentSignedIn  # noqa: E402
from passhub_shared.replay import rebuild  # noqa: E402
from passhub_shared.service import Runtime  # noqa: E402
from passhub_shared.settings import Settings  # noqa: E402
from passhub_shared.store import Append  # noqa: E402
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


async def sign_ins(
    rt: Runtime, settings: AttendanceSettings, session_ids: Sequence[str], students: int, batch: int
) -> tuple[float, int]:
    """Warm-up at the first session (every student gets their key), then the timed ones."""
    now = datetime.now(UTC)
    numbers = [f"{2000000 + n}" for n in range(students)]

    def requests(session_id: str) -> list[SignInRequest]:
        return [
            SignInRequest(session_id, n, "kiosk", now, Metadata(actor="kiosk-1")) for n in numbers
        ]

    warm = requests(session_ids[0])
    for i in range(0, len(warm), batch):
        await sign_in_many(rt, settings, warm[i : i + batch])
    timed = [r for sid in session_ids[1:] for r in requests(sid)]
    started = time.perf_counter()
    for i in range(0, len(timed), batch):
        outcomes = await sign_in_many(rt, settings, timed[i : i + batch])
        assert all(not isinstance(o, Exception) for o in outcomes), outcomes[:1]
    return time.perf_counter() - started, len(timed)


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


async def replays(rt: Runtime, times: int) -> tuple[list[float], int]:
    seconds = []
    events = 0
    for _ in range(times):
        report = await rebuild(rt.engine, rt.store, commit=False)
        assert report.identical
        seconds.append(report.seconds)
        events = report.events
    return seconds, events


async def run(opts: argparse.Namespace) -> dict[str, Any]:
    servers = Servers({"synchronous_commit": "off"})
    servers.start()
    settings = AttendanceSettings()  # type: ignore[call-arg]
    results: dict[str, dict[str, list[float]]] = {
        "sealed": {"sign_in": [], "replay": []},
        "plain": {"sign_in": [], "replay": []},
    }
    counts: dict[str, int] = {}
    try:
        for round_ in range(opts.rounds):
            order = ("sealed", "plain") if round_ % 2 == 0 else ("plain", "sealed")
            for kind in order:
                rt = await runtime_for(servers, f"bench_{kind}_{round_}", kind == "sealed")
                try:
                    ids = await seed(rt, opts.sessions)
                    seconds, n = await sign_ins(rt, settings, ids, opts.students, opts.batch)
                    results[kind]["sign_in"].append(n / seconds)
                    counts["sign_ins"] = n
                    await fill_log(rt, opts.replay_events, opts.replay_students)
                    replay_seconds, events = await replays(rt, opts.replays)
                    results[kind]["replay"].append(events / statistics.median(replay_seconds))
                    counts["replay_events"] = events
                    print(
                        f"round {round_} {kind}: {n / seconds:,.0f} sign-ins/s, "
                        f"replay {events / statistics.median(replay_seconds):,.0f} events/s",
                        flush=True,
                    )
                finally:
                    await rt.engine.dispose()
    finally:
        servers.stop()
    figures = {}
    for measure in ("sign_in", "replay"):
        sealed = statistics.median(results["sealed"][measure])
        plain = statistics.median(results["plain"][measure])
        figures[measure] = {
            "sealed_per_s": round(sealed),
            "plain_per_s": round(plain),
            "cost_ratio": round(plain / sealed, 3),  # time sealed / time plain
            "runs_sealed": [round(x) for x in results["sealed"][measure]],
            "runs_plain": [round(x) for x in results["plain"][measure]],
        }
    return {
        "benchmark": "privacy",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": vars(opts) | {"output": str(opts.output)},
        "counts": counts,
        "figures": figures,
        "target": "cost_ratio <= 1.10 on each",
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
            f"time ratio {f['cost_ratio']:.3f}"
        )
    print(f"results: {path}")


if __name__ == "__main__":
    main()
