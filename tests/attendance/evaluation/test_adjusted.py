"""Estimates adjusted for prior attainment, on their own (no I/O): regression against
statsmodels, matching against a hand-worked example and a plain loop, and when not to estimate."""

from __future__ import annotations

import math

import numpy as np
import pytest
import statsmodels.api as sm

from passhub_attendance.evaluation.adjusted import (
    adjusted_comparison,
    matching,
    regression,
    smd,
)


def confounded(n: int, effect: float, seed: int) -> dict[str, np.ndarray]:
    """Students whose chance of coming depends strongly on prior attainment, and whose mark
    is 20 + 0.4 x prior + `effect` if they came, plus noise."""
    rng = np.random.default_rng(seed)
    prior = rng.normal(120, 20, n)
    came = rng.random(n) < 1 / (1 + np.exp(-(prior - 130) / 6))
    mark = 20 + 0.4 * prior + effect * came + rng.normal(0, 8, n)
    return {"prior": prior, "came": came, "mark": mark}


def statsmodels_fit(y, a, prior, strata=None, robust=False):
    columns = [a.astype(float), prior]
    if strata is None:
        columns.append(np.ones_like(prior))
    else:
        columns += [(strata == g).astype(float) for g in np.unique(strata)]
    model = sm.OLS(y, np.column_stack(columns))
    return model.fit(cov_type="HC1", use_t=True) if robust else model.fit()


