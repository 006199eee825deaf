"""The statistics of a participation-vs-outcome report, as pure functions over numpy arrays.

A cohort is one row per enrolment (a student on a module) with the number of sessions that
student attended for that module and their result. Groups are ranges of sessions attended.

- mean mark / mean grade points: over the group's enrolments that have one (withdrawn: none);
- pass rate, D/F/W rate: over the group's enrolments that have a result (withdrawn included);
  D/F/W = a D/F-type grade, a fail, or a withdrawal;
- difference between two groups: Welch's t-test (unequal variances; scipy), its 95% confidence
  interval, and Cohen's d with the pooled standard deviation; for rates, Fisher's exact test.

A figure computed from fewer than `min_size` values is suppressed (None), and so is a whole
group of fewer than `min_size` enrolments: small groups could identify students.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import gammaln, stdtr, stdtrit

from passhub_attendance.evaluation.groups import Group

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class RawResult:
    """A module result as imported: mark out of 100 and/or letter grade, pass flag, withdrawal."""

    mark: float | None = None
    grade: str | None = None
    passed: bool | None = None
    withdrawn: bool = False


@dataclass(frozen=True)
class Rules:
    """How raw results become grade points, passes and D/F/W (from `EvaluationSettings`)."""

    grade_scale: dict[str, float]
    pass_mark: float = 40.0
    fail_grades: frozenset[str] = frozenset({"F"})
    dfw_grades: frozenset[str] = frozenset({"D", "F"})


def classify(result: RawResult | None, rules: Rules) -> tuple[float, float, bool, bool]:
    """(mark, grade points, passed, D/F/W) of one result; NaN where there is no such value.

    `passed` as imported wins; when blank, a mark passes at `pass_mark` and a grade passes
    unless it is a fail grade. A withdrawal has no mark or grade points, does not pass and
    counts as D/F/W. No result at all: NaN, NaN, False, False (and `has_result` is False).
    """
    if result is None:
        return math.nan, math.nan, False, False
    if result.withdrawn:
        return math.nan, math.nan, False, True
    mark = math.nan if result.mark is None else float(result.mark)
    grade = (result.grade or "").upper()
    points = rules.grade_scale.get(grade, math.nan) if grade else math.nan
    if result.passed is not None:
        passed = result.passed
    elif not math.isnan(mark):
        passed = mark >= rules.pass_mark
    elif grade:
        passed = grade not in rules.fail_grades
    else:
        passed = False
    dfw = (not passed) or grade in rules.dfw_grades
    return mark, points, passed, dfw


@dataclass(frozen=True)
class Cohort:
    """Enrolments as parallel arrays (one element per student on a module)."""

    sessions: IntArray
    has_result: BoolArray
    mark: FloatArray
    grade_points: FloatArray
    passed: BoolArray
    dfw: BoolArray
    prior: FloatArray

    def __len__(self) -> int:
        return int(self.sessions.shape[0])

    def take(self, selector: BoolArray | slice) -> Cohort:
        return Cohort(
            self.sessions[selector],
            self.has_result[selector],
            self.mark[selector],
            self.grade_points[selector],
            self.passed[selector],
            self.dfw[selector],
            self.prior[selector],
        )

    def in_group(self, group: Group) -> BoolArray:
        mask: BoolArray = self.sessions >= group.low
        if group.high is not None:
            mask &= self.sessions <= group.high
        return mask

    @property
    def measure(self) -> str:
        """The outcome compared: marks when there are any, otherwise grade points."""
        if np.any(~np.isnan(self.mark)):
            return "mark"
        if np.any(~np.isnan(self.grade_points)):
            return "grade_points"
        return "mark"

    def outcome(self, measure: str) -> FloatArray:
        return self.mark if measure == "mark" else self.grade_points

    @classmethod
    def build(
        cls,
        sessions: Iterable[int],
        results: Iterable[RawResult | None],
        prior: Iterable[float | None],
        rules: Rules,
    ) -> Cohort:
        sessions_a = np.fromiter(sessions, dtype=np.int64)
        results_l = list(results)
        classified = [classify(r, rules) for r in results_l]
        n = len(results_l)
        return cls(
            sessions=sessions_a,
            has_result=np.fromiter((r is not None for r in results_l), dtype=np.bool_, count=n),
            mark=np.fromiter((c[0] for c in classified), dtype=np.float64, count=n),
            grade_points=np.fromiter((c[1] for c in classified), dtype=np.float64, count=n),
            passed=np.fromiter((c[2] for c in classified), dtype=np.bool_, count=n),
            dfw=np.fromiter((c[3] for c in classified), dtype=np.bool_, count=n),
            prior=np.fromiter(
                (math.nan if p is None else p for p in prior), dtype=np.float64, count=n
            ),
        )

    @classmethod
    def from_columns(
        cls,
        sessions: Sequence[int],
        has_result: Sequence[bool],
        mark: Sequence[float | None],
        grade: Sequence[str | None],
        passed: Sequence[bool | None],
        withdrawn: Sequence[bool | None],
        prior: Sequence[float | None],
        rules: Rules,
    ) -> Cohort:
        """`classify` applied to whole columns at once (what reports over many thousands of
        enrolments use); None marks no value."""
        n = len(sessions)
        has = np.asarray(has_result, dtype=np.bool_).reshape(n)
        gone = np.asarray([bool(w) for w in withdrawn], dtype=np.bool_).reshape(n) & has
        marks = np.asarray(mark, dtype=np.float64).reshape(n)  # None -> nan
        letters = np.asarray([(g or "").upper() for g in grade], dtype=object).reshape(n)
        points = np.full(n, np.nan)
        fails = np.zeros(n, dtype=np.bool_)
        dfw_grade = np.zeros(n, dtype=np.bool_)
        has_grade = letters != ""
        for letter in set(letters[has_grade].tolist()):
            at = letters == letter
            points[at] = rules.grade_scale.get(letter, np.nan)
            fails[at] = letter in rules.fail_grades
            dfw_grade[at] = letter in rules.dfw_grades
        given = np.asarray([p is not None for p in passed], dtype=np.bool_).reshape(n)
        given_value = np.asarray([bool(p) for p in passed], dtype=np.bool_).reshape(n)
        has_mark = ~np.isnan(marks)
        derived = np.where(has_mark, marks >= rules.pass_mark, has_grade & ~fails)
        ok = has & ~gone & np.where(given, given_value, derived)
        keep = has & ~gone
        return cls(
            sessions=np.asarray(sessions, dtype=np.int64).reshape(n),
            has_result=has,
            mark=np.where(keep, marks, np.nan),
            grade_points=np.where(keep, points, np.nan),
            passed=ok,
            dfw=has & (~ok | dfw_grade),
            prior=np.asarray(prior, dtype=np.float64).reshape(n),
        )

    @classmethod
    def concat(cls, cohorts: Sequence[Cohort]) -> Cohort:
        if not cohorts:
            return empty_cohort()
        return cls(*(np.concatenate([getattr(c, f) for c in cohorts]) for f in _FIELDS))


_FIELDS = ("sessions", "has_result", "mark", "grade_points", "passed", "dfw", "prior")


def empty_cohort() -> Cohort:
    f = np.empty(0, dtype=np.float64)
    b = np.empty(0, dtype=np.bool_)
    return Cohort(np.empty(0, dtype=np.int64), b, f, f, b, b, f)


# --------------------------------------------------------------------------- groups


@dataclass(frozen=True)
class Mean:
    n: int
    mean: float | None
    sd: float | None


def _finite(values: FloatArray) -> FloatArray:
    out: FloatArray = values[~np.isnan(values)]
    return out


def mean_of(values: FloatArray, min_size: int) -> Mean:
    """Mean and sample standard deviation of the non-NaN values; None under `min_size`."""
    v = _finite(values)
    n = int(v.shape[0])
    if n < max(min_size, 1):
        return Mean(n, None, None)
    sd = float(np.std(v, ddof=1)) if n > 1 else None
    return Mean(n, float(np.mean(v)), sd)


@dataclass(frozen=True)
class GroupFigures:
    """One group's figures; with `suppressed`, everything but the group's definition is None."""

    key: str
    label: str
    min_sessions: int
    max_sessions: int | None
    suppressed: bool
    count: int | None = None
    with_result: int | None = None
    marks: int | None = None
    mean_mark: float | None = None
    sd_mark: float | None = None
    grade_points: int | None = None
    mean_grade_points: float | None = None
    sd_grade_points: float | None = None
    passed: int | None = None
    pass_rate: float | None = None
    dfw: int | None = None
    dfw_rate: float | None = None
    prior: int | None = None
    mean_prior: float | None = None


def rate(k: int, n: int, min_size: int) -> float | None:
    return k / n if n >= max(min_size, 1) else None


def group_figures(cohort: Cohort, group: Group, min_size: int) -> GroupFigures:
    # masks rather than `take`: only the three value columns are copied
    member = cohort.in_group(group)
    count = int(np.count_nonzero(member))
    if count < min_size:
        return GroupFigures(group.key, group.label, group.low, group.high, suppressed=True)
    result = member & cohort.has_result
    with_result = int(np.count_nonzero(result))
    passed = int(np.count_nonzero(cohort.passed & result))
    dfw = int(np.count_nonzero(cohort.dfw & result))
    mark = mean_of(cohort.mark[member], min_size)
    points = mean_of(cohort.grade_points[member], min_size)
    prior = mean_of(cohort.prior[member], min_size)
    enough = with_result >= min_size
    return GroupFigures(
        key=group.key,
        label=group.label,
        min_sessions=group.low,
        max_sessions=group.high,
        suppressed=False,
        count=count,
        with_result=with_result,
        marks=mark.n,
        mean_mark=mark.mean,
        sd_mark=mark.sd,
        grade_points=points.n,
        mean_grade_points=points.mean,
        sd_grade_points=points.sd,
        passed=passed if enough else None,
        pass_rate=rate(passed, with_result, min_size),
        dfw=dfw if enough else None,
        dfw_rate=rate(dfw, with_result, min_size),
        prior=prior.n,
        mean_prior=prior.mean,
    )


# --------------------------------------------------------------------------- differences


@dataclass(frozen=True)
class MeanDifference:
    """Group a minus group b: Welch's t-test, 95% CI of the difference, Cohen's d."""

    n_a: int
    n_b: int
    mean_a: float
    mean_b: float
    difference: float
    t: float | None
    df: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    cohens_d: float | None


def _clean(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def cohens_d(a: FloatArray, b: FloatArray) -> float | None:
    """(mean a - mean b) / pooled SD, pooled SD = sqrt(((na-1)sa^2 + (nb-1)sb^2) / (na+nb-2))."""
    na, nb = a.shape[0], b.shape[0]
    if na < 2 or nb < 2:
        return None
    pooled = math.sqrt(
        ((na - 1) * np.var(a, ddof=1) + (nb - 1) * np.var(b, ddof=1)) / (na + nb - 2)
    )
    if pooled == 0:
        return None
    return float((np.mean(a) - np.mean(b)) / pooled)


def welch(a: FloatArray, b: FloatArray) -> tuple[float, float, float, float, float]:
    """Welch's t-test of mean(a) - mean(b): (t, df, two-sided p, 95% CI low, high).

    The statistic and the Welch-Satterthwaite degrees of freedom are the textbook formulas
    (what `scipy.stats.ttest_ind(a, b, equal_var=False)` computes; a test checks they agree);
    the p-value and interval come from the t distribution's functions of `scipy.special`
    (what `scipy.stats.t` calls, without its argument checking). Written out because a report
    runs hundreds of them and scipy's general entry point costs about a millisecond each.
    """
    na, nb = a.shape[0], b.shape[0]
    va, vb = float(np.var(a, ddof=1)) / na, float(np.var(b, ddof=1)) / nb
    se2 = va + vb
    if se2 == 0:
        return math.nan, math.nan, math.nan, math.nan, math.nan
    diff = float(np.mean(a) - np.mean(b))
    se = math.sqrt(se2)
    t = diff / se
    df = se2**2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    p = float(2 * stdtr(df, -abs(t)))
    half = float(stdtrit(df, 0.975)) * se
    return t, df, min(p, 1.0), diff - half, diff + half


def mean_difference(a: FloatArray, b: FloatArray, min_size: int) -> MeanDifference | None:
    """None when either side has fewer than `min_size` (and fewer than 2) values."""
    a, b = _finite(a), _finite(b)
    na, nb = int(a.shape[0]), int(b.shape[0])
    if min(na, nb) < max(min_size, 2):
        return None
    mean_a, mean_b = float(np.mean(a)), float(np.mean(b))
    t, df, p, low, high = welch(a, b)
    return MeanDifference(
        n_a=na,
        n_b=nb,
        mean_a=mean_a,
        mean_b=mean_b,
        difference=mean_a - mean_b,
        t=_clean(t),
        df=_clean(df),
        p_value=_clean(p),
        ci_low=_clean(low),
        ci_high=_clean(high),
        cohens_d=cohens_d(a, b),
    )


def fisher_exact_p(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p of Fisher's exact test of [[a, b], [c, d]]: the probability, under the
    hypergeometric distribution of the table's margins, of every table no more likely than
    this one (the definition `scipy.stats.fisher_exact` uses; a test checks they agree), with
    the whole support evaluated at once from log-gamma (scipy's own entry point walks it in
    many small calls: seconds for a report of a few hundred comparisons)."""
    total, row, col = a + b + c + d, a + b, a + c
    if total == 0 or row in (0, total) or col in (0, total):
        return 1.0
    x = np.arange(max(0, col - (total - row)), min(row, col) + 1, dtype=np.float64)
    log_pmf = _log_choose(row, x) + _log_choose(total - row, col - x) - _log_choose(total, col)
    observed = log_pmf[a - int(x[0])]
    p = float(np.exp(log_pmf[log_pmf <= observed + 1e-7]).sum())
    return min(p, 1.0)


