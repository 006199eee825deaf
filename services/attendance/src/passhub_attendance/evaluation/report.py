"""The reports as data (pydantic models, the JSON the API returns) and the pure functions that
build them from loaded cohorts and tallies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel

from passhub_attendance.evaluation.adjusted import AdjustedComparison, adjusted_comparison
from passhub_attendance.evaluation.groups import Group, chart_groups, find
from passhub_attendance.evaluation.settings import EvaluationSettings
from passhub_attendance.evaluation.stats import (
    Agreement,
    Cohort,
    Comparison,
    GroupFigures,
    IntArray,
    agreement,
    compare,
    empty_cohort,
    group_figures,
)

#: comparisons every summary carries: group a against group b
COMPARISONS = (("regular", "non_participants"), ("participants", "non_participants"))
#: comparisons also adjusted for prior attainment: regular participants against
#: non-participants (what a board asks; occasional attenders are left out, as in the raw one)
ADJUSTED = (("regular", "non_participants"),)

ITEM_STATEMENTS = {
    "understanding": "attending {p} improved their understanding",
    "enjoyable": "the {p} sessions were enjoyable",
    "recommend": "they would recommend {p} to other students",
}


# --------------------------------------------------------------------------- outcomes


class GroupDefinition(BaseModel):
    key: str
    label: str
    min_sessions: int
    max_sessions: int | None


class OutcomeSummary(BaseModel):
    """One module, or one scheme pooling its modules' enrolments (a student on two of the
    scheme's modules counts once per module), or every module of the report (`overall`)."""

    scope: Literal["module", "scheme", "overall"]
    id: str
    title: str | None = None
    modules: list[str]
    schemes: list[str]
    enrolled: int
    with_result: int
    participants: int
    participation_rate: float | None
    #: students who attended sessions for the module but are not in its enrolments
    participants_not_enrolled: int
    #: the outcome compared: marks out of 100, or grade points where there are no marks
    measure: Literal["mark", "grade_points"]
    prior_measure: str | None = None
    groups: list[GroupFigures]
    comparisons: list[Comparison]
    #: regular participants against non-participants adjusted for prior attainment
    #: (regression and matching), beside the raw comparison; within each module when the
    #: summary pools several
    adjusted: list[AdjustedComparison] = []


class OutcomeReport(BaseModel):
    academic_year: str
    scheme: str | None = None
    settings: dict[str, Any]
    groups: list[GroupDefinition]
    modules: list[OutcomeSummary]
    schemes: list[OutcomeSummary]
    #: every module of the report pooled (modules compared within themselves when adjusted)
    overall: OutcomeSummary | None = None


@dataclass
class ModuleData:
    module: str
    cohort: Cohort
    prior_measures: set[str] = field(default_factory=set)
    not_enrolled: int = 0


@dataclass(frozen=True)
class SchemeInfo:
    scheme_id: str
    code: str
    title: str
    academic_year: str
    modules: tuple[str, ...]


def summarise(
    scope: Literal["module", "scheme", "overall"],
    ident: str,
    title: str | None,
    modules: Sequence[str],
    schemes: Sequence[str],
    cohort: Cohort,
    not_enrolled: int,
    prior_measures: set[str],
    settings: EvaluationSettings,
    groups: list[Group],
    strata: IntArray | None = None,
) -> OutcomeSummary:
    enrolled = len(cohort)
    participants = int(np.count_nonzero(cohort.sessions >= 1))
    measure = cohort.measure
    size = settings.min_group_size
    comparisons = [
        compare(cohort, find(groups, a), find(groups, b), size, measure)
        for a, b in COMPARISONS
        if any(g.key == a for g in groups)
    ]
    return OutcomeSummary(
        scope=scope,
        id=ident,
        title=title,
        modules=list(modules),
        schemes=list(schemes),
        enrolled=enrolled,
        with_result=int(np.count_nonzero(cohort.has_result)),
        participants=participants,
        participation_rate=participants / enrolled if enrolled else None,
        participants_not_enrolled=not_enrolled,
        measure="grade_points" if measure == "grade_points" else "mark",
        prior_measure=" / ".join(sorted(prior_measures)) or None,
        groups=[group_figures(cohort, g, size) for g in groups],
        comparisons=comparisons,
        adjusted=[
            adjust(cohort, find(groups, a), find(groups, b), settings, measure, strata)
            for a, b in ADJUSTED
            if any(g.key == a for g in groups)
        ],
    )


