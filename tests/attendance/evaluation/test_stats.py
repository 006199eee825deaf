"""The statistics module on its own (no I/O): the hand-made cohort's figures worked out here."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from passhub_attendance.evaluation.groups import build_groups, find, parse_bands
from passhub_attendance.evaluation.settings import EvaluationSettings
from passhub_attendance.evaluation.stats import (
    Cohort,
    RawResult,
    Rules,
    agreement,
    classify,
    cohens_d,
    compare,
    fisher_exact_p,
    group_figures,
    mean_difference,
    welch,
)
from tests.attendance.evaluation.cohort import M1_ROWS, M2_ROWS

RULES = EvaluationSettings().rules()
GROUPS = build_groups(4, "1-4,5-9,10+")


def m1() -> Cohort:
    return Cohort.build(
        [s for _, s, _, _ in M1_ROWS],
        [RawResult(withdrawn=True) if m is None else RawResult(mark=m) for _, _, m, _ in M1_ROWS],
        [p for _, _, _, p in M1_ROWS],
        RULES,
    )


def figures(cohort: Cohort, key: str, min_size: int = 5):
    return group_figures(cohort, find(GROUPS, key), min_size)


def test_groups_and_band_edges():
    assert [g.key for g in GROUPS] == [
        "non_participants",
        "participants",
        "occasional",
        "regular",
        "sessions_1_4",
        "sessions_5_9",
        "sessions_10_plus",
    ]
    member = {g.key: [s for s in (0, 1, 3, 4, 5, 9, 10, 30) if g.contains(s)] for g in GROUPS}
    assert member["non_participants"] == [0]
    assert member["occasional"] == [1, 3]  # 3 is occasional, 4 is not
    assert member["regular"] == [4, 5, 9, 10, 30]
    assert member["sessions_1_4"] == [1, 3, 4]  # 4 is in 1-4, 5 is not
    assert member["sessions_5_9"] == [5, 9]  # 9 is in 5-9, 10 is not
    assert member["sessions_10_plus"] == [10, 30]
    edges = Cohort.build([3, 4, 5, 9, 10], [None] * 5, [None] * 5, RULES)
    counts = {g.key: figures(edges, g.key, min_size=1).count for g in GROUPS}
    assert counts == {
        "non_participants": None,  # 0 members < 1: suppressed
        "participants": 5,
        "occasional": 1,
        "regular": 4,
        "sessions_1_4": 2,
        "sessions_5_9": 2,
        "sessions_10_plus": 1,
    }


def test_bands_are_configurable():
    assert parse_bands("1-2, 3-5 ,6+") == [(1, 2), (3, 5), (6, None)]
    assert parse_bands("7") == [(7, 7)]
    for bad in ("0-3", "5-2", "1-", "x", ""):
        with pytest.raises(ValueError):
            parse_bands(bad)
    groups = build_groups(1, "1-2,3+")
    assert "occasional" not in [g.key for g in groups]  # regular from 1: no occasional group
    assert find(groups, "regular").low == 1
    assert [g.key for g in groups][-2:] == ["sessions_1_2", "sessions_3_plus"]


def test_hand_made_cohort_group_figures():
    cohort = m1()
    non = figures(cohort, "non_participants")
    assert (non.count, non.with_result, non.marks) == (6, 6, 6)
    assert non.mean_mark == pytest.approx(270 / 6)  # 40+50+60+35+55+30
    assert non.sd_mark == pytest.approx(math.sqrt(700 / 5))  # squares 25+25+225+100+100+225
    assert (non.passed, non.pass_rate) == (4, pytest.approx(4 / 6))  # 35 and 30 fail at 40
    assert (non.dfw, non.dfw_rate) == (2, pytest.approx(2 / 6))
    assert non.mean_prior == pytest.approx(125.0)

    occasional = figures(cohort, "occasional")
    assert occasional.count == 5
    assert occasional.mean_mark == pytest.approx(246 / 5)  # 45+50+52+38+61
    assert occasional.pass_rate == pytest.approx(4 / 5)  # 38 fails
    assert occasional.dfw_rate == pytest.approx(1 / 5)
    assert occasional.prior == 0 and occasional.mean_prior is None

    regular = figures(cohort, "regular")
    assert (regular.count, regular.with_result, regular.marks) == (9, 9, 8)  # s20 withdrew
    assert regular.mean_mark == pytest.approx(547 / 8)  # 58+62+70+64+66+72+75+80 = 68.375
    assert regular.pass_rate == pytest.approx(8 / 9)  # the withdrawal does not pass
    assert (regular.dfw, regular.dfw_rate) == (1, pytest.approx(1 / 9))  # ...and is a W
    assert regular.prior == 3 and regular.mean_prior is None  # 3 priors < 5: suppressed

    everyone = figures(cohort, "participants")
    assert everyone.count == 14
    assert everyone.mean_mark == pytest.approx(793 / 13)
    assert everyone.pass_rate == pytest.approx(12 / 14)
    assert everyone.dfw_rate == pytest.approx(2 / 14)

    band = figures(cohort, "sessions_1_4")
    assert band.count == 8
    assert band.mean_mark == pytest.approx(436 / 8)
    assert band.pass_rate == pytest.approx(7 / 8)

    for key in ("sessions_5_9", "sessions_10_plus"):  # 3 students each: suppressed
        small = figures(cohort, key)
        assert small.suppressed
        assert small.count is None and small.mean_mark is None and small.pass_rate is None


def test_suppression_threshold_is_configurable():
    cohort = m1()
    assert figures(cohort, "sessions_5_9", min_size=3).count == 3
    assert figures(cohort, "sessions_5_9", min_size=3).mean_mark == pytest.approx(202 / 3)
    assert figures(cohort, "sessions_10_plus", min_size=3).marks == 2
    # a mean of fewer values than the threshold is suppressed although the group is shown
    assert figures(cohort, "sessions_10_plus", min_size=3).mean_mark is None
    assert figures(cohort, "occasional", min_size=6).suppressed


def test_regular_against_non_participants_worked_by_hand():
    comparison = compare(m1(), find(GROUPS, "regular"), find(GROUPS, "non_participants"), 5)
    assert not comparison.suppressed and comparison.measure == "mark"
    o = comparison.outcome
    assert o is not None
    assert o.difference == pytest.approx(68.375 - 45.0)
    var_r, n_r = 367.875 / 7, 8  # regular marks: squared deviations sum to 367.875
    var_n, n_n = 700 / 5, 6
    se2 = var_r / n_r + var_n / n_n
    t = 23.375 / math.sqrt(se2)
    df = se2**2 / ((var_r / n_r) ** 2 / (n_r - 1) + (var_n / n_n) ** 2 / (n_n - 1))
    assert o.t == pytest.approx(t)
    assert o.df == pytest.approx(df)
    assert o.p_value == pytest.approx(2 * scipy_stats.t.sf(t, df))
    assert o.p_value < 0.01
    pooled = math.sqrt(((n_r - 1) * var_r + (n_n - 1) * var_n) / (n_r + n_n - 2))
    assert o.cohens_d == pytest.approx(23.375 / pooled)
    assert o.ci_low < 23.375 < o.ci_high
    assert comparison.pass_rate is not None
    assert comparison.pass_rate.difference == pytest.approx(8 / 9 - 4 / 6)
    assert 0 < comparison.pass_rate.p_value <= 1
    assert comparison.dfw_rate.difference == pytest.approx(1 / 9 - 2 / 6)
    assert comparison.prior is None  # the regulars have only 3 prior values

    level = compare(m1(), find(GROUPS, "regular"), find(GROUPS, "non_participants"), 3)
    assert level.prior is not None
    assert level.prior.difference == pytest.approx(140 - 125)


def test_comparison_with_a_small_group_is_suppressed():
    comparison = compare(
        m1(), find(GROUPS, "sessions_10_plus"), find(GROUPS, "non_participants"), 5
    )
    assert comparison.suppressed
    assert comparison.outcome is None and comparison.pass_rate is None


def test_grade_points_and_letter_grade_rules():
    cohort = Cohort.build(
        [s for _, s, _ in M2_ROWS], [RawResult(grade=g) for _, _, g in M2_ROWS], [None] * 10, RULES
    )
    assert cohort.measure == "grade_points"
    non = figures(cohort, "non_participants")
    assert non.mean_grade_points == pytest.approx((4 + 3 + 2 + 1 + 0) / 5)
    assert non.pass_rate == pytest.approx(4 / 5)  # only F fails
    assert non.dfw_rate == pytest.approx(2 / 5)  # D and F
    regular = figures(cohort, "regular")
    assert regular.mean_grade_points == pytest.approx((4 + 4 + 3 + 3 + 2) / 5)
    assert regular.pass_rate == 1.0 and regular.dfw_rate == 0.0
    diff = compare(cohort, find(GROUPS, "regular"), find(GROUPS, "non_participants"), 5).outcome
    assert diff is not None and diff.difference == pytest.approx(3.2 - 2.0)


def test_a_custom_grade_scale():
    rules = EvaluationSettings(
        grade_scale={"a+": 4.3, "A": 4.0, "B": 3.0, "E": 0.5, "F": 0},
        dfw_grades=["E", "F"],
        fail_grades=["F"],
    ).rules()
    mark, points, passed, dfw = classify(RawResult(grade="a+"), rules)
    assert math.isnan(mark) and points == 4.3 and passed and not dfw
    assert classify(RawResult(grade="E"), rules)[2:] == (True, True)  # passes, but is a D/F/W
    assert classify(RawResult(mark=39.5), rules)[2:] == (False, True)
    assert classify(RawResult(mark=39.5, passed=True), rules)[2:] == (True, False)  # as imported
    with pytest.raises(ValueError):
        EvaluationSettings(dfw_grades=["Z"])


def test_cohens_d_and_welch_edge_cases():
    same = np.array([50.0] * 6)
    assert cohens_d(same, same) is None  # no spread
    result = mean_difference(same, same + 1, 5)
    assert result is not None and result.difference == -1 and result.p_value is None
    assert mean_difference(np.array([1.0, 2.0]), np.array([1.0, 2.0, 3.0]), 2) is not None
    assert mean_difference(np.array([1.0, np.nan, np.nan]), np.array([1.0, 2.0, 3.0]), 2) is None


def test_agreement_counts_4_and_5_over_valid_responses():
    a = agreement({5: 3, 4: 1, 3: 1, 1: 1, 0: 7, 6: 2})  # 0 and 6 are not valid answers
    assert a.responses == 6
    assert a.agree == 4
    assert a.percent_agree == pytest.approx(400 / 6)
    assert a.mean == pytest.approx((15 + 4 + 3 + 1) / 6)
    assert a.distribution == {"1": 1, "2": 0, "3": 1, "4": 1, "5": 3}
    assert agreement({}).percent_agree is None


results = st.one_of(
    st.none(),
    st.builds(
        RawResult,
        mark=st.one_of(st.none(), st.floats(0, 100)),
        grade=st.one_of(st.none(), st.sampled_from(["A", "b", "C", "D", "F", "Z"])),
        passed=st.one_of(st.none(), st.booleans()),
        withdrawn=st.booleans(),
    ),
)


@given(st.lists(results, max_size=40))
def test_whole_columns_classify_like_one_result_at_a_time(rows):
    rules = Rules(grade_scale={"A": 4, "B": 3, "C": 2, "D": 1, "F": 0})
    by_row = Cohort.build([0] * len(rows), rows, [None] * len(rows), rules)
    by_column = Cohort.from_columns(
        [0] * len(rows),
        [r is not None for r in rows],
        [r.mark if r else None for r in rows],
        [r.grade if r else None for r in rows],
        [r.passed if r else None for r in rows],
        [r.withdrawn if r else None for r in rows],
        [None] * len(rows),
        rules,
    )
    for name in ("has_result", "passed", "dfw"):
        assert getattr(by_row, name).tolist() == getattr(by_column, name).tolist(), name
    for name in ("mark", "grade_points"):
        np.testing.assert_array_equal(getattr(by_row, name), getattr(by_column, name))


@given(
    st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30),
    st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30),
)
def test_welch_agrees_with_scipy(a, b):
    x, y = np.array(a), np.array(b)
    assume(np.var(x) > 1e-3 and np.var(y) > 1e-3)  # scipy itself warns of precision loss below
    t, df, p, low, high = welch(x, y)
    reference = scipy_stats.ttest_ind(x, y, equal_var=False)
    ci = reference.confidence_interval(0.95)
    assert t == pytest.approx(reference.statistic, rel=1e-6, abs=1e-9)
    assert df == pytest.approx(reference.df, rel=1e-6)
    assert p == pytest.approx(reference.pvalue, rel=1e-6, abs=1e-12)
    assert (low, high) == (
        pytest.approx(ci.low, rel=1e-6, abs=1e-6),
        pytest.approx(ci.high, rel=1e-6, abs=1e-6),
    )


@given(st.integers(0, 60), st.integers(0, 60), st.integers(0, 60), st.integers(0, 60))
def test_fisher_exact_agrees_with_scipy(a, b, c, d):
    expected = scipy_stats.fisher_exact([[a, b], [c, d]]).pvalue
    assert fisher_exact_p(a, b, c, d) == pytest.approx(expected, rel=1e-6, abs=1e-12)