def _log_choose(n: float, k: FloatArray | float) -> FloatArray:
    result: FloatArray = (
        gammaln(n + 1) - gammaln(np.asarray(k) + 1) - gammaln(n - np.asarray(k) + 1)
    )
    return result


@dataclass(frozen=True)
class RateDifference:
    """Rate of group a minus rate of group b, with Fisher's exact test (two-sided)."""

    n_a: int
    n_b: int
    rate_a: float
    rate_b: float
    difference: float
    p_value: float | None


def rate_difference(
    hits_a: int, n_a: int, hits_b: int, n_b: int, min_size: int
) -> RateDifference | None:
    if min(n_a, n_b) < max(min_size, 1):
        return None
    p = fisher_exact_p(hits_a, n_a - hits_a, hits_b, n_b - hits_b)
    rate_a, rate_b = hits_a / n_a, hits_b / n_b
    return RateDifference(n_a, n_b, rate_a, rate_b, rate_a - rate_b, _clean(p))


@dataclass(frozen=True)
class Comparison:
    """Group a against group b: outcome, pass and D/F/W rates, and prior attainment (did the
    groups start level?). `suppressed` when either group is; a part is None when too few
    values."""

    group_a: str
    group_b: str
    suppressed: bool
    measure: str
    outcome: MeanDifference | None = None
    pass_rate: RateDifference | None = None
    dfw_rate: RateDifference | None = None
    prior: MeanDifference | None = None


