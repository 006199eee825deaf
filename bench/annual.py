"""Annual report benchmark: the report of a year of 30,000 students and 300,000 attendances.

`python -m bench.annual` starts its own PostgreSQL (the embedded server of
`passhub_shared.dev.devservers`) in a temporary directory, or uses `--database-url`; generates the
year of `bench.reports` (30,000 students on 100 modules, 50 schemes of two modules with 24
sessions each, 300,000 sign-ins; enrolments and results imported as CSV), and adds what the
annual report reads besides: scheme modes (every other scheme opt-out), a cancelled session per
scheme, 20,000 feedback sheets, two leaders signing in at every session, 150 leaders appointed
and trained with their award decisions, two past years of imported attendance counts, and
6,000 graduate outcome records. The log is replayed (`replay.rebuild`, as `passhub replay
attendance` does) to build every projection, then, each `--runs` times:

- baseline: the evaluation's outcome report for the whole year (`outcome_report`), which the
  annual report carries per module, measured in the same run on the same database;
- the annual report as JSON (its facts read, the report built), for every scheme and for one;
- the annual report as PDF (the same, then five charts and the document drawn).

Then the log is replayed again and the report built anew: its JSON and PDF must be the same
bytes (the generation time is fixed here). Results go to `bench/results/annual.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import asyncpg
import numpy as np
import orjson

from bench.common import asyncpg_dsn, database
from bench.reports import START, YEAR, Year, modules_of, scheme_id
from passhub_attendance.annual.api import build, render_pdf
from passhub_attendance.annual.importing import import_graduate_outcomes
from passhub_attendance.evaluation.importing import (
    import_enrolments,
    import_history,
    import_results,
)
from passhub_attendance.evaluation.queries import outcome_report
from passhub_attendance.evaluation.settings import EvaluationSettings
from passhub_attendance.service import service
from passhub_shared.contracts.attendance import FeedbackSubmitted, LeaderSignedIn, StudentSignedIn
from passhub_shared.contracts.recognition import AwardGranted, AwardWithheld
from passhub_shared.contracts.recruitment import LeaderAppointed, TrainingCompleted
from passhub_shared.contracts.sessions import SchemeLaunched, SessionCancelled, SessionScheduled
from passhub_shared.messages.events import Event, Metadata, Recorded, new_event_id
from passhub_shared.operations import loop, replay
from passhub_shared.operations.secretkeys import generate_secret
from passhub_shared.operations.service import Runtime
from passhub_shared.operations.settings import Settings

RESULTS = Path(__file__).parent / "results"
PAST = ["2024-25", "2025-26"]
#: the report's time: after the year, so that every session has run
GENERATED_AT = datetime(2027, 7, 1, 9, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/London")
T = TypeVar("T")


def _recorded(event: Event, origin: str, stream: str) -> Recorded:
    return Recorded(
        id=new_event_id(),
        stream_id=stream,
        stream_version=1,
        type=event.type_name(),
        origin=origin,
        data=event.model_dump(mode="json"),
        occurred_at=START,
    )


def _csv(header: str, rows: list[str]) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


async def load(runtime: Runtime, year: Year, dsn: str, seed: int = 11) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    consumed: list[Recorded] = []
    for k in range(year.schemes):
        sid = scheme_id(k)
        consumed.append(
            _recorded(
                SchemeLaunched(
                    scheme_id=sid,
                    code=f"S{k:03d}",
                    title=f"Scheme {k:03d}",
                    school="bench",
                    academic_year=YEAR,
                    modules=modules_of(k),
                    mode="opt_out" if k % 2 else "opt_in",
                ),
                "sessions",
                f"scheme-{sid}",
            )
        )
        for j in range(year.sessions_per_scheme + 1):
            at = START + timedelta(weeks=j)
            session = f"{k:03d}-{j:02d}"
            consumed.append(
                _recorded(
                    SessionScheduled(
                        session_id=session,
                        scheme_id=sid,
                        starts_at=at,
                        ends_at=at + timedelta(hours=1),
                        room="R1",
                        capacity=300,
                        teaching_week=f"W{j + 1:02d}",
                    ),
                    "sessions",
                    f"session-{session}",
                )
            )
        # a 25th session each, cancelled
        last = f"{k:03d}-{year.sessions_per_scheme:02d}"
        consumed.append(
            _recorded(
                SessionCancelled(session_id=last, scheme_id=sid, reason="room"),
                "sessions",
                f"cancel-{last}",
            )
        )
    leaders = [f"L{i:04d}" for i in range(150)]
    for i, leader in enumerate(leaders):
        schemes = [scheme_id(i % year.schemes)]
        consumed.append(
            _recorded(
                LeaderAppointed(
                    student_number=leader,
                    name=f"Leader {i}",
                    email=f"l{i}@example.ac.uk",
                    academic_year=YEAR,
                    role="leader",
                    schemes=schemes,
                    appointed_on=date(2026, 6, 1),
                ),
                "recruitment",
                f"appointed-{leader}",
            )
        )
        consumed.append(
            _recorded(
                TrainingCompleted(
                    student_number=leader,
                    academic_year=YEAR,
                    training_id="core",
                    completed_on=date(2026, 9, 20),
                    hours=6,
                ),
                "recruitment",
                f"trained-{leader}",
            )
        )
        award: Event = (
            AwardGranted(
                award_id=f"a{i}",
                kind="certificate",
                student_number=leader,
                academic_year=YEAR,
                role="PASS Leader",
                schemes=schemes,
                sessions_delivered=20,
                hours=20.0,
                policy_version=1,
                verification_code=f"V{i:05d}",
            )
            if i % 10
            else AwardWithheld(
                kind="certificate",
                student_number=leader,
                academic_year=YEAR,
                unmet=["sessions"],
                policy_version=1,
            )
        )
        consumed.append(_recorded(award, "recognition", f"award-{leader}"))
    async with runtime.transaction() as conn:
        await runtime.store.record(conn, consumed)

    # the service's own events straight into the log (a replay builds their projections)
    records: list[tuple[Any, ...]] = []
    versions: dict[str, int] = {}

    def own(stream: str, event_type: str, data: dict[str, Any]) -> None:
        versions[stream] = versions.get(stream, 0) + 1
        records.append(
            (
                new_event_id(),
                stream,
                versions[stream],
                event_type,
                "attendance",
                json.dumps(data),
                START,
            )
        )

    signed = StudentSignedIn.type_name()
    for session, k, number in year.signins:
        own(
            f"attendance-{session}",
            signed,
            {
                "session_id": session,
                "scheme_id": scheme_id(k),
                "modules": modules_of(k),
                "student_number": str(number),
                "signed_in_at": START.isoformat(),
                "method": "qr",
            },
        )
    led = LeaderSignedIn.type_name()
    for k in range(year.schemes):
        for j in range(year.sessions_per_scheme):
            session = f"{k:03d}-{j:02d}"
            for leader in (leaders[k], leaders[k + year.schemes]):
                own(
                    f"attendance-{session}",
                    led,
                    {
                        "session_id": session,
                        "scheme_id": scheme_id(k),
                        "student_number": leader,
                        "signed_in_at": START.isoformat(),
                        "method": "leader",
                    },
                )
    sheet = FeedbackSubmitted.type_name()
    picks = rng.integers(0, len(year.signins), 20_000)
    scores = rng.choice([2, 3, 4, 5, 5], size=(20_000, 3))
    for n, (i, s) in enumerate(zip(picks.tolist(), scores.tolist(), strict=True)):
        session, k, _ = year.signins[i]
        own(
            f"feedback-fb{n}",
            sheet,
            {
                "feedback_id": f"fb{n}",
                "session_id": session,
                "scheme_id": scheme_id(k),
                "student_number": None,
                "understanding": s[0],
                "enjoyable": s[1],
                "recommend": s[2],
                "comment": "helpful" if n % 50 == 0 else "",
            },
        )
    conn = await asyncpg.connect(asyncpg_dsn(dsn))
    try:
        await conn.copy_records_to_table(
            "events",
            records=records,
            columns=["id", "stream_id", "stream_version", "type", "origin", "data", "occurred_at"],
        )
    finally:
        await conn.close()

    settings = EvaluationSettings()
    meta = Metadata(actor="bench")
    past = [
        f"{2_000_000 + s},{f'MOD{m:03d}'},{y},{int(rng.geometric(0.3))}"
        for y in PAST
        for s in rng.choice(year.students, 12_000, replace=False).tolist()
        for m in [int(rng.integers(0, year.modules))]
    ]
    categories = ["Full-time employment", "Further study", "Unemployed", "Other"]
    outcomes = rng.choice(categories, size=6_000, p=[0.6, 0.25, 0.1, 0.05]).tolist()
    graduates = [
        f"{2_000_000 + s},{YEAR},{outcome}"
        for s, outcome in zip(
            rng.choice(year.students, 6_000, replace=False).tolist(), outcomes, strict=True
        )
    ] + [f"{leader},{YEAR},Full-time employment" for leader in leaders[:120]]
    async with runtime.transaction() as conn:
        await import_enrolments(
            conn,
            runtime.store,
            year.enrolments,
            settings,
            meta,
            import_id="bench-enrolments",
            prior_measure="entry tariff",
        )
        await import_results(
            conn, runtime.store, year.results, settings, meta, import_id="bench-results"
        )
        await import_history(
            conn,
            runtime.store,
            _csv("student_number,module,academic_year,sessions_attended", past),
            settings,
            meta,
            import_id="bench-history",
        )
        await import_graduate_outcomes(
            conn,
            runtime.store,
            _csv("student_number,academic_year,outcome", graduates),
            meta,
            import_id="bench-graduates",
            rows_per_event=5000,
        )
    return {
        "load_s": time.perf_counter() - started,
        "own_events": len(records),
        "consumed_events": len(consumed),
        "past_attendance_rows": len(past),
        "graduate_rows": len(graduates),
    }


async def timed(work: Callable[[], Awaitable[T]], runs: int) -> tuple[T, dict[str, Any]]:
    times, cpu, result = [], [], None
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = await work()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    assert result is not None
    return result, {
        "best": min(times),
        "median": statistics.median(times),
        "runs": times,
        "cpu_median": statistics.median(cpu),
    }


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
    print(f"generating {args.students:,} students, {args.attendances:,} sign-ins ...", flush=True)
    year = Year(args.students, args.modules, args.attendances)
    loaded = await load(runtime, year, dsn)
    started = time.perf_counter()
    rebuilt = await replay.rebuild(runtime.engine, runtime.store, commit=True)
    replay_s = time.perf_counter() - started
    print(f"log replayed: {rebuilt.events:,} events in {replay_s:.1f} s; timing ...", flush=True)
    settings = EvaluationSettings()

    async def baseline() -> Any:
        async with runtime.engine.connect() as conn:
            return await outcome_report(conn, YEAR, settings)

    async def institution_json() -> bytes:
        report = await build(runtime, TZ, YEAR, None, "coordinator", GENERATED_AT)
        return orjson.dumps(report)

    async def institution_pdf() -> bytes:
        report = await build(runtime, TZ, YEAR, None, "coordinator", GENERATED_AT)
        return render_pdf(report)

    async def scheme_pdf() -> bytes:
        report = await build(runtime, TZ, YEAR, "S001", "coordinator", GENERATED_AT)
        return render_pdf(report)

    _, base = await timed(baseline, args.runs)
    json_bytes, json_t = await timed(institution_json, args.runs)
    pdf_bytes, pdf_t = await timed(institution_pdf, args.runs)
    _, scheme_t = await timed(scheme_pdf, args.runs)
    report = orjson.loads(json_bytes)

    # a replay gives back the same report, byte for byte (the generation time is fixed here)
    again = await replay.rebuild(runtime.engine, runtime.store, commit=True)
    same_json = await institution_json() == json_bytes
    same_pdf = await institution_pdf() == pdf_bytes
    await runtime.engine.dispose()
    return {
        "pdf": pdf_bytes,
        "params": {
            "students": args.students,
            "attendances": len(year.signins),
            "schemes": year.schemes,
            "sessions": year.schemes * (year.sessions_per_scheme + 1),
            "log_events": rebuilt.events,
            **loaded,
        },
        "replay_s": replay_s,
        "baseline_outcome_report_s": base,
        "annual_json_s": json_t,
        "annual_pdf_s": pdf_t,
        "annual_pdf_one_scheme_s": scheme_t,
        "annual_pdf_bytes": len(pdf_bytes),
        "annual_json_bytes": len(json_bytes),
        "pdf_over_baseline_median": pdf_t["median"] / base["median"],
        "under_5_s": pdf_t["median"] < 5.0,
        "replay_identical_tables": again.identical,
        "replay_same_json": same_json,
        "replay_same_pdf": same_pdf,
        "report_says": {
            "participants": report["participants"],
            "sessions_run": report["sessions"]["run"],
            "sessions_cancelled": report["sessions"]["cancelled"],
            "survey": {i["item"]: i["percent_agree"] for i in report["survey"]["items"]},
            "leaders": {
                k: report["leaders"][k] for k in ("appointed", "trained", "sessions_delivered")
            },
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30_000)
    parser.add_argument("--modules", type=int, default=100)
    parser.add_argument("--attendances", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep-pdf", help="write the whole-year PDF here")
    parser.add_argument("--database-url", help="an empty database instead of an embedded one")
    args = parser.parse_args()
    with database(args.database_url, "annual") as dsn:
        result = loop.run(run(args, dsn))
    result["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "event_loop": loop.name(),
        "platform": platform.platform(),
    }
    result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    pdf = result.pop("pdf")
    if args.keep_pdf:
        Path(args.keep_pdf).write_bytes(pdf)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "annual.json").write_text(json.dumps(result, indent=2) + "\n")
    for key in (
        "baseline_outcome_report_s",
        "annual_json_s",
        "annual_pdf_s",
        "annual_pdf_one_scheme_s",
    ):
        r = result[key]
        print(f"{key:<30} median {r['median']:.2f} s  best {r['best']:.2f} s")
    print(
        f"PDF / baseline: {result['pdf_over_baseline_median']:.2f}x; under 5 s: "
        f"{result['under_5_s']}; replay same JSON/PDF: {result['replay_same_json']}/"
        f"{result['replay_same_pdf']}"
    )


if __name__ == "__main__":
    main()