def adjust(
    cohort: Cohort,
    group_a: Group,
    group_b: Group,
    settings: EvaluationSettings,
    measure: str,
    strata: IntArray | None = None,
) -> AdjustedComparison:
    """`group_a` against `group_b` adjusted for prior attainment (see `adjusted`)."""
    return adjusted_comparison(
        in_a=cohort.in_group(group_a),
        in_b=cohort.in_group(group_b),
        has_result=cohort.has_result,
        outcome=cohort.outcome(measure),
        passed=cohort.passed,
        dfw=cohort.dfw,
        prior=cohort.prior,
        min_size=settings.min_group_size,
        max_missing=settings.max_prior_missing,
        keys=(group_a.key, group_b.key),
        labels=(_plural(group_a), _plural(group_b)),
        strata=strata,
    )


def _plural(group: Group) -> str:
    words = {
        "regular": "regular participants",
        "participants": "participants",
        "non_participants": "non-participants",
        "occasional": "occasional participants",
    }
    return words.get(group.key, f"students of {group.range_text} sessions")


def _pooled(datas: Sequence[ModuleData]) -> tuple[Cohort, IntArray | None]:
    """The modules' cohorts end to end, and each row's module (None for one module)."""
    if not datas:
        return empty_cohort(), None
    cohort = Cohort.concat([d.cohort for d in datas])
    if len(datas) == 1:
        return cohort, None
    strata: IntArray = np.repeat(
        np.arange(len(datas), dtype=np.int64), [len(d.cohort) for d in datas]
    )
    return cohort, strata


def build_outcome_report(
    academic_year: str,
    modules: Mapping[str, ModuleData],
    schemes: Sequence[SchemeInfo],
    settings: EvaluationSettings,
    scheme: str | None = None,
    titles: Mapping[str, str] | None = None,
) -> OutcomeReport:
    """`modules`: every module to report on (empty cohort when none enrolled); `schemes`: the
    schemes to summarise, each over those of its modules that are in `modules`; `titles`: module
    titles ("Calculus I" for MATH101)."""
    titles = titles or {}
    groups = settings.groups()
    covering: dict[str, list[str]] = {}
    for s in schemes:
        for m in s.modules:
            covering.setdefault(m, []).append(s.scheme_id)
    module_summaries = [
        summarise(
            "module",
            name,
            titles.get(name),
            [name],
            sorted(covering.get(name, [])),
            data.cohort,
            data.not_enrolled,
            data.prior_measures,
            settings,
            groups,
        )
        for name, data in sorted(modules.items())
    ]
    scheme_summaries = []
    for s in sorted(schemes, key=lambda s: s.scheme_id):
        own = [modules[m] for m in sorted(s.modules) if m in modules]
        pooled, strata = _pooled(own)
        scheme_summaries.append(
            summarise(
                "scheme",
                s.scheme_id,
                s.title,
                [d.module for d in own],
                [s.scheme_id],
                pooled,
                sum(d.not_enrolled for d in own),
                set().union(*(d.prior_measures for d in own)) if own else set(),
                settings,
                groups,
                strata,
            )
        )
    every = [modules[m] for m in sorted(modules)]
    pooled, strata = _pooled(every)
    overall = summarise(
        "overall",
        "overall",
        "All modules",
        [d.module for d in every],
        sorted({s.scheme_id for s in schemes}),
        pooled,
        sum(d.not_enrolled for d in every),
        set().union(*(d.prior_measures for d in every)) if every else set(),
        settings,
        groups,
        strata,
    )
    return OutcomeReport(
        academic_year=academic_year,
        scheme=scheme,
        settings=settings.public(),
        groups=[
            GroupDefinition(key=g.key, label=g.label, min_sessions=g.low, max_sessions=g.high)
            for g in groups
        ],
        modules=module_summaries,
        schemes=scheme_summaries,
        overall=overall,
    )


# --------------------------------------------------------------------------- feedback


class ItemAgreement(BaseModel):
    item: str
    statement: str
    responses: int
    agree: int
    percent_agree: float | None
    mean: float | None
    distribution: dict[str, int]
    #: "93% agreed that attending PASS improved their understanding (n = 120)"
    headline: str | None


class SessionFeedback(BaseModel):
    session_id: str
    starts_at: datetime | None
    responses: int
    items: list[ItemAgreement]


class SchemeFeedback(BaseModel):
    scheme_id: str
    title: str | None
    responses: int
    items: list[ItemAgreement]
    sessions: list[SessionFeedback]


class Comment(BaseModel):
    scheme_id: str
    session_id: str
    starts_at: datetime | None
    submitted_at: datetime
    comment: str


class FeedbackReport(BaseModel):
    academic_year: str
    scheme: str | None = None
    items: list[str]
    schemes: list[SchemeFeedback]
    #: free-text comments: coordinators only (None for other roles)
    comments: list[Comment] | None = None


@dataclass(frozen=True)
class Tally:
    session_id: str
    scheme_id: str
    item: str
    score: int
    responses: int


