"""Evaluation reports benchmark: replay and report over a large generated year.

`python -m bench.reports` starts its own PostgreSQL (the embedded server of
`passhub_shared.dev.devservers`) in a temporary directory, or uses `--database-url`; generates a
year of 30,000 students on 100 modules (3 modules each), 50 schemes of two modules with 24
sessions each, and 300,000 student sign-ins; and measures:

1. replay: the sign-ins are written straight into the attendance log (COPY, no projection),
   the enrolments and results are imported as a coordinator would (CSV through the import
   code, 90,000 rows each), then `replay.rebuild` builds the projections from the log: with
   no projection at all (what reading the log back costs), with the evaluation's projections
   alone, and with every projection of the attendance service; events/s of the log replayed,
   and the seconds each projection's `apply` took;
2. report: `outcome_report` for the whole year (every module and scheme and all modules
   pooled: group figures, Welch's t-tests, Cohen's d, and the estimates adjusted for prior
   attainment, by regression and by matching) after the replay, best and median of several
   runs; of that, the adjusted estimates alone; one scheme's report; and the CSV and PNG
   renderings of the whole-year report.

Results go to `bench/results/reports.json`; a table is printed. `--profile` adds the top
functions of a profiled replay of the evaluation's projections. `--plain` also loads the same
year into a second database with personal fields not sealed (on the same server: it needs the
right to create a database) and runs each replay of the evaluation's projections right next to
one over that plain log, the order swapped each time: the ratio of the two, pair by pair, is
what opening the sealed fields costs a replay.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import numpy as np
from sqlalchemy import Table, make_url, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bench.common import asyncpg_dsn, database, machine_load
from passhub_attendance.evaluation import render
from passhub_attendance.evaluation.importing import import_enrolments, import_results
from passhub_attendance.evaluation.projections import evaluation_projections
from passhub_attendance.evaluation.queries import load_modules, outcome_report
from passhub_attendance.evaluation.report import ADJUSTED, adjust
from passhub_attendance.evaluation.settings import EvaluationSettings
from passhub_attendance.evaluation.stats import Cohort
from passhub_attendance.service import service
from passhub_shared.contracts.attendance import StudentSignedIn
from passhub_shared.contracts.sessions import SchemeLaunched, SessionScheduled
from passhub_shared.messages.events import Event, Metadata, Recorded, new_event_id
from passhub_shared.operations import loop
from passhub_shared.operations.replay import ReplayReport, projection_tables, rebuild
from passhub_shared.operations.secretkeys import generate_secret
from passhub_shared.operations.service import Runtime
from passhub_shared.operations.settings import Settings
from passhub_shared.storage.projections import Projection, Rebuild
from passhub_shared.storage.store import EventStore

RESULTS = Path(__file__).parent / "results"
YEAR = "2026-27"
# the personal fields' keys of the service run here (required, no default)
for _name in ("PASSHUB_PRIVACY_MASTER_KEY", "PASSHUB_STREAM_KEY"):
    os.environ.setdefault(_name, generate_secret())
START = datetime(2026, 9, 28, 12, 0, tzinfo=UTC)
T = TypeVar("T")


def scheme_id(k: int) -> str:
    return f"{YEAR}-S{k:03d}"


def module_name(m: int) -> str:
    return f"MOD{m:03d}"


class Year:
    """The generated year: CSV files of enrolments and results, and the sign-ins."""

    def __init__(self, students: int, modules: int, attendances: int, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.schemes = modules // 2
        self.sessions_per_scheme = 24
        enrol = ["student_number,module,academic_year,prior_attainment"]
        results = ["student_number,module,academic_year,mark,grade,passed,withdrawn"]
        pairs: dict[tuple[int, int], int] = {}
        for s in range(students):
            number = 2_000_000 + s
            for m in sorted(rng.choice(modules, size=3, replace=False).tolist()):
                enrol.append(f"{number},{module_name(m)},{YEAR},{rng.normal(120, 20):.0f}")
                pairs.setdefault((number, m // 2), 0)
                if rng.random() < 0.04:
                    results.append(f"{number},{module_name(m)},{YEAR},,,,yes")
                elif m % 5 == 4:
                    results.append(
                        f"{number},{module_name(m)},{YEAR},,{rng.choice(list('ABCDF'))},,"
                    )
                else:
                    results.append(f"{number},{module_name(m)},{YEAR},{rng.uniform(10, 95):.1f},,,")
        self.enrolments = ("\n".join(enrol) + "\n").encode()
        self.results = ("\n".join(results) + "\n").encode()
        # Sign-ins: participating (student, scheme) pairs attend distinct sessions until the
        # wanted number of attendances is reached.
        keys = list(pairs)
        order = rng.permutation(len(keys))
        signins: list[tuple[str, int, int]] = []
        for i in order:
            if len(signins) >= attendances:
                break
            number, k = keys[i]
            n = int(min(self.sessions_per_scheme, rng.geometric(0.14)))
            for j in rng.choice(self.sessions_per_scheme, size=n, replace=False).tolist():
                signins.append((f"{k:03d}-{j:02d}", k, number))
        self.signins = signins[:attendances]
        self.students, self.modules = students, modules


class Timed(Projection):
    """A projection that adds up the time its `apply`, or its rebuild's `fold` and `write`,
    take."""

    def __init__(self, inner: Projection) -> None:
        self.inner = inner
        self.name = inner.name
        self.tables = inner.tables
        self.handles = inner.handles
        self.seconds = 0.0

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        started = time.perf_counter()
        await self.inner.apply(conn, events)
        self.seconds += time.perf_counter() - started

    def rebuild(self) -> Rebuild | None:
        inner = self.inner.rebuild()
        return None if inner is None else TimedRebuild(self, inner)


class TimedRebuild(Rebuild):
    def __init__(self, owner: Timed, inner: Rebuild) -> None:
        self.owner, self.inner = owner, inner

    def fold(self, events: Sequence[Recorded]) -> None:
        started = time.perf_counter()
        self.inner.fold(events)
        self.owner.seconds += time.perf_counter() - started

    @property
    def size(self) -> int:
        return self.inner.size

    async def write(self, conn: AsyncConnection) -> None:
        started = time.perf_counter()
        await self.inner.write(conn)
        self.owner.seconds += time.perf_counter() - started


@dataclass
class Replayed:
    report: ReplayReport
    #: seconds each projection's `apply`, or its rebuild's fold and write, took
    projections: dict[str, float]
    #: CPU seconds of this process (not PostgreSQL's) over the replay
    cpu_seconds: float = 0.0


async def replayed(
    runtime: Runtime, projections: Sequence[Projection], *, commit: bool
) -> Replayed:
    timed = [Timed(p) for p in projections]
    # the service's key table: the replay opens every sealed field, as the service's own does
    store = EventStore("attendance", timed, runtime.store.privacy)
    cpu = time.process_time()
    report = await rebuild(runtime.engine, store, commit=commit)
    cpu = time.process_time() - cpu
    return Replayed(report, {p.name: p.seconds for p in timed}, cpu)


def summary(runs: Sequence[Replayed]) -> dict[str, Any]:
    """The median run (by time) in full, and every run's time."""
    ordered = sorted(runs, key=lambda r: r.report.seconds)
    median = ordered[(len(ordered) - 1) // 2]
    return {
        "events": median.report.events,
        "seconds": median.report.seconds,
        "events_per_s": median.report.rate,
        "runs_seconds": [r.report.seconds for r in runs],
        "best_events_per_s": ordered[0].report.rate,
        "phases_seconds": median.report.phases,
        "apply_seconds": median.projections,
    }


async def write_floor(runtime: Runtime, tables: Sequence[Table]) -> dict[str, Any]:
    """What PostgreSQL alone takes to write the replayed tables' final rows: each table's rows
    copied server-side (no client, no folding) into an empty table of the same shape, both with
    its indexes in place and with its indexes built after the load; the faster of the two per
    table. No replay can write these tables faster on this server, whatever its client does."""
    per_table: dict[str, float] = {}
    async with runtime.engine.connect() as conn:
        for table in tables:
            name, copy = table.name, f"floor_{table.name}"
            rows = await conn.execute(
                text("SELECT indexdef FROM pg_indexes WHERE tablename = :t"), {"t": name}
            )
            index_defs = [
                r.indexdef.replace(f" ON public.{name} ", f" ON public.{copy} ", 1).replace(
                    "INDEX ", "INDEX floor_", 1
                )
                for r in rows
            ]
            await conn.exec_driver_sql(f"CREATE TABLE {copy} (LIKE {name} INCLUDING ALL)")
            await conn.commit()
            started = time.perf_counter()
            await conn.exec_driver_sql(f"INSERT INTO {copy} SELECT * FROM {name}")
            await conn.commit()
            indexed = time.perf_counter() - started
            await conn.exec_driver_sql(f"DROP TABLE {copy}")
            await conn.exec_driver_sql(f"CREATE TABLE {copy} (LIKE {name})")
            await conn.commit()
            started = time.perf_counter()
            await conn.exec_driver_sql(f"INSERT INTO {copy} SELECT * FROM {name}")
            for definition in index_defs:
                await conn.exec_driver_sql(definition)
            await conn.commit()
            per_table[name] = min(indexed, time.perf_counter() - started)
            await conn.exec_driver_sql(f"DROP TABLE {copy}")
            await conn.commit()
    return {"seconds": sum(per_table.values()), "per_table_seconds": per_table}


def modules_of(k: int) -> list[str]:
    return [module_name(2 * k), module_name(2 * k + 1)]


async def load(runtime: Runtime, year: Year, dsn: str) -> dict[str, float]:
    timings: dict[str, float] = {}
    started = time.perf_counter()
    sessions_events: list[Recorded] = []
    for k in range(year.schemes):
        events: list[Event] = [
            SchemeLaunched(
                scheme_id=scheme_id(k),
                code=f"S{k:03d}",
                title=f"Scheme {k:03d}",
                school="bench",
                academic_year=YEAR,
                modules=modules_of(k),
            )
        ]
        for j in range(year.sessions_per_scheme):
            at = START + timedelta(weeks=j)
            events.append(
                SessionScheduled(
                    session_id=f"{k:03d}-{j:02d}",
                    scheme_id=scheme_id(k),
                    starts_at=at,
                    ends_at=at + timedelta(hours=1),
                    room="R1",
                    capacity=300,
                )
            )
        for event in events:
            sessions_events.append(
                Recorded(
                    id=new_event_id(),
                    stream_id=f"bench-{getattr(event, 'session_id', scheme_id(k))}",
                    stream_version=1,
                    type=event.type_name(),
                    origin="sessions",
                    data=event.model_dump(mode="json"),
                    occurred_at=START,
                )
            )
    async with runtime.transaction() as conn:
        await runtime.store.record(conn, sessions_events)

    # The sign-ins go straight into the log: building their projections is the replay's job.
    # They are sealed as the store seals them (each student's number under their own key), so
    # that the log is the one the service would have written.
    versions: dict[str, int] = {}
    plain = []
    kind = StudentSignedIn.type_name()
    for session, k, number in year.signins:
        stream = f"attendance-{session}"
        versions[stream] = versions.get(stream, 0) + 1
        data = {
            "session_id": session,
            "scheme_id": scheme_id(k),
            "modules": modules_of(k),
            "student_number": str(number),
            "signed_in_at": START.isoformat(),
            "method": "qr",
        }
        plain.append(
            Recorded(new_event_id(), stream, versions[stream], kind, "attendance", data, START)
        )
    written = plain
    if runtime.store.privacy is not None:  # (`--plain`'s log keeps them as they are)
        async with runtime.transaction() as conn:
            written, _ = await runtime.store.privacy.seal(conn, plain, large=True)
    records = [
        (e.id, e.stream_id, e.stream_version, e.type, e.origin, json.dumps(e.data), START)
        for e in written
    ]
    conn = await asyncpg.connect(asyncpg_dsn(dsn))
    try:
        await conn.copy_records_to_table(
            "events",
            records=records,
            columns=["id", "stream_id", "stream_version", "type", "origin", "data", "occurred_at"],
        )
    finally:
        await conn.close()
    timings["load_signins_s"] = time.perf_counter() - started

    settings = EvaluationSettings()
    started = time.perf_counter()
    async with runtime.transaction() as conn:
        await import_enrolments(
            conn,
            runtime.store,
            year.enrolments,
            settings,
            Metadata(actor="bench"),
            import_id="bench-enrolments",
            prior_measure="entry tariff",
        )
        await import_results(
            conn,
            runtime.store,
            year.results,
            settings,
            Metadata(actor="bench"),
            import_id="bench-results",
        )
    timings["import_csv_s"] = time.perf_counter() - started
    return timings


#: CPU seconds of this process per run of the last `timed` work: the report's own computing,
#: which the load of other processes on the machine changes much less than the wall time
CPU_TIMES: list[float] = []


async def timed(work: Callable[[], Awaitable[T]], runs: int) -> tuple[T, list[float]]:
    times, result = [], None
    CPU_TIMES.clear()
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        result = await work()
        times.append(time.perf_counter() - started)
        CPU_TIMES.append(time.process_time() - cpu)
    assert result is not None
    return result, times


async def plain_runtime(dsn: str, year: Year) -> Runtime:
    """The same year in a second database on the same server, personal fields not sealed."""
    name = "reports_plain"
    conn = await asyncpg.connect(asyncpg_dsn(dsn))
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name}")
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()
    url = make_url(dsn).set(database=name).render_as_string(hide_password=False)
    runtime = Runtime(
        service, Settings(database_url=url, log_json=False, jwt_secret=generate_secret())
    )
    await runtime.migrate()
    runtime.store.privacy = None
    await load(runtime, year, url)
    return runtime


