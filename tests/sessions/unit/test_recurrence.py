"""Weekly series over the teaching weeks."""

from __future__ import annotations

from datetime import date, time

import pytest

from passhub_sessions.domain.recurrence import WeeklyPattern, weekly_series
from passhub_shared.web.errors import Rejected
from tests.sessions.builders import LONDON, terms_2026

TUESDAY = 1


def test_a_weekly_series_runs_through_both_semesters_skipping_breaks() -> None:
    plan = weekly_series(WeeklyPattern(TUESDAY, time(14), time(15)), terms_2026(), LONDON)

    assert len(plan.occurrences) == 22
    days = [o.starts_at.date() for o in plan.occurrences]
    assert date(2026, 10, 27) not in days  # reading week
    assert date(2027, 3, 23) not in days and date(2027, 3, 30) not in days  # Easter
    assert all(d.weekday() == TUESDAY for d in days)
    assert [o.teaching_week for o in plan.occurrences[:3]] == ["S1W1", "S1W2", "S1W3"]
    assert "RRULE:FREQ=WEEKLY" in plan.rule and "EXDATE:" in plan.rule


def test_a_series_keeps_local_time_across_the_clock_change() -> None:
    plan = weekly_series(WeeklyPattern(TUESDAY, time(14), time(15)), terms_2026(), LONDON)

    before = plan.occurrences[0].starts_at  # 22 Sep 2026, BST
    after = plan.occurrences[5].starts_at  # 3 Nov 2026, GMT
    assert before.astimezone(LONDON).hour == after.astimezone(LONDON).hour == 14
    assert before.utcoffset() != after.utcoffset()


def test_a_series_for_one_semester_skipping_a_week_fortnightly() -> None:
    pattern = WeeklyPattern(
        TUESDAY, time(14), time(15), semesters=(2,), skip_weeks=frozenset({"S2W3"}), interval=2
    )
    plan = weekly_series(pattern, terms_2026(), LONDON)

    labels = [o.teaching_week for o in plan.occurrences]
    assert all(label.startswith("S2") for label in labels)
    assert "S2W3" not in labels
    assert len(labels) < 11


@pytest.mark.parametrize(
    ("pattern", "code"),
    [
        (WeeklyPattern(TUESDAY, time(15), time(14)), "invalid_times"),
        (WeeklyPattern(TUESDAY, time(14), time(15), semesters=(3,)), "unknown_semester"),
        (
            WeeklyPattern(TUESDAY, time(14), time(15), skip_weeks=frozenset({"S1W40"})),
            "unknown_week",
        ),
        (WeeklyPattern(9, time(14), time(15)), "invalid_weekday"),
        (WeeklyPattern(TUESDAY, time(14), time(15), semesters=()), "no_semester"),
    ],
)
def test_bad_patterns_are_rejected(pattern: WeeklyPattern, code: str) -> None:
    with pytest.raises(Rejected) as raised:
        weekly_series(pattern, terms_2026(), LONDON)
    assert raised.value.code == code
