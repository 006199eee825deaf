"""The console's attendance reads over a year: today's live headcounts and engagement.

`python -m bench.console` starts its own PostgreSQL (the embedded server of
`passhub_shared.dev.devservers`) in a temporary directory, or uses `--database-url`; migrates the
attendance service's tables and fills its read models with a year of 6,000 students, 20
schemes and 600 sessions (30 a scheme, a week apart, each with two rostered leaders) and
60,000 attendances; and times, best and median of several runs:

- `live_sessions`: one page (50) of the sessions on in a day, with their headcounts, rostered
  and signed-in leaders (`GET /headcounts`);
- `engagement_rows`: one scheme's students who stopped coming, first page and the whole list
  (the CSV export) (`GET /schemes/{id}/engagement`);
- the baseline, in the same run on the same data: `scheme_attendance`, the query behind the
  existing `GET /schemes/{id}/attendance` (headcount per session, sessions per student).

Results go to `bench/results/console.json`; a table is printed.

`python -m bench.console --pages` measures every console page through the portal instead, on
the whole stack with a year of the same size loaded through the services' APIs, each beside
the service calls it makes, replayed direct (bench/console_pages.py); results to
`bench/results/console.md` and `console-pages.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from bench.common import database
from passhub_attendance import queries
from passhub_attendance.queries import engagement_rows, live_sessions
from passhub_attendance.service import service
from passhub_attendance.tables import attendances, rostered_leaders, scheduled_sessions, schemes
from passhub_shared.operations import loop
from passhub_shared.operations.secretkeys import generate_secret
from passhub_shared.operations.service import Runtime
from passhub_shared.operations.settings import Settings

RESULTS = Path(__file__).parent / "results"
YEAR = "2026-27"
TZ = ZoneInfo("Europe/London")
#: the first session of every scheme; sessions follow a week apart
START = datetime(2026, 9, 28, 9, 0, tzinfo=UTC)


def scheme_id(k: int) -> str:
    return f"{YEAR}-S{k:02d}"


async def load(
    runtime: Runtime, students: int, schemes_n: int, per_scheme: int, total: int
) -> datetime:
    """Fill the read models; answers the moment the benchmark reads at (mid-year)."""
    rng = random.Random(7)
    scheme_rows = [
        {
            "scheme_id": scheme_id(k),
            "code": f"S{k:02d}",
            "title": f"Scheme {k}",
            "school": "School",
            "academic_year": YEAR,
            "modules": [f"MOD{k:02d}"],
            "mode": "opt_in",
        }
        for k in range(schemes_n)
    ]
    session_rows = []
    leader_rows = []
    for k in range(schemes_n):
        for w in range(per_scheme):
            starts = START + timedelta(weeks=w, hours=k % 8)
            sid = f"{scheme_id(k)}-{w:02d}"
            session_rows.append(
                {
                    "session_id": sid,
                    "scheme_id": scheme_id(k),
                    "starts_at": starts,
                    "ends_at": starts + timedelta(minutes=50),
                    "room": f"Room {k}",
                    "capacity": 60,
                    "teaching_week": None,
                    "cancelled": False,
                    "cancel_reason": None,
                }
            )
            for leader in (f"L{k:02d}1", f"L{k:02d}2"):
                leader_rows.append({"session_id": sid, "student_number": leader})
    # each student belongs to one scheme and comes to a few of its sessions: some stop early,
    # some come every week, so engagement has both kinds to find
    by_scheme: dict[int, list[str]] = {}
    for s in range(students):
        by_scheme.setdefault(s % schemes_n, []).append(f"S{s:07d}")
    attendance_rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    while len(attendance_rows) < total:
        k = rng.randrange(schemes_n)
        student = rng.choice(by_scheme[k])
        weight = int(student[1:]) % 3
        w = rng.randrange(3) if weight == 0 else rng.randrange(per_scheme * (weight + 1) // 3)
        sid = f"{scheme_id(k)}-{w:02d}"
        if (sid, student) in seen:
            continue
        seen.add((sid, student))
        starts = START + timedelta(weeks=w, hours=k % 8)
        attendance_rows.append(
            {
                "session_id": sid,
                "student_number": student,
                "scheme_id": scheme_id(k),
                "role": "student",
                "method": "qr",
                "signed_in_at": starts + timedelta(minutes=5),
                "active": True,
                "revoked_reason": None,
            }
        )
    async with runtime.transaction() as conn:
        await conn.execute(insert(schemes), scheme_rows)
        await conn.execute(insert(scheduled_sessions), session_rows)
        await conn.execute(insert(rostered_leaders), leader_rows)
        for i in range(0, len(attendance_rows), 10_000):
            await conn.execute(insert(attendances), attendance_rows[i : i + 10_000])
        await conn.exec_driver_sql("ANALYZE")
    return START + timedelta(weeks=per_scheme // 2, hours=2)


async def timed(work: Callable[[], Awaitable[Any]], runs: int) -> dict[str, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await work()
        times.append((time.perf_counter() - started) * 1000)
    return {"best_ms": round(min(times), 2), "median_ms": round(statistics.median(times), 2)}


async def run(args: argparse.Namespace, dsn: str) -> dict[str, Any]:
    runtime = Runtime(
        service,
        Settings(
            database_url=dsn,
            log_json=False,
            jwt_secret=generate_secret(),
            privacy_master_key=generate_secret(),
            stream_key=generate_secret(),
        ),
    )
    await runtime.migrate()
    at = await load(runtime, args.students, args.schemes, args.sessions, args.attendances)
    day = datetime.combine(at.astimezone(TZ).date(), datetime.min.time(), TZ)
    target = scheme_id(3)
    figures: dict[str, Any] = {}
    async with runtime.engine.connect() as conn:

        async def live() -> Any:
            return await live_sessions(
                conn, since=day, until=day + timedelta(days=1), at=at, tz=TZ, limit=50
            )

        async def engaged(limit: int | None) -> Any:
            return await engagement_rows(
                conn,
                target,
                at=at,
                weeks=3,
                kind=None,
                sort="last_attended",
                descending=False,
                offset=0,
                limit=limit,
            )

        async def baseline() -> Any:
            return await queries.scheme_attendance(conn, target)

        total, _ = await engaged(None)
        figures["data"] = {
            "students": args.students,
            "schemes": args.schemes,
            "sessions": args.schemes * args.sessions,
            "attendances": args.attendances,
            "disengaged_in_the_scheme": total,
            "sessions_on_the_day": (await live())[0],
        }
        figures["baseline_scheme_attendance"] = await timed(baseline, args.runs)
        figures["live_headcounts_page"] = await timed(live, args.runs)
        figures["engagement_first_page"] = await timed(lambda: engaged(50), args.runs)
        figures["engagement_whole_list"] = await timed(lambda: engaged(None), args.runs)
    await runtime.engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=6_000)
    parser.add_argument("--schemes", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=30, help="sessions a scheme")
    parser.add_argument("--attendances", type=int, default=60_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--database-url", help="an empty database instead of an embedded one")
    parser.add_argument(
        "--pages", action="store_true", help="every console page through the portal instead"
    )
    parser.add_argument("--rounds", type=int, default=10, help="fetches of each page (--pages)")
    args = parser.parse_args()
    if args.pages:
        pages_main(args)
        return
    with database(args.database_url, "console") as dsn:
        result = loop.run(run(args, dsn))
    result["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "platform": platform.platform(),
    }
    result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "console.json").write_text(json.dumps(result, indent=2) + "\n")
    for name, value in result.items():
        print(f"{name:<28} {value}")


def pages_main(args: argparse.Namespace) -> None:
    from bench import console_pages

    result = console_pages.run(
        args.students, args.schemes, args.sessions, args.attendances, args.rounds
    )
    result["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "console-pages.json").write_text(json.dumps(result, indent=2) + "\n")
    table = console_pages.markdown(result)
    (RESULTS / "console.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
