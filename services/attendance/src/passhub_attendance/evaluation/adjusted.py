"""Differences adjusted for prior attainment: pure functions over numpy arrays, no I/O.

The raw difference between regular participants and non-participants mixes what PASS adds with
who chooses to come: stronger students may simply attend more. Two standard estimates take
prior attainment into account; neither makes the comparison an experiment.

- **Regression adjustment** (ANCOVA): `outcome ~ a + prior` by ordinary least squares, where
  `a` is 1 for group a (regular participants) and 0 for group b (non-participants); the
  estimate is a's coefficient. For the mark (or grade points) the conventional OLS standard
  error; for pass and D/F/W (0/1 outcomes) the same model is a linear probability model, whose
  coefficient is directly a difference in rates, with heteroskedasticity-robust (HC1) standard
  errors, as the variance of a 0/1 outcome depends on its mean. p-values and 95% intervals
  from the t distribution with n - k degrees of freedom.
- **Nearest-neighbour matching** on prior attainment: each member of group a is matched with
  the member of group b closest in prior attainment (with replacement, ties to the lower
  value), with the Abadie-Imbens bias correction (the difference in prior between the pair
  times the slope of outcome on prior among group b); the estimate is the mean difference over
  group a (the effect on those who came). Its standard error is Abadie and Imbens' (2006)
  for matching with replacement: the spread of the pair differences, plus, for each member of
  b used K times, K(K-1) times its conditional variance, estimated from its nearest neighbour
  in prior within b. 95% interval and p-value from the normal distribution. The balance check
  is the standardised mean difference of prior attainment (difference of means over
  sqrt((s_a^2 + s_b^2) / 2)) before matching and after (group a against its matches, with the
  same denominator).

When the rows come from several modules (a scheme, or the whole year), `strata` holds each
row's module: the regression then has one intercept per module (module fixed effects; it
compares students within a module) and matches are made within a module only.

The regression is written out on numpy (a report runs several hundred of them; the tests check
every figure against statsmodels' OLS on the same rows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr, stdtr, stdtrit

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

Status = Literal["estimated", "suppressed", "prior_missing", "no_prior"]


def _clean(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


# --------------------------------------------------------------------------- regression


@dataclass(frozen=True)
class RegressionEstimate:
    """a's coefficient in `outcome ~ a + prior (+ module)`."""

    method: Literal["ancova_ols", "linear_probability_hc1"]
    n: int
    n_a: int
    n_b: int
    #: number of intercepts (modules); 1 for one module
    strata: int
    estimate: float
    se: float | None
    df: int
    t: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    #: the slope of the outcome on prior attainment (per unit of prior)
    prior_slope: float | None


def _demean(values: FloatArray, strata: IntArray, count: int) -> FloatArray:
    if count == 1:
        out: FloatArray = values - values.mean()
        return out
    sums = np.bincount(strata, weights=values, minlength=count)
    sizes = np.bincount(strata, minlength=count)
    means = sums / np.maximum(sizes, 1)
    demeaned: FloatArray = values - means[strata]
    return demeaned


def _compact(strata: IntArray | None, n: int) -> tuple[IntArray, int]:
    """Strata renumbered 0..G-1 (only those present)."""
    if strata is None:
        return np.zeros(n, dtype=np.int64), 1
    uniques, inverse = np.unique(strata, return_inverse=True)
    return inverse.astype(np.int64).reshape(n), int(uniques.shape[0])


def regression(
    y: FloatArray,
    a: BoolArray,
    prior: FloatArray,
    strata: IntArray | None = None,
    robust: bool = False,
) -> RegressionEstimate | None:
    """OLS of y on [a, prior] with one intercept per stratum (Frisch-Waugh-Lovell: the
    variables are centred within their stratum, which gives the coefficients, residuals and
    HC0/HC1 covariance of the regression with a dummy per stratum). All rows must be complete.
    None when there are too few rows or a or prior does not vary within strata."""
    return regression_many([(y, robust)], a, prior, strata)[0]


