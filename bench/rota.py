"""Rota generation benchmark of the sessions service.

`python -m bench.rota` builds a realistic scheme and times the pure rota generation
(`passhub_sessions.domain.rota.generate_rota`) on it:

- 30 appointed leaders, 3 weekly sessions (Monday 12:00, Wednesday 14:00, Thursday 16:00, an hour
  each) through the 22 teaching weeks of the packaged 2026-27 term dates (66 sessions), two
  leaders per session;
- each leader available on two to four weekday afternoons (some only in one semester), with a
  few dates off; a third of them also lead a weekly session of another scheme (commitments the
  rota must not clash with); two stood down at the start of semester 2.

The scheme is built from a fixed seed, so every run generates the same rota. It reports the
time per generation (median and worst of `--repeat` runs; the target is under a second), the
sessions filled and left short, and the spread of sessions per leader (min/max/mean). Results go
to `bench/results/rota.json` and a table is printed. No servers are needed: the database side
(locks, queries, appending 132 `leader_rostered` events) is what the API tests exercise.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from passhub_sessions.domain.availability import WEEKDAYS, Availability, Slot
from passhub_sessions.domain.clashes import Booking
from passhub_sessions.domain.recurrence import WeeklyPattern, weekly_series
from passhub_sessions.domain.rota import (
    Appointment,
    RotaPlan,
    RotaRequest,
    RotaSession,
    generate_rota,
    rostering_problem,
)
from passhub_sessions.domain.terms import TermDates
from passhub_sessions.settings import PACKAGED_TERM_DATES

RESULTS = Path(__file__).parent / "results"
TZ = ZoneInfo("Europe/London")
SCHEME = "2026-27-PHYS"
TARGET_SECONDS = 1.0


def realistic_scheme(leaders: int = 30, seed: int = 2026) -> RotaRequest:
    terms = TermDates.model_validate_json((PACKAGED_TERM_DATES / "2026-27.json").read_text())
    rng = random.Random(seed)
    sessions: list[RotaSession] = []
    for weekday, hour in ((0, 12), (2, 14), (3, 16)):
        plan = weekly_series(WeeklyPattern(weekday, clock(hour), clock(hour + 1)), terms, TZ)
        for i, occurrence in enumerate(plan.occurrences):
            sessions.append(
                RotaSession(
                    f"{WEEKDAYS[weekday][:3]}-{i:02d}",
                    SCHEME,
                    occurrence.starts_at,
                    occurrence.ends_at,
                    occurrence.teaching_week,
                )
            )
    numbers = [f"2300{n:04d}" for n in range(leaders)]
    semester_2 = terms.semester(2).teaching_starts
    appointments = [
        Appointment(
            n,
            appointed_on=date(2026, 7, 1),
            stood_down_from=semester_2 if i in (3, 17) else None,
        )
        for i, n in enumerate(numbers)
    ]
    availability: dict[str, Availability] = {}
    for n in numbers:
        days = rng.sample(range(5), rng.randint(2, 4))
        slots = tuple(
            Slot(
                weekday=WEEKDAYS[d],
                starts=clock(rng.choice((9, 11, 12))),
                ends=clock(rng.choice((17, 18))),
                semester=rng.choice((None, None, None, 1, 2)),
            )
            for d in days
        )
        off = frozenset(
            terms.semester(1).teaching_starts + timedelta(days=rng.randint(0, 200))
            for _ in range(rng.randint(0, 4))
        )
        availability[n] = Availability(slots=slots, unavailable_dates=off)
    commitments: dict[str, list[Booking]] = {}
    for n in rng.sample(numbers, leaders // 3):
        plan = weekly_series(WeeklyPattern(2, clock(13, 30), clock(14, 30)), terms, TZ)
        commitments[n] = [
            Booking(f"math-{n}-{i}", "2026-27-MATH", o.starts_at, o.ends_at)
            for i, o in enumerate(plan.occurrences)
        ]
    return RotaRequest(
        sessions=sessions,
        leaders=appointments,
        availability=availability,
        commitments=commitments,
        minimum=2,
        tz=TZ,
    )


def run(repeat: int) -> tuple[RotaPlan, list[float], RotaRequest]:
    request = realistic_scheme()
    generate_rota(request)  # warm up imports and caches
    timings = []
    plan = None
    for _ in range(repeat):
        started = time.perf_counter()
        plan = generate_rota(request)
        timings.append(time.perf_counter() - started)
    assert plan is not None
    return plan, timings, request


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="generations to time")
    parser.add_argument("--output", type=Path, default=RESULTS / "rota.json")
    args = parser.parse_args(argv)

    plan, timings, request = run(max(1, args.repeat))
    median, worst = statistics.median(timings), max(timings)
    spread = plan.spread
    # leaders free (available, no other commitment) for at least one session
    eligible = sorted(
        a.student_number
        for a in request.leaders
        if any(
            rostering_problem(
                s,
                a.student_number,
                a,
                request.availability.get(a.student_number),
                request.commitments.get(a.student_number, ()),
                TZ,
            )
            is None
            for s in request.sessions
        )
    )
    result: dict[str, Any] = {
        "benchmark": "rota",
        "scheme": {
            "leaders": len(request.leaders),
            "sessions": len(request.sessions),
            "sessions_per_week": 3,
            "teaching_weeks": len({s.teaching_week for s in request.sessions}),
            "minimum_per_session": request.minimum,
        },
        "repeat": len(timings),
        "seconds_median": round(median, 6),
        "seconds_max": round(worst, 6),
        "target_seconds": TARGET_SECONDS,
        "met": worst < TARGET_SECONDS,
        "assignments": len(plan.assignments),
        "sessions_short": len(plan.shortfalls),
        "short_sessions": [
            {
                "session_id": s.session_id,
                "week": s.teaching_week,
                "rostered": s.rostered,
                "reason": s.reason,
            }
            for s in plan.shortfalls
        ],
        "spread": {
            "leaders": spread.leaders,
            "min": spread.min,
            "max": spread.max,
            "mean": spread.mean,
            "per_leader": dict(spread.per_leader),
            "leaders_free_for_any_session": len(eligible),
        },
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")

    rows = [
        (
            "scheme",
            f"{len(request.leaders)} leaders, {len(request.sessions)} sessions "
            f"(3 a week x {result['scheme']['teaching_weeks']} teaching weeks), "
            f"{request.minimum} per session",
        ),
        (
            "generation time",
            f"median {median * 1000:.1f} ms, worst {worst * 1000:.1f} ms over {len(timings)} runs",
        ),
        ("target", f"< {TARGET_SECONDS:.0f} s: {'met' if result['met'] else 'NOT MET'}"),
        ("rostered", f"{len(plan.assignments)} leader-sessions"),
        ("short sessions", str(len(plan.shortfalls))),
        (
            "spread per leader",
            f"min {spread.min}, max {spread.max}, mean {spread.mean} over {spread.leaders} "
            f"leaders ({len(eligible)} free for at least one session)",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"{'rota benchmark':<{width}} | result")
    print(f"{'-' * width}-+-{'-' * 60}")
    for key, value in rows:
        print(f"{key:<{width}} | {value}")
    print(f"\nwritten to {args.output}")
    return result


if __name__ == "__main__":
    main()
