"""Reports as CSV and as charts (PNG, SVG).

Charts are drawn with matplotlib's object API on the Agg backend (no display, safe in a server
thread): one row per module, a bar per group, the group's size written on each bar, and
suppressed groups marked as such rather than drawn.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, tzinfo
from functools import lru_cache
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")

from matplotlib import rc_context
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.transforms import Bbox

from passhub_attendance.evaluation.adjusted import AdjustedComparison
from passhub_attendance.evaluation.groups import Group, chart_groups
from passhub_attendance.evaluation.report import (
    FeedbackReport,
    OutcomeReport,
    OutcomeSummary,
    TemplateReport,
    TrendReport,
    TrendRow,
)
from passhub_attendance.evaluation.stats import GroupFigures
from passhub_shared.web.csvsafe import write_csv

Format = Literal["json", "csv", "png", "svg"]
FORMATS: tuple[str, ...] = ("json", "csv", "png", "svg")
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "png": "image/png",
    "svg": "image/svg+xml",
}

# Colour-blind safe (Okabe-Ito), in group order: non-participants first.
PALETTE = ["#999999", "#E69F00", "#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]
#: the colour of a note standing in for a bar (group too small, too few results)
GREY_NOTE = "#777777"


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _csv(header: Sequence[str], rows: Iterable[dict[str, Any]]) -> bytes:
    """Every cell through the kit's `write_csv`: text a spreadsheet would take for a formula
    (a comment `=HYPERLINK(...)`, a title starting with `-`) is written as text."""
    return write_csv(header, rows, fmt=_fmt).encode("utf-8")


# --------------------------------------------------------------------------- outcomes CSV

OUTCOME_COLUMNS = [
    "academic_year",
    "scope",
    "id",
    "title",
    "enrolled",
    "with_result",
    "participants",
    "participation_rate",
    "measure",
    "prior_measure",
    "row",
    "group",
    "label",
    "min_sessions",
    "max_sessions",
    "suppressed",
    "count",
    "marks",
    "mean_mark",
    "sd_mark",
    "grade_points",
    "mean_grade_points",
    "sd_grade_points",
    "passed",
    "pass_rate",
    "dfw",
    "dfw_rate",
    "prior",
    "mean_prior",
    "versus",
    "difference",
    "ci_low",
    "ci_high",
    "p_value",
    "cohens_d",
    "pass_rate_difference",
    "pass_rate_p_value",
    "dfw_rate_difference",
    "dfw_rate_p_value",
    "prior_difference",
    "prior_p_value",
    "prior_cohens_d",
    "adjusted_status",
    "adjusted_note",
    "adjusted_n",
    "adjusted_difference",
    "adjusted_ci_low",
    "adjusted_ci_high",
    "adjusted_p_value",
    "adjusted_pass_rate_difference",
    "adjusted_pass_rate_ci_low",
    "adjusted_pass_rate_ci_high",
    "adjusted_pass_rate_p_value",
    "adjusted_dfw_rate_difference",
    "adjusted_dfw_rate_ci_low",
    "adjusted_dfw_rate_ci_high",
    "adjusted_dfw_rate_p_value",
    "matched_difference",
    "matched_ci_low",
    "matched_ci_high",
    "matched_p_value",
    "matched_pass_rate_difference",
    "matched_dfw_rate_difference",
    "prior_smd_before_matching",
    "prior_smd_after_matching",
]


def _adjusted_columns(a: AdjustedComparison | None) -> dict[str, Any]:
    """The comparison's adjusted estimates as CSV columns (`adjusted_`: regression;
    `matched_`: nearest-neighbour matching)."""
    if a is None:
        return {}
    row: dict[str, Any] = {"adjusted_status": a.status, "adjusted_note": a.note}
    for prefix, part in (
        ("adjusted", a.outcome),
        ("adjusted_pass_rate", a.pass_rate),
        ("adjusted_dfw_rate", a.dfw_rate),
    ):
        reg = part.regression if part is not None else None
        if reg is not None:
            if prefix == "adjusted":
                row["adjusted_n"] = reg.n
            row |= {
                f"{prefix}_difference": reg.estimate,
                f"{prefix}_ci_low": reg.ci_low,
                f"{prefix}_ci_high": reg.ci_high,
                f"{prefix}_p_value": reg.p_value,
            }
    match = a.outcome.matching if a.outcome is not None else None
    if match is not None:
        row |= {
            "matched_difference": match.estimate,
            "matched_ci_low": match.ci_low,
            "matched_ci_high": match.ci_high,
            "matched_p_value": match.p_value,
            "prior_smd_before_matching": match.smd_before,
            "prior_smd_after_matching": match.smd_after,
        }
    for key, part in (("pass_rate", a.pass_rate), ("dfw_rate", a.dfw_rate)):
        if part is not None and part.matching is not None:
            row[f"matched_{key}_difference"] = part.matching.estimate
    return row


def _outcome_rows(report: OutcomeReport, summary: OutcomeSummary) -> Iterable[dict[str, Any]]:
    head = {
        "academic_year": report.academic_year,
        "scope": summary.scope,
        "id": summary.id,
        "title": summary.title,
        "enrolled": summary.enrolled,
        "with_result": summary.with_result,
        "participants": summary.participants,
        "participation_rate": summary.participation_rate,
        "measure": summary.measure,
        "prior_measure": summary.prior_measure,
    }
    for g in summary.groups:
        fig = asdict(g)
        fig["group"] = fig.pop("key")
        yield {**head, "row": "group", **fig}
    adjusted = {(a.group_a, a.group_b): a for a in summary.adjusted}
    for c in summary.comparisons:
        row: dict[str, Any] = {
            **head,
            "row": "comparison",
            "group": c.group_a,
            "versus": c.group_b,
            "suppressed": c.suppressed,
        }
        if c.outcome is not None:
            row |= {
                "difference": c.outcome.difference,
                "ci_low": c.outcome.ci_low,
                "ci_high": c.outcome.ci_high,
                "p_value": c.outcome.p_value,
                "cohens_d": c.outcome.cohens_d,
            }
        if c.pass_rate is not None:
            row |= {
                "pass_rate_difference": c.pass_rate.difference,
                "pass_rate_p_value": c.pass_rate.p_value,
            }
        if c.dfw_rate is not None:
            row |= {
                "dfw_rate_difference": c.dfw_rate.difference,
                "dfw_rate_p_value": c.dfw_rate.p_value,
            }
        if c.prior is not None:
            row |= {
                "prior_difference": c.prior.difference,
                "prior_p_value": c.prior.p_value,
                "prior_cohens_d": c.prior.cohens_d,
            }
        row |= _adjusted_columns(adjusted.get((c.group_a, c.group_b)))
        yield row


def outcomes_csv(report: OutcomeReport) -> bytes:
    """One row per group and per comparison, of every scheme, every module, then all modules
    pooled."""
    summaries = [*report.schemes, *report.modules, *([report.overall] if report.overall else [])]
    return _csv(OUTCOME_COLUMNS, (r for s in summaries for r in _outcome_rows(report, s)))


# --------------------------------------------------------------------------- feedback CSV

FEEDBACK_COLUMNS = [
    "academic_year",
    "scheme_id",
    "title",
    "session_id",
    "starts_at",
    "item",
    "statement",
    "responses",
    "agree",
    "percent_agree",
    "mean",
    "score_1",
    "score_2",
    "score_3",
    "score_4",
    "score_5",
]


def feedback_csv(report: FeedbackReport) -> bytes:
    """One row per item for each scheme (session empty) and each of its sessions."""

    def rows() -> Iterable[dict[str, Any]]:
        for s in report.schemes:
            scopes = [(None, None, s.items)] + [
                (x.session_id, x.starts_at.isoformat() if x.starts_at else None, x.items)
                for x in s.sessions
            ]
            for session_id, starts_at, items in scopes:
                for i in items:
                    yield {
                        "academic_year": report.academic_year,
                        "scheme_id": s.scheme_id,
                        "title": s.title,
                        "session_id": session_id,
                        "starts_at": starts_at,
                        "item": i.item,
                        "statement": i.statement,
                        "responses": i.responses,
                        "agree": i.agree,
                        "percent_agree": i.percent_agree,
                        "mean": i.mean,
                        **{f"score_{k}": v for k, v in i.distribution.items()},
                    }

    return _csv(FEEDBACK_COLUMNS, rows())


def comments_csv(report: FeedbackReport) -> bytes:
    return _csv(
        ["scheme_id", "session_id", "starts_at", "submitted_at", "comment"],
        (
            {
                "scheme_id": c.scheme_id,
                "session_id": c.session_id,
                "starts_at": c.starts_at.isoformat() if c.starts_at else None,
                "submitted_at": c.submitted_at.isoformat(),
                "comment": c.comment,
            }
            for c in report.comments or []
        ),
    )


# --------------------------------------------------------------------------- charts

#: what the adjusted figures under each module mean, and what they do not, in plain words
ADJUSTED_WORDS = (
    "Adjusted for prior: the difference between students of {regular} sessions and students "
    "of none who started with the same prior attainment (regression: mark ~ attended + prior;\n"
    "matched: each participant against the non-participant closest in prior attainment). It "
    "takes out the part of the raw difference due to stronger students attending more.\n"
    "It is an observational estimate, not an experiment: students chose to come, and anything "
    "else that differs between those who came and those who did not (motivation, time,\n"
    "other support) is still in it. It does not show that PASS caused the difference."
)


def _dpi(fig: Figure) -> float:
    """A very tall chart (hundreds of modules) gets fewer dots per inch, within PNG's limits."""
    return min(110.0, 30_000 / fig.get_figheight())