def regression_many(
    outcomes: list[tuple[FloatArray, bool]],
    a: BoolArray,
    prior: FloatArray,
    strata: IntArray | None = None,
) -> list[RegressionEstimate | None]:
    """`regression` of several (outcome, robust) on the same rows: the design is built once."""
    n = int(prior.shape[0])
    groups, count = _compact(strata, n)
    k = 2 + count
    df = n - k
    if df < 1:
        return [None] * len(outcomes)
    x = np.column_stack(
        [
            _demean(a.astype(np.float64), groups, count),
            _demean(prior.astype(np.float64), groups, count),
        ]
    )
    xtx = x.T @ x
    det = float(np.linalg.det(xtx))
    scale = float(np.trace(xtx)) or 1.0
    if abs(det) <= 1e-12 * scale * scale:
        return [None] * len(outcomes)
    inverse = np.linalg.inv(xtx)
    quantile = float(stdtrit(df, 0.975))
    n_a = int(np.count_nonzero(a))
    out: list[RegressionEstimate | None] = []
    for y, robust in outcomes:
        yc = _demean(y.astype(np.float64), groups, count)
        beta = inverse @ (x.T @ yc)
        resid = yc - x @ beta
        if robust:
            meat = (x * (resid**2)[:, None]).T @ x
            cov = inverse @ meat @ inverse * (n / df)
        else:
            cov = inverse * float(resid @ resid) / df
        estimate = float(beta[0])
        variance = float(cov[0, 0])
        se = math.sqrt(variance) if variance > 0 else math.nan
        if se > 0 and math.isfinite(se):
            t = estimate / se
            p = float(2 * stdtr(df, -abs(t)))
            half = quantile * se
        else:
            t = p = half = math.nan
        out.append(
            RegressionEstimate(
                method="linear_probability_hc1" if robust else "ancova_ols",
                n=n,
                n_a=n_a,
                n_b=n - n_a,
                strata=count,
                estimate=estimate,
                se=_clean(se),
                df=df,
                t=_clean(t),
                p_value=_clean(min(p, 1.0)) if math.isfinite(p) else None,
                ci_low=_clean(estimate - half),
                ci_high=_clean(estimate + half),
                prior_slope=_clean(float(beta[1])),
            )
        )
    return out


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class MatchingEstimate:
    """Nearest-neighbour matching on prior attainment: the mean difference over group a."""

    n_a: int
    #: distinct members of b used as matches
    n_b_used: int
    #: members of a left unmatched (no member of b in their module)
    unmatched: int
    estimate: float
    se: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    #: standardised mean difference of prior attainment, before and after matching
    smd_before: float | None
    smd_after: float | None


def _nearest(sorted_values: FloatArray, targets: FloatArray) -> IntArray:
    """Index in `sorted_values` of the value nearest each target (ties: the lower one)."""
    right = np.searchsorted(sorted_values, targets, side="left")
    right = np.clip(right, 0, sorted_values.shape[0] - 1)
    left = np.clip(right - 1, 0, sorted_values.shape[0] - 1)
    take_left = np.abs(targets - sorted_values[left]) <= np.abs(sorted_values[right] - targets)
    chosen: IntArray = np.where(take_left, left, right).astype(np.int64)
    return chosen


def smd(xa: FloatArray, xb: FloatArray) -> float | None:
    """Standardised mean difference: (mean a - mean b) / sqrt((var a + var b) / 2)."""
    if xa.shape[0] < 2 or xb.shape[0] < 2:
        return None
    pooled = math.sqrt((float(np.var(xa, ddof=1)) + float(np.var(xb, ddof=1))) / 2)
    if pooled == 0:
        return None
    return float((np.mean(xa) - np.mean(xb)) / pooled)


def matching(
    y: FloatArray,
    a: BoolArray,
    prior: FloatArray,
    strata: IntArray | None = None,
) -> MatchingEstimate | None:
    """One nearest neighbour in b on prior (within a stratum), with replacement, bias-corrected;
    Abadie-Imbens standard error. All rows complete. None without members of a or b."""
    return matching_many([y], a, prior, strata)[0]


