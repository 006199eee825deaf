"""Term dates and weekly series over the teaching weeks."""

from __future__ import annotations

from datetime import date, time

import pytest
from pydantic import ValidationError

from passhub_sessions.domain.recurrence import WeeklyPattern, weekly_series
from passhub_sessions.domain.terms import TermDates, semester_of_week
from passhub_shared.errors import Rejected
from tests.sessions.builders import LONDON, terms_2026

TUESDAY = 1


def test_the_default_year_has_22_teaching_weeks_without_reading_weeks_or_easter() -> None:
    weeks = terms_2026().teaching_weeks()

    assert len(weeks) == 22
    assert [w.label for w in weeks[:2]] == ["S1W1", "S1W2"]
    assert weeks[10].label == "S1W11" and weeks[11].label == "S2W1"
    mondays = {w.monday for w in weeks}
    assert date(2026, 10, 26) not in mondays  # reading week
    assert date(2027, 3, 29) not in mondays  # Easter
    assert date(2026, 11, 2) in mondays


def test_week_of_a_day() -> None:
    terms = terms_2026()
    assert terms.week_of(date(2026, 9, 22)).label == "S1W1"  # type: ignore[union-attr]
    assert terms.week_of(date(2026, 11, 3)).label == "S1W6"  # type: ignore[union-attr]
    assert terms.week_of(date(2026, 10, 27)) is None  # reading week
    assert terms.week_of(date(2027, 1, 5)) is None  # between semesters
    assert semester_of_week("S2W3") == 2 and semester_of_week(None) is None


def test_term_dates_are_validated() -> None:
    with pytest.raises(ValidationError):
        TermDates.model_validate(
            {
                "academic_year": "2026-28",
                "semesters": [
                    {"number": 1, "teaching_starts": "2026-09-21", "teaching_ends": "2026-12-11"}
                ],
            }
        )
    with pytest.raises(ValidationError):
        TermDates.model_validate(
            {
                "academic_year": "2026-27",
                "semesters": [
                    {"number": 1, "teaching_starts": "2026-12-21", "teaching_ends": "2026-12-11"}
                ],
            }
        )


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