def _save(fig: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    with rc_context({"svg.fonttype": "none"}):
        fig.savefig(buffer, format=fmt, dpi=_dpi(fig), bbox_inches="tight")
    return buffer.getvalue()


def _save_laid_out(fig: Figure, fmt: str, edges: Sequence[Artist]) -> bytes:
    """The figure saved at its own size, its margins already set for what it holds, drawn once.

    `edges` are what could reach past those margins (row labels as long as a module's title,
    a scheme's title, a legend of many groups): they alone are measured, and the saved area
    grows to take in any that does, with `bbox_inches="tight"`'s padding. (That option instead
    draws the whole figure one extra time to measure everything.) For a PNG, the measuring
    renderer is the one that draws, so the words measured are not measured again."""
    dpi = _dpi(fig)
    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(dpi)
    renderer = canvas.get_renderer()
    extents = [fig.bbox]
    for artist in edges:
        extent = artist.get_tightbbox(renderer)
        if extent is not None and extent.width and extent.height:
            extents.append(extent)
    reach = Bbox.union(extents).transformed(fig.dpi_scale_trans.inverted())
    whole = fig.bbox_inches
    pad = matplotlib.rcParams["savefig.pad_inches"]
    area = Bbox.from_extents(
        whole.x0 if reach.x0 >= whole.x0 else reach.x0 - pad,
        whole.y0 if reach.y0 >= whole.y0 else reach.y0 - pad,
        whole.x1 if reach.x1 <= whole.x1 else reach.x1 + pad,
        whole.y1 if reach.y1 <= whole.y1 else reach.y1 + pad,
    )
    # zlib's level 3 instead of 6: the same pixels, a file about as small, a third less time
    # spent compressing
    options: dict[str, Any] = {"pil_kwargs": {"compress_level": 3}} if fmt == "png" else {}
    buffer = io.BytesIO()
    with rc_context({"svg.fonttype": "none"}):
        fig.savefig(
            buffer,
            format=fmt,
            dpi=dpi,
            bbox_inches=None if area.bounds == whole.bounds else area,
            **options,
        )
    return buffer.getvalue()


def _outcome_value(g: GroupFigures, measure: str, scale: float) -> tuple[float, str] | None:
    """The left panel's bar length and label: the mean mark, or the mean grade points
    (drawn scaled to 100 when `scale` is set, for a chart that mixes both)."""
    if measure == "mark":
        return None if g.mean_mark is None else (g.mean_mark, f"{g.mean_mark:.1f}")
    if g.mean_grade_points is None:
        return None
    label = f"{g.mean_grade_points:.2f} GP" if scale else f"{g.mean_grade_points:.2f}"
    return g.mean_grade_points * (scale or 1.0), label


def _row_label(s: OutcomeSummary, regular: str) -> str:
    if s.scope == "module":
        name = f"{s.id} {s.title}" if s.title else s.id
    else:
        name = f"{s.title or s.id} (all modules)"
    comp = next((c for c in s.comparisons if c.group_a == "regular"), None)
    if comp is None or comp.outcome is None:
        return f"{name}\nenrolled {s.enrolled}"
    o = comp.outcome
    if o.p_value is None:
        p = "p n/a"
    elif o.p_value < 0.001:
        p = "p < 0.001"
    else:
        p = f"p = {o.p_value:.3f}"
    d = f", d = {o.cohens_d:.2f}" if o.cohens_d is not None else ""
    unit = "marks" if comp.measure == "mark" else "GP"
    raw = f"{name}\n{regular} vs 0 sessions: {o.difference:+.1f} {unit} ({p}{d})"
    return f"{raw}\n{_adjusted_label(s)}"


def _adjusted_label(s: OutcomeSummary) -> str:
    """ "adjusted for prior: +4.2 (95% CI 1.1 to 7.3), matched +3.9" or why there is none."""
    adj = next((a for a in s.adjusted if a.group_a == "regular"), None)
    if adj is None or adj.status == "suppressed":
        return "adjusted for prior: group too small"
    if adj.status == "no_prior":
        return "adjusted for prior: no prior attainment"
    if adj.status == "prior_missing":
        return "adjusted for prior: prior missing for too many"
    reg = adj.outcome.regression if adj.outcome is not None else None
    match = adj.outcome.matching if adj.outcome is not None else None
    if reg is None or reg.ci_low is None or reg.ci_high is None:
        return "adjusted for prior: too few values"
    text = (
        f"adjusted for prior: {reg.estimate:+.1f} (95% CI {reg.ci_low:+.1f} to {reg.ci_high:+.1f})"
    )
    if match is not None:
        text += f", matched {match.estimate:+.1f}"
    return text


#: a panel's bars (y, length, colour) and the words beside them (x, y, words, colour)
PanelMarks = tuple[list[float], list[float], list[str], list[tuple[float, float, str, str | None]]]


def _outcome_marks(
    rows: Sequence[OutcomeSummary],
    shown: Sequence[Group],
    scale: float,
    size: int,
    bar: float,
    left_pad: float,
    right_pad: float,
) -> tuple[PanelMarks, PanelMarks]:
    """What the two panels of the outcome chart draw, in drawing order, so that each panel's
    bars are one `barh` (one call per bar costs more than drawing it) and its words one pass."""
    k = len(shown)
    left: PanelMarks = ([], [], [], [])
    right: PanelMarks = ([], [], [], [])
    for r, summary in enumerate(rows):
        figures = {g.key: g for g in summary.groups}
        for j, group in enumerate(shown):
            y = r + (j - (k - 1) / 2) * bar
            g = figures.get(group.key)
            if g is None or g.suppressed:
                for panel, pad in ((left, left_pad), (right, right_pad)):
                    panel[3].append((pad, y, f"fewer than {size}: not shown", GREY_NOTE))
                continue
            outcome = _outcome_value(g, summary.measure, scale)
            passed = (
                None
                if g.pass_rate is None
                else (100.0 * g.pass_rate, f"{100.0 * g.pass_rate:.0f}%")
            )
            for panel, pad, value, missing in (
                (
                    left,
                    left_pad,
                    outcome,
                    "too few marks" if summary.measure == "mark" else "too few grades",
                ),
                (right, right_pad, passed, "too few results"),
            ):
                if value is None:
                    panel[3].append((pad, y, f"n = {g.count}, {missing}", GREY_NOTE))
                    continue
                panel[0].append(y)
                panel[1].append(value[0])
                panel[2].append(PALETTE[j % len(PALETTE)])
                panel[3].append((value[0] + pad, y, f"{value[1]}  n = {g.count}", None))
    return left, right


@dataclass(frozen=True)
class _ChartOf:
    """An outcome chart to draw, known by its report's digest (the chart is drawn from the
    report alone)."""

    digest: str
    fmt: str
    view: str
    report: OutcomeReport = field(compare=False, hash=False)


@lru_cache(maxsize=8)
def _cached_outcomes_chart(chart: _ChartOf) -> bytes:
    return outcomes_chart_uncached(chart.report, chart.fmt, chart.view)


def outcomes_chart(report: OutcomeReport, fmt: str, view: str = "regular") -> bytes:
    """`outcomes_chart_uncached`, the last few charts kept: the same report asked again (the
    console's page reloaded, its PNG and its SVG) is not drawn again."""
    digest = hashlib.blake2b(report.model_dump_json().encode(), digest_size=16).hexdigest()
    return _cached_outcomes_chart(_ChartOf(digest, fmt, view, report))


def outcomes_chart_uncached(report: OutcomeReport, fmt: str, view: str = "regular") -> bytes:
    """Grouped horizontal bars: mean mark (left) and pass rate (right) per group per module,
    the group's size on each bar; a scheme's pooled row first when the report is for one
    scheme."""
    groups = [Group(g.key, g.label, g.min_sessions, g.max_sessions) for g in report.groups]
    shown = chart_groups(groups, view)
    regular = next((g.range_text for g in groups if g.key == "regular"), "regular")
    # modules with no enrolments have nothing to draw: left out
    rows: list[OutcomeSummary] = [
        s
        for s in (list(report.schemes) if report.scheme else []) + list(report.modules)
        if s.enrolled
    ]
    measures = {s.measure for s in rows if s.enrolled} or {"mark"}
    mixed = len(measures) > 1
    top_points = max(report.settings.get("grade_scale", {}).values(), default=4.0) or 4.0
    scale = 100.0 / top_points if mixed else 0.0
    only_points = measures == {"grade_points"}
    if mixed:
        left_title = "Mean mark (GP: grade points, drawn scaled to 100)"
    elif only_points:
        left_title = "Mean grade points"
    else:
        left_title = "Mean mark (out of 100)"
    left_top = top_points if only_points else 100.0
    size = report.settings.get("min_group_size", 5)

    k = len(shown)
    bar = 0.8 / k
    top_in, bottom_in = 1.25, 1.5
    height = top_in + bottom_in + max(len(rows), 1) * (0.26 * k + 0.6)
    fig = Figure(figsize=(13, height))
    fig.subplots_adjust(
        top=1 - top_in / height, bottom=bottom_in / height, left=0.3, right=0.98, wspace=0.08
    )
    left, right = fig.subplots(1, 2, sharey=True)
    for ax, title in ((left, left_title), (right, "Pass rate (%)")):
        ax.set_title(title, fontsize=10, loc="left")
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    left.set_xlim(0, left_top * 1.18)
    left.set_xticks([left_top * f for f in (0, 0.2, 0.4, 0.6, 0.8, 1.0)])
    right.set_xlim(0, 118)
    right.set_xticks([0, 20, 40, 60, 80, 100])
    pad = {left: left_top * 0.01, right: 1.0}

    marks = _outcome_marks(rows, shown, scale, size, bar, pad[left], pad[right])
    for ax, (ys, widths, colours, notes) in zip((left, right), marks, strict=True):
        if ys:
            ax.barh(ys, widths, height=bar * 0.92, color=colours)
        for x, y, words, colour in notes:
            ax.text(x, y, words, va="center", fontsize=7, color=colour)
    left.set_yticks(range(len(rows)), [_row_label(s, regular) for s in rows], fontsize=8)
    left.set_ylim(max(len(rows), 1) - 0.5, -0.5)
    if report.scheme and report.schemes and len(rows) > 1:
        for ax in (left, right):
            ax.axhline(0.5, color="#bbbbbb", linewidth=0.8)
    scope = f" \u2014 {report.schemes[0].title}" if report.scheme and report.schemes else ""
    fig.text(
        0.01,
        1 - 0.3 / height,
        f"Participation and outcomes, {report.academic_year}{scope}",
        fontsize=13,
        fontweight="bold",
        va="center",
    )
    fig.legend(
        handles=[
            Patch(color=PALETTE[j % len(PALETTE)], label=g.label) for j, g in enumerate(shown)
        ],
        loc="center left",
        bbox_to_anchor=(0.005, 1 - 0.7 / height),
        ncol=len(shown),
        frameon=False,
        fontsize=9,
    )
    fig.text(
        0.01,
        0.12 / height,
        f"n = students (enrolments) in the group. Groups of fewer than {size} are not shown. "
        f"Differences: {regular} sessions minus none, Welch's t-test p, Cohen's d.\n"
        + ADJUSTED_WORDS.format(regular=regular),
        fontsize=8,
        color="#555555",
        va="bottom",
        wrap=True,
    )
    # what could reach past the margins: row labels, the title, the legend, the footnote, and
    # the words after the longest pass-rate bars
    near_edge = [t for t in right.texts if t.get_position()[0] > 90]
    return _save_laid_out(fig, fmt, [left.yaxis, *fig.texts, *fig.legends, *near_edge])


def feedback_chart(report: FeedbackReport, fmt: str, tz: tzinfo = UTC) -> bytes:
    """Per scheme (and, for one scheme, per session): % agreeing with each item, with n.
    Sessions are labelled with their local start (`tz`: the institution's zone)."""
    rows: list[tuple[str, list[Any]]] = []
    for s in report.schemes:
        rows.append((f"{s.title or s.scheme_id}\n{s.responses} responses", s.items))
        if report.scheme:
            for x in s.sessions:
                when = (
                    x.starts_at.astimezone(tz).strftime("%d %b %Y %H:%M %Z")
                    if x.starts_at
                    else x.session_id
                )
                rows.append((f"{when}\n{x.responses} responses", x.items))
    items = report.items
    k = max(len(items), 1)
    bar = 0.8 / k
    height = 1.6 + max(len(rows), 1) * (0.24 * k + 0.4)
    fig = Figure(figsize=(11, height))
    ax = fig.subplots()
    for r, (_, row_items) in enumerate(rows):
        for j, item in enumerate(row_items):
            y = r + (j - (k - 1) / 2) * bar
            if item.percent_agree is None:
                ax.text(1, y, "no responses", va="center", fontsize=7, color="#777777")
                continue
            ax.barh(y, item.percent_agree, height=bar * 0.92, color=PALETTE[(j + 1) % len(PALETTE)])
            ax.text(
                item.percent_agree + 1,
                y,
                f"{item.percent_agree:.0f}%  n = {item.responses}",
                va="center",
                fontsize=7,
            )
    ax.set_yticks(range(len(rows)), [label for label, _ in rows], fontsize=8)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, 112)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel("% agree or strongly agree (4 or 5 of 5)")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    statements = {i.item: i.statement for s in report.schemes for i in s.items}
    handles = [
        Patch(color=PALETTE[(j + 1) % len(PALETTE)], label=statements.get(i, i))
        for j, i in enumerate(items)
    ]
    fig.suptitle(
        f"Survey results, {report.academic_year}", x=0.01, ha="left", fontsize=13, fontweight="bold"
    )
    fig.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(0.01, 1 - 0.5 / height),
        ncol=1,
        frameon=False,
        fontsize=9,
    )
    fig.subplots_adjust(top=1 - (0.9 + 0.2 * k) / height)
    return _save(fig, fmt)