def matching_many(
    ys: list[FloatArray],
    a: BoolArray,
    prior: FloatArray,
    strata: IntArray | None = None,
) -> list[MatchingEstimate | None]:
    """`matching` of several outcomes of the same rows: the pairs are found once."""
    n = int(prior.shape[0])
    groups, count = _compact(strata, n)
    ia, ib = np.flatnonzero(a), np.flatnonzero(~a)
    if ia.shape[0] == 0 or ib.shape[0] < 2:
        return [None] * len(ys)
    # One search over every stratum at once: each row's key is its stratum times 2 plus its
    # prior scaled into [0, 0.5], so a neighbour in the same stratum is always nearer (under
    # 0.5) than any in another (over 1), and order and ratios of distances within a stratum
    # are those of prior attainment.
    low, span = float(prior.min()), float(prior.max() - prior.min()) or 1.0
    key = groups * 2.0 + (prior - low) / span * 0.5
    order = ib[np.argsort(key[ib], kind="stable")]
    chosen = order[_nearest(key[order], key[ia])]
    same = groups[chosen] == groups[ia]
    ma, mb = ia[same], chosen[same]
    n_a = int(ma.shape[0])
    if n_a == 0:
        return [None] * len(ys)
    # each member of b's nearest neighbour within b (and its stratum), for its variance
    nb = int(order.shape[0])
    keys = key[order]
    gap_left = np.full(nb, np.inf)
    gap_right = np.full(nb, np.inf)
    gap_left[1:] = keys[1:] - keys[:-1]
    gap_right[:-1] = keys[1:] - keys[:-1]
    steps = np.arange(nb)
    neighbour = order[np.where(gap_left <= gap_right, steps - 1, steps + 1)]
    alone = groups[neighbour] != groups[order]
    uses = np.bincount(mb, minlength=n).astype(np.float64)
    weight = (uses * (uses - 1))[order]
    all_a, all_b = prior[ia], prior[ib]
    before = smd(all_a, all_b)
    after: float | None = None
    pooled = math.sqrt((float(np.var(all_a, ddof=1)) + float(np.var(all_b, ddof=1))) / 2)
    if all_a.shape[0] >= 2 and pooled > 0:
        after = float((prior[ma].mean() - prior[mb].mean()) / pooled)
    xb = _demean(prior[ib], groups[ib], count)
    sxx = float(xb @ xb)
    out: list[MatchingEstimate | None] = []
    for y in ys:
        # slope of y on prior within b (one intercept per stratum), for the bias correction
        yb = _demean(y[ib], groups[ib], count)
        slope = float(xb @ yb) / sxx if sxx > 0 else 0.0
        pair = y[ma] - (y[mb] + slope * (prior[ma] - prior[mb]))
        estimate = float(pair.mean())
        # conditional variance of each member of b: (y - y of its neighbour)^2 / 2
        variance_b = np.where(alone, 0.0, (y[order] - y[neighbour]) ** 2 / 2)
        variance = (
            float(((pair - estimate) ** 2).sum()) + float((weight * variance_b).sum())
        ) / n_a**2
        se = math.sqrt(variance) if variance > 0 else math.nan
        if se > 0 and math.isfinite(se):
            p = float(2 * ndtr(-abs(estimate / se)))
            half = 1.959963984540054 * se
        else:
            p = half = math.nan
        out.append(
            MatchingEstimate(
                n_a=n_a,
                n_b_used=int(np.count_nonzero(uses)),
                unmatched=int(ia.shape[0]) - n_a,
                estimate=estimate,
                se=_clean(se),
                p_value=_clean(p),
                ci_low=_clean(estimate - half),
                ci_high=_clean(estimate + half),
                smd_before=before,
                smd_after=after,
            )
        )
    return out


# --------------------------------------------------------------------------- both, per outcome


@dataclass(frozen=True)
class AdjustedOutcome:
    """One outcome (mark, pass, D/F/W) adjusted both ways."""

    regression: RegressionEstimate | None
    matching: MatchingEstimate | None


@dataclass(frozen=True)
class AdjustedComparison:
    """Group a against group b adjusted for prior attainment.

    `status`: `estimated`; `suppressed` (a group has fewer than the minimum size with a prior
    and a result); `prior_missing` (prior attainment missing for more than the allowed share of
    a group's students with a result: no estimate, `note` says so); `no_prior` (none at all).
    """

    group_a: str
    group_b: str
    status: Status
    note: str | None = None
    #: students with a result in each group, and how many of them have no prior attainment
    with_result_a: int | None = None
    with_result_b: int | None = None
    prior_missing_a: int | None = None
    prior_missing_b: int | None = None
    outcome: AdjustedOutcome | None = None
    pass_rate: AdjustedOutcome | None = None
    dfw_rate: AdjustedOutcome | None = None


