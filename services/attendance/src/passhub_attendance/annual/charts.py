"""The annual report's charts, as PNG: attendance per week, survey agreement, participants by
year, opt-in against opt-out, and leaders' graduate outcomes against the cohort's.

matplotlib's object API on the Agg backend (no pyplot, safe in a worker thread), the
colour-blind-safe Okabe-Ito palette, every bar labelled with its figure so the chart reads
without colour. The same report always gives the same bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

from passhub_attendance.annual.commentary import pct
from passhub_attendance.evaluation.render import PALETTE

WIDTH, HEIGHT, DPI = 7.0, 2.9, 100


def _png(fig: Figure) -> bytes:
    """Drawn once, with fixed margins (a "tight" bounding box would draw the figure twice)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _figure(
    height: float = HEIGHT, left: float = 0.09, bottom: float = 0.16, right: float = 0.97
) -> tuple[Figure, Any]:
    fig = Figure(figsize=(WIDTH, height))
    fig.subplots_adjust(left=left, right=right, bottom=bottom, top=0.88)
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def weekly(report: dict[str, Any]) -> bytes | None:
    weeks = report["sessions"]["per_week"]
    if not weeks:
        return None
    fig, ax = _figure(3.1, bottom=0.22)
    x = range(len(weeks))
    bars = ax.bar(x, [w["attendances"] for w in weeks], color=PALETTE[2])
    many = len(weeks) > 12
    ax.bar_label(
        bars,
        [str(w["attendances"]) for w in weeks],
        fontsize=6 if many else 7,
        padding=2,
        rotation=90 if many else 0,
    )
    ax.set_ylim(0, 1.3 * max(1, max(w["attendances"] for w in weeks)))
    ax.set_xticks(list(x), [w["week"] for w in weeks], rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("attendances")
    ax.set_title("Attendances per week (sessions that ran)", fontsize=10, loc="left")
    return _png(fig)


def survey(report: dict[str, Any]) -> bytes | None:
    items = report["survey"]["items"]
    if not report["survey"]["responses"]:
        return None
    fig, ax = _figure(2.2, left=0.47, bottom=0.22)
    labels = [i["statement"] for i in items][::-1]
    values = [i["percent_agree"] or 0 for i in items][::-1]
    bars = ax.barh(range(len(items)), values, color=PALETTE[3])
    ax.bar_label(
        bars,
        [
            "too few to show"
            if i["percent_agree"] is None
            else f"{pct(i['percent_agree'] / 100)} (n = {i['responses']})"
            for i in items
        ][::-1],
        fontsize=8,
        padding=2,
    )
    ax.set_yticks(range(len(items)), labels, fontsize=8)
    ax.set_xlim(0, 125)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel("% agreeing (4 or 5 of 5)")
    ax.set_title("Survey: students agreeing", fontsize=10, loc="left")
    return _png(fig)


def participants(report: dict[str, Any]) -> bytes | None:
    rows = [r for r in report["trend"] if r["participants"] is not None]
    if not rows:
        return None
    fig, ax = _figure(3.1, bottom=0.24, right=0.88)
    x = list(range(len(rows)))
    w = 0.4
    unique = ax.bar(
        [i - w / 2 for i in x],
        [r["participants"] for r in rows],
        w,
        color=PALETTE[2],
        label="participants",
    )
    new = ax.bar(
        [i + w / 2 for i in x],
        [r["new_participants"] or 0 for r in rows],
        w,
        color=PALETTE[1],
        label="new that year",
    )
    ax.bar_label(unique, fontsize=7, padding=1)
    ax.bar_label(new, fontsize=7, padding=1)
    ax.set_xticks(x, [r["academic_year"] for r in rows], fontsize=8)
    ax.set_ylabel("students")
    twin = ax.twinx()
    twin.plot(
        x,
        [r["cumulative_participants"] for r in rows],
        color=PALETTE[6],
        marker="o",
        label="cumulative since the first year",
    )
    twin.set_ylim(bottom=0)
    twin.spines[["top"]].set_visible(False)
    twin.set_ylabel("cumulative")
    handles = [unique, new, *twin.get_lines()]
    ax.set_ylim(0, 1.18 * max(r["participants"] for r in rows))
    ax.legend(
        handles,
        [h.get_label() for h in handles],
        fontsize=7,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        ncols=3,
        frameon=False,
    )
    ax.set_title("Participants by year", fontsize=10, loc="left")
    return _png(fig)


def modes(report: dict[str, Any]) -> bytes | None:
    rows = [r for r in report["modes"]["by_year"] if r["participation_rate"] is not None]
    if not rows:
        return None
    years = sorted({r["academic_year"] for r in rows})
    fig, ax = _figure(bottom=0.1)
    w = 0.38
    for j, mode in enumerate(("opt_in", "opt_out")):
        by = {r["academic_year"]: r for r in rows if r["mode"] == mode}
        xs = [i + (j - 0.5) * w for i, y in enumerate(years) if y in by]
        vals = [100 * by[y]["participation_rate"] for y in years if y in by]
        if not xs:
            continue
        bars = ax.bar(
            xs,
            vals,
            w,
            color=PALETTE[1 + 2 * j],
            label="opt-out (timetabled)" if mode == "opt_out" else "opt-in",
        )
        ax.bar_label(
            bars,
            [
                f"{pct(by[y]['participation_rate'])}\n"
                f"{by[y]['attendances_per_enrolled']:.2f} per student"
                for y in years
                if y in by
            ],
            fontsize=7,
            padding=1,
        )
    ax.set_xticks(range(len(years)), years, fontsize=8)
    ax.set_ylim(0, 119)
    ax.set_ylabel("% of enrolled students who came")
    ax.legend(fontsize=7, frameon=False, loc="upper left", ncols=2)
    ax.set_title("Participation by scheme mode", fontsize=10, loc="left")
    return _png(fig)


def graduates(report: dict[str, Any]) -> bytes | None:
    g = report["graduate_outcomes"]
    if g is None:
        return None
    groups = [(k, g[k]) for k in ("leaders", "non_leaders", "cohort") if g[k]["rate"] is not None]
    if not groups:
        return None
    names = {"leaders": "PASS leaders", "non_leaders": "other graduates", "cohort": "all graduates"}
    fig, ax = _figure(2.2, left=0.17, bottom=0.22)
    y = list(range(len(groups)))[::-1]
    rates = [100 * v["rate"] for _, v in groups]
    err = [
        [100 * (v["rate"] - v["ci_low"]) for _, v in groups],
        [100 * (v["ci_high"] - v["rate"]) for _, v in groups],
    ]
    bars = ax.barh(
        y, rates, xerr=err, color=[PALETTE[2], PALETTE[0], PALETTE[5]][: len(groups)], capsize=3
    )
    ax.bar_label(
        bars, [f"{pct(v['rate'])} (n = {v['n']})" for _, v in groups], fontsize=8, padding=14
    )
    ax.set_yticks(y, [names[k] for k, _ in groups], fontsize=8)
    ax.set_xlim(0, 130)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xlabel(f"% {g['positive_label']} (95% interval)")
    ax.set_title(f"Graduate outcomes, graduates of {g['academic_year']}", fontsize=10, loc="left")
    return _png(fig)


CHARTS: dict[str, Callable[[dict[str, Any]], bytes | None]] = {
    "participants": participants,
    "weekly": weekly,
    "survey": survey,
    "modes": modes,
    "graduates": graduates,
}

ALT = {
    "participants": "Participants, new participants and the cumulative total by academic year",
    "weekly": "Attendances per week of the year",
    "survey": "Percentage of feedback sheets agreeing with each statement",
    "modes": "Participation rate of opt-in and opt-out schemes by year",
    "graduates": "Graduate outcome rates of PASS leaders and of all graduates",
}


def all_charts(report: dict[str, Any]) -> dict[str, bytes]:
    out = {}
    for name, draw in CHARTS.items():
        png = draw(report)
        if png is not None:
            out[name] = png
    return out
