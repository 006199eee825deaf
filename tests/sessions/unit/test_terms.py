"""Term dates: teaching weeks, the week of a day, validation."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from passhub_sessions.domain.terms import TermDates, semester_of_week
from tests.sessions.builders import terms_2026


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
