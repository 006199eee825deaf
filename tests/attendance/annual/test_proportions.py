"""Wilson's and Newcombe's intervals against statsmodels, over many counts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from passhub_attendance.annual.proportions import newcombe, wilson


@st.composite
def counts(draw: st.DrawFn) -> tuple[int, int]:
    n = draw(st.integers(1, 5000))
    return draw(st.integers(0, n)), n


@settings(max_examples=300)
@given(counts())
def test_wilson_is_statsmodels_wilson(c: tuple[int, int]) -> None:
    low, high = wilson(*c)
    expected = proportion_confint(c[0], c[1], alpha=0.05, method="wilson")
    assert (low, high) == (
        pytest.approx(expected[0], abs=1e-12),
        pytest.approx(expected[1], abs=1e-12),
    )


@settings(max_examples=300)
@given(counts(), counts())
def test_newcombe_is_statsmodels_newcomb(a: tuple[int, int], b: tuple[int, int]) -> None:
    low, high = newcombe(a[0], a[1], b[0], b[1])
    expected = confint_proportions_2indep(a[0], a[1], b[0], b[1], method="newcomb")
    assert (low, high) == (
        pytest.approx(expected[0], abs=1e-9),
        pytest.approx(expected[1], abs=1e-9),
    )


def test_a_rate_of_nobody_is_refused() -> None:
    with pytest.raises(ValueError):
        wilson(0, 0)


def test_the_worked_example_23_of_25() -> None:
    # given 23 of 25 leaders with a positive outcome, when the interval is computed,
    # then it is Wilson's (Newcombe 1998, method 3): 75.0% to 97.8%
    low, high = wilson(23, 25)
    assert (round(low, 3), round(high, 3)) == (0.750, 0.978)
