"""Given/when/then: core training sessions and completions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from passhub_recruitment.domain.training import (
    Completion,
    RecordCompletions,
    RecordTrainingSession,
    core_hours,
    training_decider,
)
from passhub_shared.contracts.recruitment import TrainingCompleted
from passhub_shared.web.errors import Conflict, NotFound, Rejected

when = training_decider.given_when
SESSION = RecordTrainingSession(
    training_id="2026-27-core-1",
    academic_year="2026-27",
    title="Core training day",
    held_on=date(2026, 5, 20),
    hours=Decimal("6"),
)


def given_session() -> list:
    return when([], SESSION)


def test_completions_default_to_the_whole_session() -> None:
    events = when(
        given_session(),
        RecordCompletions([Completion("S1"), Completion("S2", Decimal("3.5"))]),
    )
    completed = [e for e in events if isinstance(e, TrainingCompleted)]
    assert len(completed) == len(events)
    assert [(e.student_number, e.hours) for e in completed] == [("S1", 6.0), ("S2", 3.5)]
    assert completed[0].completed_on == date(2026, 5, 20)
    assert completed[0].academic_year == "2026-27"


def test_a_completion_is_recorded_once() -> None:
    given = given_session()
    given += when(given, RecordCompletions([Completion("S1")]))
    with pytest.raises(Conflict, match="S1"):
        when(given, RecordCompletions([Completion("S1")]))


@pytest.mark.parametrize(
    "completions",
    [
        [],
        [Completion("S1"), Completion("S1")],
        [Completion("S1", Decimal("6.5"))],
        [Completion("S1", Decimal("0"))],
        [Completion("not a number!")],
    ],
)
def test_bad_completions_are_refused(completions: list[Completion]) -> None:
    with pytest.raises(Rejected):
        when(given_session(), RecordCompletions(completions))


def test_completions_need_a_session() -> None:
    with pytest.raises(NotFound):
        when([], RecordCompletions([Completion("S1")]))


def test_a_session_is_recorded_once_and_must_make_sense() -> None:
    with pytest.raises(Conflict):
        when(given_session(), SESSION)
    for bad in (
        {"hours": Decimal("0")},
        {"hours": Decimal("25")},
        {"title": " "},
        {"academic_year": "26-27"},
    ):
        command = RecordTrainingSession(**{**SESSION.__dict__, **bad})
        with pytest.raises(Rejected):
            when([], command)


def test_only_core_hours_count() -> None:
    assert core_hours([(Decimal("3"), True), (Decimal("2.5"), True), (Decimal("4"), False)]) == (
        Decimal("5.5")
    )
    assert core_hours([]) == Decimal(0)