def pair_ratios(sealed: Sequence[Replayed], plain: Sequence[Replayed]) -> dict[str, Any]:
    """Sealed over plain, replay by replay (each pair run one right after the other)."""
    pairs = [s.report.seconds / p.report.seconds for s, p in zip(sealed, plain, strict=True)]
    cpu = [s.cpu_seconds / p.cpu_seconds for s, p in zip(sealed, plain, strict=True)]
    return {
        "median": statistics.median(pairs),
        "pairs": [round(r, 3) for r in pairs],
        # this process's CPU, sealed / plain (PostgreSQL's is not counted here)
        "cpu_median": statistics.median(cpu),
        "cpu_pairs": [round(r, 3) for r in cpu],
        "plain": summary(plain),
    }


async def run(args: argparse.Namespace, dsn: str) -> dict[str, Any]:
    runtime = Runtime(
        service, Settings(database_url=dsn, log_json=False, jwt_secret=generate_secret())
    )
    await runtime.migrate()
    print(
        f"generating {args.students:,} students, {args.modules} modules, "
        f"{args.attendances:,} sign-ins ...",
        flush=True,
    )
    year = Year(args.students, args.modules, args.attendances)
    timings = await load(runtime, year, dsn)
    plain = await plain_runtime(dsn, year) if args.plain else None
    async with runtime.engine.connect() as conn:
        events = await runtime.store.count(conn)
    print(f"log: {events:,} events; replaying ...", flush=True)

    # Each replay is run --replays times, in turn, and its median run is the figure: the
    # speed of this machine drifts by a third from one minute to the next.
    profile_text = ""
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        await rebuild(
            runtime.engine,
            EventStore("attendance", evaluation_projections(), runtime.store.privacy),
            commit=False,
        )
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
        profile_text = out.getvalue()
    floors: list[Replayed] = []
    owns: list[Replayed] = []
    plain_owns: list[Replayed] = []
    wholes: list[Replayed] = []
    for k in range(args.replays):
        # the floor: the kit reading the log back with no projection to apply
        floors.append(await replayed(runtime, [], commit=False))
        if plain is not None and k % 2 == 1:
            plain_owns.append(await replayed(plain, evaluation_projections(), commit=True))
        owns.append(await replayed(runtime, evaluation_projections(), commit=True))
        if plain is not None and k % 2 == 0:
            plain_owns.append(await replayed(plain, evaluation_projections(), commit=True))
        wholes.append(await replayed(runtime, service.projections, commit=True))
    if plain is not None:
        await plain.engine.dispose()
    check: ReplayReport = await rebuild(runtime.engine, runtime.store, commit=False)
    own_floor = await write_floor(runtime, projection_tables(evaluation_projections()))
    whole_floor = await write_floor(runtime, projection_tables(service.projections))

    settings = EvaluationSettings()

    async def whole_year() -> Any:
        async with runtime.engine.connect() as conn:
            return await outcome_report(conn, YEAR, settings)

    async def one_scheme() -> Any:
        async with runtime.engine.connect() as conn:
            return await outcome_report(conn, YEAR, settings, scheme=scheme_id(0))

    report, year_times = await timed(whole_year, args.runs)
    year_cpu = list(CPU_TIMES)
    _, scheme_times = await timed(one_scheme, args.runs)
    # the adjusted estimates alone, as the whole-year report computes them (each module, each
    # scheme with one intercept per module, all modules together)
    async with runtime.engine.connect() as conn:
        data = await load_modules(conn, YEAR, None, settings.rules())
    groups = settings.groups()
    by_key = {g.key: g for g in groups}
    pooled: list[tuple[Cohort, Any]] = [(d.cohort, None) for d in data.values()]
    for k in range(year.schemes):
        own = [data[m] for m in modules_of(k) if m in data]
        strata = np.repeat(np.arange(len(own)), [len(d.cohort) for d in own])
        pooled.append((Cohort.concat([d.cohort for d in own]), strata))
    every = list(data.values())
    pooled.append(
        (
            Cohort.concat([d.cohort for d in every]),
            np.repeat(np.arange(len(every)), [len(d.cohort) for d in every]),
        )
    )

    async def adjusted_only() -> Any:
        return [
            adjust(c, by_key[a], by_key[b], settings, c.measure, strata)
            for c, strata in pooled
            for a, b in ADJUSTED
        ]

    _, adjusted_times = await timed(adjusted_only, args.runs)
    assert report.overall is not None
    overall = report.overall.adjusted[0]
    started = time.perf_counter()
    csv_bytes = render.outcomes_csv(report)
    csv_s = time.perf_counter() - started
    started = time.perf_counter()
    png = render.outcomes_chart(report, "png")
    png_s = time.perf_counter() - started
    await runtime.engine.dispose()

    enrolled = sum(m.enrolled for m in report.modules)
    participants = sum(m.participants for m in report.modules)
    return {
        "params": {
            "students": args.students,
            "modules": args.modules,
            "schemes": year.schemes,
            "sessions": year.schemes * year.sessions_per_scheme,
            "attendances": len(year.signins),
            "enrolments": enrolled,
            "participating_enrolments": participants,
            "log_events": events,
        },
        "load": timings,
        "replay_no_projections": summary(floors),
        "replay_evaluation_only": {
            **summary(owns),
            "write_floor": own_floor,
            # with --plain: the same replays over the same year's log, personal fields not
            # sealed, each run next to one of these; time sealed / time plain, pair by pair
            "sealed_over_plain": pair_ratios(owns, plain_owns) if plain_owns else None,
        },
        "replay_whole_service": {
            **summary(wholes),
            "identical_on_check": check.identical,
            "differing_on_check": sorted(
                t for t in check.before if check.before[t] != check.after.get(t)
            ),
            "write_floor": whole_floor,
        },
        "report_whole_year_s": {
            "best": min(year_times),
            "median": statistics.median(year_times),
            "runs": year_times,
            "cpu_of_this_process": {"best": min(year_cpu), "median": statistics.median(year_cpu)},
        },
        "report_one_scheme_s": {
            "best": min(scheme_times),
            "median": statistics.median(scheme_times),
        },
        "adjusted_estimates_s": {
            "best": min(adjusted_times),
            "median": statistics.median(adjusted_times),
            "comparisons": len(pooled) * len(ADJUSTED),
        },
        "overall_adjusted": {
            "status": overall.status,
            "note": overall.note,
            "regression": (
                overall.outcome.regression.estimate
                if overall.outcome and overall.outcome.regression
                else None
            ),
            "matching": (
                overall.outcome.matching.estimate
                if overall.outcome and overall.outcome.matching
                else None
            ),
        },
        "render_csv_s": csv_s,
        "render_csv_bytes": len(csv_bytes),
        "render_png_s": png_s,
        "render_png_bytes": len(png),
        "profile": profile_text,
    }