def item_agreement(item: str, counts: Mapping[int, int], programme: str) -> ItemAgreement:
    a: Agreement = agreement(dict(counts))
    statement = ITEM_STATEMENTS.get(item, item).format(p=programme)
    headline = (
        f"{a.percent_agree:.0f}% agreed that {statement} (n = {a.responses})"
        if a.percent_agree is not None
        else None
    )
    return ItemAgreement(
        item=item,
        statement=statement,
        responses=a.responses,
        agree=a.agree,
        percent_agree=a.percent_agree,
        mean=a.mean,
        distribution=a.distribution,
        headline=headline,
    )


def _items(
    counts: Mapping[str, Mapping[int, int]], items: Sequence[str], programme: str
) -> tuple[int, list[ItemAgreement]]:
    result = [item_agreement(i, counts.get(i, {}), programme) for i in items]
    # every form answers every item, so any item's count is the number of forms
    return max((r.responses for r in result), default=0), result


def build_feedback_report(
    academic_year: str,
    tallies: Sequence[Tally],
    scheme_titles: Mapping[str, str],
    session_starts: Mapping[str, datetime],
    settings: EvaluationSettings,
    items: Sequence[str],
    scheme: str | None = None,
    comments: list[Comment] | None = None,
) -> FeedbackReport:
    by_scheme: dict[str, dict[str, dict[int, int]]] = {}
    by_session: dict[str, dict[str, dict[str, dict[int, int]]]] = {}
    for t in tallies:
        s = by_scheme.setdefault(t.scheme_id, {}).setdefault(t.item, {})
        s[t.score] = s.get(t.score, 0) + t.responses
        ss = by_session.setdefault(t.scheme_id, {}).setdefault(t.session_id, {})
        ss.setdefault(t.item, {})[t.score] = t.responses
    programme = settings.programme_name
    schemes = []
    for scheme_id in sorted(set(by_scheme) | set(scheme_titles)):
        responses, summary = _items(by_scheme.get(scheme_id, {}), items, programme)
        sessions = []
        for session_id, counts in by_session.get(scheme_id, {}).items():
            n, session_items = _items(counts, items, programme)
            sessions.append(
                SessionFeedback(
                    session_id=session_id,
                    starts_at=session_starts.get(session_id),
                    responses=n,
                    items=session_items,
                )
            )
        sessions.sort(
            key=lambda s: (s.starts_at is None, s.starts_at or datetime.min, s.session_id)
        )
        schemes.append(
            SchemeFeedback(
                scheme_id=scheme_id,
                title=scheme_titles.get(scheme_id),
                responses=responses,
                items=summary,
                sessions=sessions,
            )
        )
    return FeedbackReport(
        academic_year=academic_year,
        scheme=scheme,
        items=list(items),
        schemes=schemes,
        comments=comments,
    )


# --------------------------------------------------------------------------- trends


class TrendRow(BaseModel):
    """One module (or all modules: `scope` overall) in one year: participation, and regular
    participants against non-participants, raw and adjusted for prior attainment."""

    scope: Literal["module", "overall"]
    module: str
    title: str | None
    academic_year: str
    enrolled: int
    participants: int
    participation_rate: float | None
    measure: str
    raw_difference: float | None = None
    raw_ci_low: float | None = None
    raw_ci_high: float | None = None
    raw_p_value: float | None = None
    adjusted_status: str | None = None
    adjusted_note: str | None = None
    adjusted_difference: float | None = None
    adjusted_ci_low: float | None = None
    adjusted_ci_high: float | None = None
    adjusted_p_value: float | None = None
    matched_difference: float | None = None
    matched_ci_low: float | None = None
    matched_ci_high: float | None = None
    raw_pass_rate_difference: float | None = None
    adjusted_pass_rate_difference: float | None = None
    raw_dfw_rate_difference: float | None = None
    adjusted_dfw_rate_difference: float | None = None


class TrendReport(BaseModel):
    years: list[str]
    settings: dict[str, Any]
    #: module by module, oldest year first; modules with no enrolments in a year have no row
    rows: list[TrendRow]


