"""Feedback: once per student per session, only after attending, optionally anonymous."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from passhub_attendance.domain.attendance import Presence, attendance
from passhub_attendance.domain.feedback import SubmitFeedback, decide_feedback, guard_of
from passhub_shared.contracts.attendance import LeaderSignedIn, StudentSignedIn
from passhub_shared.web.errors import Conflict, Rejected

AT = datetime(2026, 10, 5, 14, 5, tzinfo=UTC)
ATTENDED = attendance.fold(
    [
        StudentSignedIn(
            session_id="S1",
            scheme_id="PHYS",
            student_number="123",
            signed_in_at=AT,
            method="qr",
        )
    ]
)
LED = attendance.fold(
    [
        LeaderSignedIn(
            session_id="S1", scheme_id="PHYS", student_number="L1", signed_in_at=AT, method="qr"
        )
    ]
)


def feedback(student: str = "123", anonymous: bool = False, **ratings: int) -> SubmitFeedback:
    values = {"understanding": 5, "enjoyable": 4, "recommend": 5} | ratings
    return SubmitFeedback(
        feedback_id="f1",
        session_id="S1",
        student_number=student,
        guard=guard_of("key", "S1", student),
        comment="  the worked examples helped  ",
        anonymous=anonymous,
        **values,
    )


def test_named_feedback_carries_the_student_number() -> None:
    decision = decide_feedback(feedback(), ATTENDED, guard_taken=False)
    assert decision.feedback.student_number == "123"
    assert decision.feedback.scheme_id == "PHYS"
    assert decision.feedback.comment == "the worked examples helped"


def test_anonymous_feedback_carries_no_student_number() -> None:
    decision = decide_feedback(feedback(anonymous=True), ATTENDED, guard_taken=False)
    assert decision.feedback.student_number is None
    assert "123" not in decision.feedback.model_dump_json()
    assert "123" not in decision.guard.model_dump_json()
    assert decision.guard.guard == guard_of("key", "S1", "123")


def test_only_students_who_attended() -> None:
    with pytest.raises(Rejected) as refused:
        decide_feedback(feedback("999"), Presence(), guard_taken=False)
    assert refused.value.code == "not_attended"


def test_leaders_do_not_fill_the_students_sheet() -> None:
    with pytest.raises(Rejected):
        decide_feedback(feedback("L1"), LED, guard_taken=False)


def test_once_per_student_per_session() -> None:
    with pytest.raises(Conflict):
        decide_feedback(feedback(anonymous=True), ATTENDED, guard_taken=True)


@pytest.mark.parametrize("value", [0, 6])
def test_likert_items_are_one_to_five(value: int) -> None:
    with pytest.raises(Rejected):
        decide_feedback(feedback(recommend=value), ATTENDED, guard_taken=False)


def test_the_guard_depends_on_key_session_and_student() -> None:
    base = guard_of("key", "S1", "123")
    assert base != guard_of("other", "S1", "123")
    assert base != guard_of("key", "S2", "123")
    assert base != guard_of("key", "S1", "124")
    assert base == guard_of("key", "S1", "123")