def compare(
    cohort: Cohort, group_a: Group, group_b: Group, min_size: int, measure: str | None = None
) -> Comparison:
    measure = measure or cohort.measure
    a, b = cohort.in_group(group_a), cohort.in_group(group_b)
    if int(np.count_nonzero(a)) < min_size or int(np.count_nonzero(b)) < min_size:
        return Comparison(group_a.key, group_b.key, suppressed=True, measure=measure)
    ra, rb = a & cohort.has_result, b & cohort.has_result
    na, nb = int(np.count_nonzero(ra)), int(np.count_nonzero(rb))
    outcome = cohort.outcome(measure)
    return Comparison(
        group_a=group_a.key,
        group_b=group_b.key,
        suppressed=False,
        measure=measure,
        outcome=mean_difference(outcome[a], outcome[b], min_size),
        pass_rate=rate_difference(
            int(np.count_nonzero(cohort.passed & ra)),
            na,
            int(np.count_nonzero(cohort.passed & rb)),
            nb,
            min_size,
        ),
        dfw_rate=rate_difference(
            int(np.count_nonzero(cohort.dfw & ra)),
            na,
            int(np.count_nonzero(cohort.dfw & rb)),
            nb,
            min_size,
        ),
        prior=mean_difference(cohort.prior[a], cohort.prior[b], min_size),
    )


# --------------------------------------------------------------------------- surveys


@dataclass(frozen=True)
class Agreement:
    """A Likert item: responses 1..5; agree = 4 (agree) or 5 (strongly agree)."""

    responses: int
    agree: int
    percent_agree: float | None
    mean: float | None
    distribution: dict[str, int]


def agreement(counts: dict[int, int]) -> Agreement:
    """From score -> number of responses (valid scores are 1..5; others are ignored)."""
    valid = {s: int(counts.get(s, 0)) for s in range(1, 6)}
    n = sum(valid.values())
    agree = valid[4] + valid[5]
    return Agreement(
        responses=n,
        agree=agree,
        percent_agree=100.0 * agree / n if n else None,
        mean=sum(s * c for s, c in valid.items()) / n if n else None,
        distribution={str(s): c for s, c in valid.items()},
    )