def _estimates(
    outcomes: list[tuple[FloatArray, bool]],
    a: BoolArray,
    prior: FloatArray,
    strata: IntArray | None,
    min_size: int,
) -> list[AdjustedOutcome | None]:
    """Each (outcome, robust) over the rows where it is not NaN, by regression and matching;
    None where a side has fewer than `min_size` values. Outcomes complete on every row share
    their matches."""
    out: list[AdjustedOutcome | None] = [None] * len(outcomes)
    complete = [i for i, (y, _) in enumerate(outcomes) if not np.isnan(y).any()]
    if complete and min(int(np.count_nonzero(a)), int(np.count_nonzero(~a))) >= max(min_size, 2):
        matched = matching_many([outcomes[i][0] for i in complete], a, prior, strata)
        fitted = regression_many([outcomes[i] for i in complete], a, prior, strata)
        for i, r, m in zip(complete, fitted, matched, strict=True):
            out[i] = AdjustedOutcome(r, m)
    for i, (y, robust) in enumerate(outcomes):
        if i in complete:
            continue
        keep = ~np.isnan(y)
        if min(int(np.count_nonzero(a & keep)), int(np.count_nonzero(~a & keep))) < max(
            min_size, 2
        ):
            continue
        s = None if strata is None else strata[keep]
        out[i] = AdjustedOutcome(
            regression=regression(y[keep], a[keep], prior[keep], s, robust=robust),
            matching=matching(y[keep], a[keep], prior[keep], s),
        )
    return out


def adjusted_comparison(
    *,
    in_a: BoolArray,
    in_b: BoolArray,
    has_result: BoolArray,
    outcome: FloatArray,
    passed: BoolArray,
    dfw: BoolArray,
    prior: FloatArray,
    min_size: int,
    max_missing: float,
    keys: tuple[str, str] = ("a", "b"),
    labels: tuple[str, str] = ("group a", "group b"),
    strata: IntArray | None = None,
) -> AdjustedComparison:
    """Adjusted estimates of a minus b over the enrolments with a result (the outcome NaN where
    there is none, as a withdrawal's mark). Groups under `min_size` are suppressed; a group whose
    share of students with a result but no prior exceeds `max_missing` is not estimated."""
    ra, rb = in_a & has_result, in_b & has_result
    na, nb = int(np.count_nonzero(ra)), int(np.count_nonzero(rb))
    if min(na, nb) < min_size:
        return AdjustedComparison(*keys, status="suppressed")
    missing = np.isnan(prior)
    ma, mb = int(np.count_nonzero(ra & missing)), int(np.count_nonzero(rb & missing))
    counts = AdjustedComparison(
        *keys,
        status="suppressed",
        with_result_a=na,
        with_result_b=nb,
        prior_missing_a=ma,
        prior_missing_b=mb,
    )
    if ma == na and mb == nb:
        return replace(
            counts, status="no_prior", note="no prior attainment was imported for these students"
        )
    short = [
        f"{m} of {n} {label} ({100 * m / n:.0f}%)"
        for m, n, label in ((ma, na, labels[0]), (mb, nb, labels[1]))
        if m > max_missing * n
    ]
    if short:
        return replace(
            counts,
            status="prior_missing",
            note=(
                "prior attainment is missing for "
                + " and ".join(short)
                + f", more than the {100 * max_missing:.0f}% allowed: no adjusted estimate"
            ),
        )
    rows = (ra | rb) & ~missing
    if min(int(np.count_nonzero(rows & in_a)), int(np.count_nonzero(rows & in_b))) < min_size:
        return counts
    group_a = in_a[rows]
    x = prior[rows]
    s = None if strata is None else strata[rows]
    note = None
    if ma or mb:
        note = f"{ma + mb} students without prior attainment left out of the adjusted estimates"
    mark, passes, dfws = _estimates(
        [
            (outcome[rows], False),
            (passed[rows].astype(np.float64), True),
            (dfw[rows].astype(np.float64), True),
        ],
        group_a,
        x,
        s,
        min_size,
    )
    return replace(
        counts, status="estimated", note=note, outcome=mark, pass_rate=passes, dfw_rate=dfws
    )