@pytest.mark.parametrize("robust", [False, True])
@pytest.mark.parametrize("modules", [1, 4])
def test_regression_equals_statsmodels_ols(robust, modules):
    # given a confounded cohort, on one module or four with different mean marks
    data = confounded(600, 5.0, seed=modules)
    strata = np.arange(600) % modules if modules > 1 else None
    y = data["mark"] + (0 if strata is None else 3.0 * strata)
    if robust:
        y = (y > 70).astype(float)  # a 0/1 outcome: the linear probability model
    # when the difference is adjusted by regression
    mine = regression(y, data["came"], data["prior"], strata, robust=robust)
    # then every figure is statsmodels' OLS with a dummy per module
    fit = statsmodels_fit(y, data["came"], data["prior"], strata, robust)
    assert mine is not None
    assert mine.estimate == pytest.approx(fit.params[0], rel=1e-10)
    assert mine.prior_slope == pytest.approx(fit.params[1], rel=1e-10)
    assert mine.se == pytest.approx(fit.bse[0], rel=1e-9)
    assert mine.t == pytest.approx(fit.tvalues[0], rel=1e-9)
    assert mine.p_value == pytest.approx(fit.pvalues[0], rel=1e-7, abs=1e-300)
    low, high = fit.conf_int(0.05)[0]
    assert (mine.ci_low, mine.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert mine.df == fit.df_resid
    assert mine.method == ("linear_probability_hc1" if robust else "ancova_ols")
    assert mine.strata == modules


def test_regression_without_variation_gives_nothing():
    prior = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    y = np.array([1.0, 2.0, 3.0, 4.0, 6.0])
    assert regression(y, np.zeros(5, dtype=bool), prior) is None  # nobody in group a
    assert regression(y[:3], np.array([True, False, True]), prior[:3]) is None  # df = 0


def test_matching_worked_by_hand():
    # given group b on the line y = 10 + 2x, and two members of a
    x = np.array([1.0, 5.0, 0.0, 2.0, 6.0, 10.0])
    y = np.array([20.0, 25.0, 10.0, 14.0, 22.0, 30.0])
    a = np.array([True, True, False, False, False, False])
    # when matched on x
    m = matching(y, a, x)
    # then x=1 is matched with x=0 (a tie with 2: the lower) and x=5 with x=6; bias-corrected
    # counterfactuals 10 + 2(1-0) = 12 and 22 + 2(5-6) = 20, differences 8 and 5
    assert m is not None
    assert m.estimate == pytest.approx(6.5)
    assert (m.n_a, m.n_b_used, m.unmatched) == (2, 2, 0)
    # each match used once: variance = ((8-6.5)^2 + (5-6.5)^2) / 2^2
    assert m.se == pytest.approx(math.sqrt(4.5 / 4))
    assert m.ci_low == pytest.approx(6.5 - 1.959963984540054 * math.sqrt(4.5 / 4))
    # balance: a's mean 3 against b's 4.5, pooled SD sqrt((8 + 59/3) / 2); after: 3 against 3
    assert m.smd_before == pytest.approx(-1.5 / math.sqrt((8 + 59 / 3) / 2))
    assert m.smd_after == pytest.approx(0.0)


def loop_matching(y, a, x, strata):
    """The same estimate written as plainly as possible, to compare with."""
    a_rows = [i for i in range(len(y)) if a[i]]
    b_rows = [i for i in range(len(y)) if not a[i]]
    # slope of y on x within b, with an intercept per stratum
    bx = np.array([x[i] for i in b_rows])
    by = np.array([y[i] for i in b_rows])
    design = np.column_stack(
        [bx] + [np.array([strata[i] == g for i in b_rows], float) for g in sorted(set(strata))]
    )
    slope = np.linalg.lstsq(design, by, rcond=None)[0][0]
    pairs, uses = [], {}
    for i in a_rows:
        same = [j for j in b_rows if strata[j] == strata[i]]
        j = min(same, key=lambda j: (abs(x[i] - x[j]), x[j]))
        pairs.append(y[i] - (y[j] + slope * (x[i] - x[j])))
        uses[j] = uses.get(j, 0) + 1
    tau = sum(pairs) / len(pairs)
    total = sum((p - tau) ** 2 for p in pairs)
    for j, k in uses.items():
        others = [o for o in b_rows if strata[o] == strata[j] and o != j]
        nearest = min(others, key=lambda o: (abs(x[o] - x[j]), x[o]))
        total += k * (k - 1) * (y[j] - y[nearest]) ** 2 / 2
    return tau, math.sqrt(total) / len(pairs)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matching_equals_a_plain_loop(seed):
    rng = np.random.default_rng(seed)
    n = 120
    x = np.round(rng.normal(100, 15, n), 3)  # distinct values: no ties to break
    a = rng.random(n) < 0.3
    strata = rng.integers(0, 3, n)
    y = 0.5 * x + 4 * a + rng.normal(0, 5, n)
    m = matching(y, a, x, strata)
    tau, se = loop_matching(y, a, x, strata)
    assert m is not None
    assert m.estimate == pytest.approx(tau, rel=1e-10)
    assert m.se == pytest.approx(se, rel=1e-10)


def test_smd():
    assert smd(np.array([1.0, 3.0]), np.array([2.0, 4.0])) == pytest.approx(-1 / math.sqrt(2))
    assert smd(np.array([1.0]), np.array([2.0, 4.0])) is None


def cohort_arrays(data, missing_prior=()):
    n = len(data["mark"])
    prior = data["prior"].copy()
    prior[list(missing_prior)] = np.nan
    return {
        "in_a": data["came"],
        "in_b": ~data["came"],
        "has_result": np.ones(n, dtype=bool),
        "outcome": data["mark"],
        "passed": data["mark"] >= 60,
        "dfw": data["mark"] < 60,
        "prior": prior,
    }


def test_a_planted_effect_is_found_where_the_raw_difference_is_far_from_it():
    # given participation driven by prior attainment and a planted effect of 5 marks
    data = confounded(3000, 5.0, seed=7)
    raw = data["mark"][data["came"]].mean() - data["mark"][~data["came"]].mean()
    assert raw > 15  # the raw difference is mostly who came
    # when adjusted
    adj = adjusted_comparison(
        **cohort_arrays(data), min_size=5, max_missing=0.2, keys=("regular", "non_participants")
    )
    # then both intervals contain 5, and matching brings prior attainment into balance
    assert adj.status == "estimated" and adj.outcome is not None
    reg, mat = adj.outcome.regression, adj.outcome.matching
    assert reg is not None and mat is not None
    assert reg.ci_low < 5.0 < reg.ci_high
    assert mat.ci_low < 5.0 < mat.ci_high
    assert mat.smd_before > 1.0 and abs(mat.smd_after) < 0.05
    assert adj.pass_rate is not None and adj.pass_rate.regression is not None
    assert adj.pass_rate.regression.method == "linear_probability_hc1"


def test_no_estimate_when_prior_attainment_is_missing_for_too_many():
    data = confounded(400, 5.0, seed=3)
    non = np.flatnonzero(~data["came"])
    # given a quarter of non-participants without prior attainment
    arrays = cohort_arrays(data, missing_prior=non[: len(non) // 4])
    # when adjusted, then it says so instead of estimating
    adj = adjusted_comparison(
        **arrays,
        min_size=5,
        max_missing=0.2,
        labels=("regular participants", "non-participants"),
    )
    assert adj.status == "prior_missing" and adj.outcome is None
    assert adj.prior_missing_b == len(non) // 4
    assert "non-participants (25%)" in (adj.note or "")
    assert "more than the 20% allowed" in (adj.note or "")
    # a tenth missing is within the limit: estimated without them, and said so
    arrays = cohort_arrays(data, missing_prior=non[: len(non) // 10])
    adj = adjusted_comparison(**arrays, min_size=5, max_missing=0.2)
    assert adj.status == "estimated" and adj.outcome is not None
    assert adj.outcome.regression is not None
    assert adj.outcome.regression.n == 400 - len(non) // 10
    assert "left out" in (adj.note or "")
    # no prior at all
    arrays = cohort_arrays(data, missing_prior=range(400))
    assert adjusted_comparison(**arrays, min_size=5, max_missing=0.2).status == "no_prior"


def test_small_groups_are_suppressed():
    data = confounded(400, 5.0, seed=4)
    came = np.flatnonzero(data["came"])
    data["came"][came[4:]] = False  # only 4 came
    adj = adjusted_comparison(**cohort_arrays(data), min_size=5, max_missing=0.2)
    assert adj.status == "suppressed" and adj.outcome is None and adj.with_result_a is None
