"""The evaluation's outcome chart (`render.outcomes_chart`): render time, PNG and SVG.

`python -m bench.charts` builds a year's outcome report in memory (no database): `--modules`
modules (40 by default) of about 300 students each, some marked out of 100 and some graded
with letters only (so the left panel mixes marks and scaled grade points, as a real year does),
a few small modules whose groups are too small to show, and 20 schemes of two modules. It
then renders the chart `--runs` times per format and view, and reports the median and p95.

Baseline, in the same run on the same report: `outcomes_chart` as it was at `BASELINE`
(read from git history into a temporary module), rendered in turn with the current one (old,
new, old, new, ...) so that both see the same load. The current chart's figure is the
uncached render (`render.outcomes_chart_uncached`); a repeat of the same report from the
cache is reported beside it.

Results go to `bench/results/charts.json` and `bench/results/charts.md`. `--images DIR`
writes each version's PNG and SVG there, to compare by eye.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.common import machine_load
from passhub_attendance.evaluation import render
from passhub_attendance.evaluation.report import (
    ModuleData,
    OutcomeReport,
    SchemeInfo,
    build_outcome_report,
)
from passhub_attendance.evaluation.settings import EvaluationSettings
from passhub_attendance.evaluation.stats import Cohort, RawResult

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).parent.parent
RENDER_PATH = "services/attendance/src/passhub_attendance/evaluation/render.py"
#: the commit whose `outcomes_chart` is the baseline: the chart before it was made faster
BASELINE = "6263690"
YEAR = "2026-27"
GRADES = ["A", "A", "B", "B", "B", "C", "C", "D", "F"]


def build_report(modules: int, seed: int = 1) -> OutcomeReport:
    """A year of `modules` modules: 300 students or so each (every tenth module 12, so some of
    its groups are too small to show), every fifth graded with letters only, the rest marked
    out of 100 with prior attainment; 20 schemes of two modules each."""
    rng = random.Random(seed)
    settings = EvaluationSettings()
    rules = settings.rules()
    data: dict[str, ModuleData] = {}
    titles: dict[str, str] = {}
    for m in range(modules):
        name = f"MOD{m + 101:03d}"
        titles[name] = f"Module {m + 1} of the year's programme"
        size = 12 if m % 10 == 9 else rng.randint(220, 380)
        sessions = [
            0 if rng.random() < 0.55 else min(24, int(rng.expovariate(1 / 5)) + 1)
            for _ in range(size)
        ]
        prior: list[float | None] = []
        results: list[RawResult | None] = []
        for n in sessions:
            if rng.random() < 0.03:
                results.append(None)
                prior.append(None)
                continue
            ability = rng.gauss(0, 1)
            prior.append(None if rng.random() < 0.1 else 120 + 15 * ability)
            if m % 5 == 4:
                results.append(RawResult(grade=GRADES[rng.randrange(len(GRADES))]))
            else:
                mark = 55 + 12 * ability + 0.6 * min(n, 12) + rng.gauss(0, 8)
                results.append(RawResult(mark=max(0.0, min(100.0, round(mark)))))
        cohort = Cohort.build(sessions, results, prior, rules)
        data[name] = ModuleData(name, cohort, {"A-level points"})
    names = sorted(data)
    schemes = [
        SchemeInfo(
            f"{YEAR}-S{k:03d}",
            f"S{k:03d}",
            f"PASS scheme {k + 1}",
            YEAR,
            tuple(names[(2 * k + i) % len(names)] for i in range(2)),
        )
        for k in range(20)
    ]
    return build_outcome_report(YEAR, data, schemes, settings, titles=titles)


def baseline_module() -> ModuleType:
    """`render` as it was at `BASELINE`, imported from a temporary file."""
    source = subprocess.run(
        ["git", "show", f"{BASELINE}:{RENDER_PATH}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    with tempfile.TemporaryDirectory(prefix="charts-baseline-") as folder:
        path = Path(folder) / "render_baseline.py"
        path.write_bytes(source)
        spec = importlib.util.spec_from_file_location("render_baseline", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["render_baseline"] = module
        spec.loader.exec_module(module)
    return module


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(
    chart: Callable[[OutcomeReport, str, str], bytes], report: OutcomeReport, fmt: str, view: str
) -> tuple[float, bytes]:
    start = time.perf_counter()
    body = chart(report, fmt, view)
    return (time.perf_counter() - start) * 1000, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--modules", type=int, default=40)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--images", type=Path, help="write each version's charts here")
    args = parser.parse_args()

    report = build_report(args.modules)
    old = baseline_module()
    current: Callable[[OutcomeReport, str, str], bytes] = getattr(
        render, "outcomes_chart_uncached", render.outcomes_chart
    )
    load_before = machine_load()
    started = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for view in ("regular", "bands"):
        for fmt in ("png", "svg"):
            # one of each first, not timed: imports, font caches
            old.outcomes_chart(report, fmt, view)
            current(report, fmt, view)
            times: dict[str, list[float]] = {"old": [], "new": []}
            sizes: dict[str, int] = {}
            for _ in range(args.runs):
                for label, chart in (("old", old.outcomes_chart), ("new", current)):
                    ms, body = timed(chart, report, fmt, view)
                    times[label].append(ms)
                    sizes[label] = len(body)
                    if args.images:
                        args.images.mkdir(parents=True, exist_ok=True)
                        (args.images / f"outcomes-{view}-{label}.{fmt}").write_bytes(body)
            render.outcomes_chart(report, fmt, view)  # fills the cache
            cached = [timed(render.outcomes_chart, report, fmt, view)[0] for _ in range(5)]
            row = {
                "view": view,
                "format": fmt,
                "old_median_ms": statistics.median(times["old"]),
                "old_p95_ms": p95(times["old"]),
                "new_median_ms": statistics.median(times["new"]),
                "new_p95_ms": p95(times["new"]),
                "cached_median_ms": statistics.median(cached),
                "old_bytes": sizes["old"],
                "new_bytes": sizes["new"],
            }
            rows.append(row)
            print(
                f"{view:8} {fmt}: old median {row['old_median_ms']:7.1f} ms p95 "
                f"{row['old_p95_ms']:7.1f} | new median {row['new_median_ms']:7.1f} ms p95 "
                f"{row['new_p95_ms']:7.1f} | cached {row['cached_median_ms']:.2f} ms",
                flush=True,
            )
    load_after = machine_load()
    result = {
        "measured_at": started.isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "load_before": load_before,
        "load_after": load_after,
        "modules": args.modules,
        "rows_drawn": sum(1 for s in report.modules if s.enrolled),
        "runs": args.runs,
        "baseline": BASELINE,
        "results": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "charts.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "charts.md").write_text(markdown(result))


def markdown(result: dict[str, Any]) -> str:
    def load(x: dict[str, float | None]) -> str:
        value = x["loadavg_1m"]
        return "n/a" if value is None else f"{value:.1f}"

    lines = [
        "# The evaluation's outcome chart",
        "",
        f"`python -m bench.charts --modules {result['modules']} --runs {result['runs']}`, "
        f"measured {result['measured_at']} on {result['machine']['cpus']} CPUs, load average "
        f"{load(result['load_before'])} before and {load(result['load_after'])} after (other "
        "work shared the machine: every figure moves with it).",
        "",
        f"Report: {result['rows_drawn']} modules drawn (about 300 students each, a fifth graded "
        "with letters only, a tenth too small for some groups), built in memory. Each chart "
        f"rendered {result['runs']} times, old and new in turn. Views: `regular` (0 / "
        "occasional / regular, 3 groups), `bands` (0 and the SI template's bands, 4 groups).",
        "",
        f"Baseline (old): `outcomes_chart` at `{result['baseline']}`, in the same run. New: the "
        "uncached render; cached: the same report again, from the chart cache.",
        "",
        "| view | format | old median ms | old p95 ms | new median ms | new p95 ms | "
        "speed-up (median) | cached median ms | old KB | new KB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["results"]:
        lines.append(
            f"| {r['view']} | {r['format']} | {r['old_median_ms']:.0f} | {r['old_p95_ms']:.0f} "
            f"| {r['new_median_ms']:.0f} | {r['new_p95_ms']:.0f} "
            f"| {r['old_median_ms'] / r['new_median_ms']:.1f}x | {r['cached_median_ms']:.2f} "
            f"| {r['old_bytes'] / 1024:.0f} | {r['new_bytes'] / 1024:.0f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