def trend_row(academic_year: str, s: OutcomeSummary) -> TrendRow:
    row = TrendRow(
        scope="overall" if s.scope == "overall" else "module",
        module=s.id,
        title=s.title,
        academic_year=academic_year,
        enrolled=s.enrolled,
        participants=s.participants,
        participation_rate=s.participation_rate,
        measure=s.measure,
    )
    raw = next((c for c in s.comparisons if c.group_a == "regular"), None)
    if raw is not None and raw.outcome is not None:
        row.raw_difference = raw.outcome.difference
        row.raw_ci_low, row.raw_ci_high = raw.outcome.ci_low, raw.outcome.ci_high
        row.raw_p_value = raw.outcome.p_value
    if raw is not None and raw.pass_rate is not None:
        row.raw_pass_rate_difference = raw.pass_rate.difference
    if raw is not None and raw.dfw_rate is not None:
        row.raw_dfw_rate_difference = raw.dfw_rate.difference
    adj = next((a for a in s.adjusted if a.group_a == "regular"), None)
    if adj is not None:
        row.adjusted_status, row.adjusted_note = adj.status, adj.note
        reg = adj.outcome.regression if adj.outcome is not None else None
        if reg is not None:
            row.adjusted_difference = reg.estimate
            row.adjusted_ci_low, row.adjusted_ci_high = reg.ci_low, reg.ci_high
            row.adjusted_p_value = reg.p_value
        match = adj.outcome.matching if adj.outcome is not None else None
        if match is not None:
            row.matched_difference = match.estimate
            row.matched_ci_low, row.matched_ci_high = match.ci_low, match.ci_high
        for key, part in (("pass_rate", adj.pass_rate), ("dfw_rate", adj.dfw_rate)):
            if part is not None and part.regression is not None:
                setattr(row, f"adjusted_{key}_difference", part.regression.estimate)
    return row


def build_trend_report(
    reports: Sequence[OutcomeReport], settings: EvaluationSettings
) -> TrendReport:
    """Rows of each year's modules (with enrolments) and of all its modules together."""
    rows = [
        trend_row(r.academic_year, s)
        for r in reports
        for s in [*r.modules, *([r.overall] if r.overall else [])]
        if s.enrolled
    ]
    rows.sort(key=lambda x: (x.scope == "overall", x.module, x.academic_year))
    return TrendReport(
        years=[r.academic_year for r in reports], settings=settings.public(), rows=rows
    )


# --------------------------------------------------------------------------- submission templates

#: the International Center for SI's data template (per course and term), and the UK equivalent
TEMPLATES = ("icsi", "uk")


class TemplateReport(BaseModel):
    """One row per module (course) of the year, with the figures the template asks for, ready to
    paste into it. A group under the minimum size has its figures left blank (`_suppressed`)."""

    template: Literal["icsi", "uk"]
    academic_year: str
    columns: list[str]
    rows: list[dict[str, Any]]


def _template_groups(report: OutcomeReport, template: str) -> list[Group]:
    groups = [Group(g.key, g.label, g.min_sessions, g.max_sessions) for g in report.groups]
    if template == "icsi":
        # non-participants, all SI participants (1+), then the bands 1-4, 5-9, 10+
        bands = [g for g in chart_groups(groups, "bands") if g.key != "non_participants"]
        return [find(groups, "non_participants"), find(groups, "participants"), *bands]
    return [
        g for g in groups if g.key in ("non_participants", "participants", "occasional", "regular")
    ]


def build_template(report: OutcomeReport, template: Literal["icsi", "uk"]) -> TemplateReport:
    """ICSI: course, term, total course enrolment, SI enrolment (1+ sessions), and for
    non-participants, all SI participants and each band: students, mean final grade (grade
    points where the course has letter grades, else the mark), D/F/W count and rate.
    UK: module, year, enrolment, participants, and for none / all / occasional / regular:
    students, mean mark, pass count and rate, D/F/W count and rate."""
    groups = _template_groups(report, template)
    head = (
        [
            "course",
            "title",
            "term",
            "total_enrolment",
            "si_enrolment",
            "si_participation_rate",
            "grade_measure",
        ]
        if template == "icsi"
        else [
            "module",
            "title",
            "academic_year",
            "enrolled",
            "participants",
            "participation_rate",
            "measure",
        ]
    )
    figures = (
        ("n", "mean_final_grade", "dfw", "dfw_rate")
        if template == "icsi"
        else ("n", "mean_mark", "passed", "pass_rate", "dfw", "dfw_rate")
    )
    columns = head + [f"{g.key}_{f}" for g in groups for f in ("suppressed", *figures)]
    rows: list[dict[str, Any]] = []
    for s in report.modules:
        if not s.enrolled:
            continue
        row: dict[str, Any] = dict(
            zip(
                head,
                [
                    s.id,
                    s.title,
                    report.academic_year,
                    s.enrolled,
                    s.participants,
                    s.participation_rate,
                    s.measure,
                ],
                strict=True,
            )
        )
        by_key = {g.key: g for g in s.groups}
        for g in groups:
            fig = by_key[g.key]
            row[f"{g.key}_suppressed"] = fig.suppressed
            mean = fig.mean_mark if s.measure == "mark" else fig.mean_grade_points
            values = {
                "n": fig.count,
                "mean_final_grade": mean,
                "mean_mark": mean,
                "passed": fig.passed,
                "pass_rate": fig.pass_rate,
                "dfw": fig.dfw,
                "dfw_rate": fig.dfw_rate,
            }
            for f in figures:
                row[f"{g.key}_{f}"] = values[f]
        rows.append(row)
    return TemplateReport(
        template=template, academic_year=report.academic_year, columns=columns, rows=rows
    )
