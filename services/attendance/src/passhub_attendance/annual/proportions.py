"""Confidence intervals for rates from counts: Wilson's score interval for one proportion and
Newcombe's hybrid score interval (his method 10) for a difference of two. Both stay inside
[0, 1] and behave with small groups and rates near 0 or 100%, where the normal approximation
does not. The tests check them against statsmodels."""

from __future__ import annotations

import math

from scipy.special import ndtri


def _z(level: float) -> float:
    return float(ndtri(1 - (1 - level) / 2))


def wilson(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    if n <= 0:
        raise ValueError("a rate needs at least one observation")
    z = _z(level)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(
    successes_a: int, n_a: int, successes_b: int, n_b: int, level: float = 0.95
) -> tuple[float, float]:
    """Interval for p_a - p_b."""
    p_a, p_b = successes_a / n_a, successes_b / n_b
    low_a, high_a = wilson(successes_a, n_a, level)
    low_b, high_b = wilson(successes_b, n_b, level)
    d = p_a - p_b
    low = d - math.sqrt((p_a - low_a) ** 2 + (high_b - p_b) ** 2)
    high = d + math.sqrt((high_a - p_a) ** 2 + (p_b - low_b) ** 2)
    return low, high
