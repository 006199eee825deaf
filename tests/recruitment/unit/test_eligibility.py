"""Given/when/then: the machine-checkable criteria, decided from the student records."""

from __future__ import annotations

from decimal import Decimal

import pytest

from passhub_recruitment.domain.application import application_decider
from passhub_shared.contracts.recruitment import ApplicationAssessed, CriterionOutcome
from tests.recruitment.unit.builders import record, submit


def assessment(command) -> ApplicationAssessed:
    events = application_decider.given_when([], command)
    assessed = [e for e in events if isinstance(e, ApplicationAssessed)]
    assert len(assessed) == 1
    return assessed[0]


def outcome(command, code: str) -> CriterionOutcome:
    return next(o for o in assessment(command).outcomes if o.code == code)


@pytest.mark.parametrize(
    ("mark", "met"),
    [
        ("59.99", False),
        ("59.999", False),
        ("60", True),
        ("60.00", True),
        ("60.01", True),
        ("0", False),
        ("100", True),
    ],
)
def test_the_60_percent_rule_is_exact_and_records_the_mark_it_used(mark: str, met: bool) -> None:
    result = outcome(submit(record(marks={1: Decimal(mark)})), "exam_marks")
    assert result.met is met
    assert result.verified is True
    assert result.mark_used == Decimal(mark)
    assert str(result.mark_used) == mark  # exactly as the record has it
    assert mark in result.evidence


def test_the_lowest_relevant_mark_decides_and_is_the_one_recorded() -> None:
    command = submit(record(year_of_study=3, marks={1: Decimal("75"), 2: Decimal("59.99")}))
    result = outcome(command, "exam_marks")
    assert result.met is False
    assert result.mark_used == Decimal("59.99")
    assert "year 1: 75" in result.evidence and "year 2: 59.99" in result.evidence


def test_third_year_marks_are_not_relevant() -> None:
    the_record = record(
        year_of_study=3, marks={1: Decimal("65"), 2: Decimal("61"), 3: Decimal("40")}
    )
    result = outcome(submit(the_record), "exam_marks")
    assert result.met is True
    assert result.mark_used == Decimal("61")


def test_a_first_year_without_marks_yet_is_pending_not_failed() -> None:
    result = outcome(submit(record(year_of_study=1, marks={}), year_of_study=1), "exam_marks")
    assert result.met is None
    assert result.verified is False


def test_a_missing_past_year_mark_leaves_the_rule_pending() -> None:
    result = outcome(submit(record(year_of_study=2, marks={})), "exam_marks")
    assert result.met is None
    assert "year 1" in result.evidence


def test_a_postgraduate_or_a_student_of_another_school_is_not_eligible() -> None:
    postgraduate = outcome(
        submit(record(level="postgraduate taught"), level="postgraduate taught"), "undergraduate"
    )
    assert postgraduate.met is False and postgraduate.verified is True
    elsewhere = outcome(submit(record(school="History"), school="History"), "undergraduate")
    assert elsewhere.met is False
    assert "not participating" in elsewhere.evidence


def test_an_undergraduate_of_a_participating_school_is_eligible_verified() -> None:
    result = outcome(submit(record(level="UG", school="physics")), "undergraduate")
    assert result.met is True
    assert result.verified is True
    assert result.assessed_by == "system"


def test_with_no_record_behind_it_self_declared_data_is_unverified() -> None:
    command = submit(no_record=True, exam_marks={1: Decimal("70")})
    enrolment = outcome(command, "undergraduate")
    marks = outcome(command, "exam_marks")
    assert (enrolment.met, enrolment.verified) == (True, False)
    assert (marks.met, marks.verified) == (True, False)
    assert "self-declared" in enrolment.evidence and "self-declared" in marks.evidence
    assert assessment(command).appointable is False


def test_a_mark_the_record_lacks_is_taken_from_the_application_unverified() -> None:
    the_record = record(year_of_study=3, marks={1: Decimal("70")})
    command = submit(the_record, year_of_study=3, exam_marks={2: Decimal("65")})
    result = outcome(command, "exam_marks")
    assert (result.met, result.verified) == (True, False)


def test_a_self_declared_fail_is_still_a_fail() -> None:
    result = outcome(submit(no_record=True, exam_marks={1: Decimal("55")}), "exam_marks")
    assert result.met is False
    assert result.mark_used == Decimal("55")


@pytest.mark.parametrize(
    ("declared", "field", "criterion"),
    [
        ({"school": "Chemistry"}, "school", "undergraduate"),
        ({"name": "Ada King"}, "name", "undergraduate"),
        ({"email": "someone@else.org"}, "email", "undergraduate"),
        ({"level": "postgraduate"}, "level", "undergraduate"),
        ({"year_of_study": 3}, "year_of_study", "exam_marks"),
        ({"exam_marks": {1: Decimal("75")}}, "year1_mark", "exam_marks"),
    ],
)
def test_data_that_does_not_match_the_record_is_flagged_not_accepted(
    declared: dict, field: str, criterion: str
) -> None:
    result = assessment(submit(**declared))
    assert [m.field for m in result.mismatches] == [field]
    assert result.mismatches[0].criterion == criterion
    flagged = next(o for o in result.outcomes if o.code == criterion)
    assert flagged.met is None
    assert flagged.verified is False
    assert "does not match the student record" in flagged.evidence
    assert result.appointable is False


def test_case_and_spacing_are_not_mismatches() -> None:
    result = assessment(submit(name="  ada   LOVELACE ", email="ADA@example.ac.uk"))
    assert result.mismatches == []


def test_an_equal_mark_written_differently_is_not_a_mismatch() -> None:
    result = assessment(submit(exam_marks={1: Decimal("71.5")}))
    assert result.mismatches == []


def test_personal_qualities_wait_for_an_assessor() -> None:
    result = assessment(submit())
    pending = [o.code for o in result.outcomes if o.met is None]
    assert "friendly" in pending and "teamwork" in pending
    assert result.essentials_met == 2
    assert result.essentials_total == 9
    assert result.desirables_met == 0
    assert result.appointable is False