def print_table(result: dict[str, Any]) -> None:
    p = result["params"]
    rows = [
        ("students / modules / schemes", f"{p['students']:,} / {p['modules']} / {p['schemes']}"),
        ("sign-ins / enrolments", f"{p['attendances']:,} / {p['enrolments']:,}"),
        ("events in the log", f"{p['log_events']:,}"),
        ("import 2 CSVs (enrolments, results)", f"{result['load']['import_csv_s']:.2f} s"),
    ]
    for key, label in (
        ("replay_no_projections", "replay, no projection: reading the log (median)"),
        ("replay_evaluation_only", "replay, evaluation projections (median)"),
        ("replay_whole_service", "replay, whole attendance service (median)"),
    ):
        r = result[key]
        rows.append((label, f"{r['seconds']:.2f} s  {r['events_per_s']:,.0f} events/s"))
        runs = ", ".join(f"{x:.2f}" for x in r["runs_seconds"])
        rows.append(("  runs (s); the best", f"{runs}; {r['best_events_per_s']:,.0f} events/s"))
        for name, seconds in r["phases_seconds"].items():
            rows.append((f"  phase: {name}", f"{seconds:.2f} s"))
        for name, seconds in r["apply_seconds"].items():
            rows.append((f"  of which {name}", f"{seconds:.2f} s"))
        if "write_floor" in r:
            floor_s = r["write_floor"]["seconds"]
            read_s = result["replay_no_projections"]["seconds"]
            rows.append(
                (
                    "  PostgreSQL alone writing its final rows",
                    f"{floor_s:.2f} s  (with reading the log: at most "
                    f"{r['events'] / max(floor_s, read_s):,.0f} events/s even if the two "
                    "overlapped fully)",
                )
            )
    ratio = result["replay_evaluation_only"]["sealed_over_plain"]
    if ratio is not None:
        plain_rate = ratio["plain"]["events_per_s"]
        rows.append(
            (
                "replay, evaluation projections, plain log (median)",
                f"{plain_rate:,.0f} events/s; sealed / plain time {ratio['median']:.3f} "
                f"(pairs {ratio['pairs']}); this process's CPU {ratio['cpu_median']:.3f} "
                f"(pairs {ratio['cpu_pairs']})",
            )
        )
    rows += [
        ("replay check identical", str(result["replay_whole_service"]["identical_on_check"])),
        (
            "report, whole year (best / median)",
            f"{result['report_whole_year_s']['best']:.3f} / "
            f"{result['report_whole_year_s']['median']:.3f} s",
        ),
        (
            "  CPU of this process, without PostgreSQL's (best / median)",
            f"{result['report_whole_year_s']['cpu_of_this_process']['best']:.3f} / "
            f"{result['report_whole_year_s']['cpu_of_this_process']['median']:.3f} s",
        ),
        (
            "  of which the adjusted estimates (best / median)",
            f"{result['adjusted_estimates_s']['best']:.3f} / "
            f"{result['adjusted_estimates_s']['median']:.3f} s "
            f"({result['adjusted_estimates_s']['comparisons']} comparisons, "
            "3 outcomes, regression and matching)",
        ),
        (
            "report, one scheme (best / median)",
            f"{result['report_one_scheme_s']['best']:.3f} / "
            f"{result['report_one_scheme_s']['median']:.3f} s",
        ),
        (
            "render CSV / PNG of the whole year",
            f"{result['render_csv_s']:.2f} / {result['render_png_s']:.2f} s",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30_000)
    parser.add_argument("--modules", type=int, default=100)
    parser.add_argument("--attendances", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5, help="report runs to time")
    parser.add_argument("--profile", action="store_true", help="profile a replay")
    parser.add_argument("--replays", type=int, default=3, help="runs of each replay")
    parser.add_argument(
        "--plain", action="store_true", help="replay a plain copy of the log beside the sealed"
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "reports.json")
    parser.add_argument(
        "--database-url", help="an empty database to use instead of an embedded server"
    )
    args = parser.parse_args()

    load_at_start = machine_load()
    with database(args.database_url, "reports") as dsn:
        result = loop.run(run(args, dsn))
    result["machine_load_at_start"] = load_at_start
    result["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "event_loop": loop.name(),
        "platform": platform.platform(),
    }
    result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["machine_load_at_end"] = machine_load()
    profile = result.pop("profile")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print_table(result)
    if profile:
        print(profile)


if __name__ == "__main__":
    main()