# --------------------------------------------------------------------------- trends

TREND_COLUMNS = list(TrendRow.model_fields)


def trends_csv(report: TrendReport) -> bytes:
    """One row per module and year, then all modules per year."""
    return _csv(TREND_COLUMNS, (r.model_dump() for r in report.rows))


def trends_chart(report: TrendReport, fmt: str) -> bytes:
    """One row per module (and all modules last): participation rate by year (left), and the
    regular-vs-none difference by year, raw and adjusted for prior attainment, with 95%
    intervals (right)."""
    by_module: dict[str, list[TrendRow]] = {}
    for r in report.rows:
        by_module.setdefault(r.module, []).append(r)
    names = list(by_module)
    years = report.years
    position = {y: i for i, y in enumerate(years)}
    regular = report.settings.get("regular_min", 4)
    height = 1.6 + 2.1 * max(len(names), 1)
    fig = Figure(figsize=(12, height))
    axes = fig.subplots(max(len(names), 1), 2, squeeze=False)
    for i, name in enumerate(names):
        rows = by_module[name]
        left, right = axes[i]
        head = rows[-1]
        label = "All modules" if head.scope == "overall" else name
        if head.title and head.scope == "module":
            label = f"{name} {head.title}"
        x = [position[r.academic_year] for r in rows]
        rates = [
            100 * r.participation_rate if r.participation_rate is not None else None for r in rows
        ]
        left.plot(
            [a for a, v in zip(x, rates, strict=True) if v is not None],
            [v for v in rates if v is not None],
            marker="o",
            color=PALETTE[2],
        )
        left.set_ylim(0, 100)
        left.set_ylabel("% participating", fontsize=8)
        left.set_title(label, fontsize=10, loc="left")
        for offset, colour, kind, key in (
            (-0.08, PALETTE[0], "raw", "raw"),
            (0.0, PALETTE[1], "adjusted for prior (regression)", "adjusted"),
            (0.08, PALETTE[3], "matched on prior", "matched"),
        ):
            points = [
                (
                    a + offset,
                    getattr(r, f"{key}_difference"),
                    getattr(r, f"{key}_ci_low"),
                    getattr(r, f"{key}_ci_high"),
                )
                for a, r in zip(x, rows, strict=True)
                if getattr(r, f"{key}_difference") is not None
            ]
            if not points:
                continue
            right.errorbar(
                [p[0] for p in points],
                [p[1] for p in points],
                yerr=[
                    [p[1] - (p[2] if p[2] is not None else p[1]) for p in points],
                    [(p[3] if p[3] is not None else p[1]) - p[1] for p in points],
                ],
                fmt="o",
                color=colour,
                capsize=3,
                label=kind if i == 0 else None,
            )
        for r, a in zip(rows, x, strict=True):
            if r.adjusted_status in ("prior_missing", "no_prior", "suppressed"):
                words = {
                    "prior_missing": "prior missing\nfor too many",
                    "no_prior": "no prior",
                    "suppressed": "group too small",
                }[r.adjusted_status]
                right.annotate(words, (a, 0), fontsize=6, color="#777777", ha="center", va="bottom")
        right.axhline(0, color="#bbbbbb", linewidth=0.8)
        unit = "marks" if head.measure == "mark" else "grade points"
        right.set_ylabel(f"{regular}+ vs 0 sessions ({unit})", fontsize=8)
        for ax in (left, right):
            ax.set_xticks(range(len(years)), years, fontsize=8)
            ax.set_xlim(-0.5, len(years) - 0.5)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            ax.grid(axis="y", color="#eeeeee", linewidth=0.6)
    fig.suptitle(
        "Participation and outcomes across years", x=0.01, ha="left", fontsize=13, fontweight="bold"
    )
    if names:
        fig.legend(loc="upper right", frameon=False, fontsize=8, ncol=3)
    fig.text(
        0.01,
        0.1 / height,
        ADJUSTED_WORDS.format(regular=f"{regular}+"),
        fontsize=7,
        color="#555555",
        va="bottom",
    )
    fig.subplots_adjust(top=1 - 0.9 / height, bottom=1.1 / height, hspace=0.55, wspace=0.2)
    return _save(fig, fmt)


def template_csv(report: TemplateReport) -> bytes:
    """The template's rows, one per course (module), its columns in its order."""
    return _csv(report.columns, report.rows)
