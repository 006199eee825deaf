"""Who may do what: students only as themselves, leaders only on sessions they are rostered on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from passhub_attendance.domain import access
from passhub_attendance.domain.model import Actor, SessionView
from passhub_shared.web.errors import Forbidden

SESSION = SessionView(
    session_id="S1",
    scheme_id="X",
    starts_at=datetime(2026, 10, 5, 14, tzinfo=UTC),
    ends_at=datetime(2026, 10, 5, 15, tzinfo=UTC),
    leaders=frozenset({"L1"}),
)


def who(sub: str, *roles: str, organises: tuple[str, ...] = ()) -> Actor:
    return Actor(sub, frozenset(roles), frozenset(organises))


#: an organiser of scheme X (SESSION's), and one of another scheme
OWN = who("o", "organiser", organises=("X",))
OTHER = who("p", "organiser", organises=("Y",))


def test_a_student_signs_in_as_themself() -> None:
    access.may_sign_in_self(who("123", "student"), "123")


def test_a_student_cannot_sign_in_as_someone_else() -> None:
    with pytest.raises(Forbidden) as refused:
        access.may_sign_in_self(who("123", "student"), "456")
    assert "cannot sign in 456" in refused.value.message


def test_staff_do_not_sign_themselves_in_to_sessions() -> None:
    with pytest.raises(Forbidden):
        access.may_sign_in_self(who("c1", "coordinator"), "c1")


def test_only_a_rostered_leader_adds_by_hand() -> None:
    access.may_add_by_hand(who("L1", "leader"), SESSION)
    with pytest.raises(Forbidden):
        access.may_add_by_hand(who("L2", "leader"), SESSION)
    with pytest.raises(Forbidden):
        access.may_add_by_hand(who("L1", "student"), SESSION)


def test_kiosk_accounts() -> None:
    access.may_use_kiosk(who("kiosk-P005", "integration"), SESSION)
    access.may_use_kiosk(who("L1", "leader"), SESSION)
    with pytest.raises(Forbidden):
        access.may_use_kiosk(who("L2", "leader"), SESSION)
    with pytest.raises(Forbidden):
        access.may_use_kiosk(who("123", "student"), SESSION)


def test_revocations() -> None:
    access.may_revoke(who("c", "coordinator"), SESSION)
    access.may_revoke(OWN, SESSION)
    access.may_revoke(who("o", "organiser"), None)
    access.may_revoke(who("L1", "leader"), SESSION)
    with pytest.raises(Forbidden):
        access.may_revoke(who("L2", "leader"), SESSION)
    with pytest.raises(Forbidden):
        access.may_revoke(who("123", "student"), SESSION)


def test_students_read_only_their_own_history() -> None:
    access.may_read_student(who("123", "student"), "123")
    access.may_read_student(who("a", "academic"), "123")
    with pytest.raises(Forbidden):
        access.may_read_student(who("456", "student"), "123")


def test_imports_are_for_staff() -> None:
    access.may_import(who("c", "coordinator"))
    with pytest.raises(Forbidden):
        access.may_import(who("L1", "leader"))


def test_the_code_is_shown_by_rostered_leaders_and_staff() -> None:
    access.may_show_code(who("L1", "leader"), SESSION)
    access.may_show_code(OWN, SESSION)
    with pytest.raises(Forbidden):
        access.may_show_code(who("L2", "leader"), SESSION)
    later = SessionView(**{**SESSION.__dict__, "starts_at": SESSION.starts_at + timedelta(1)})
    with pytest.raises(Forbidden):
        access.may_show_code(who("123", "student"), later)


def test_an_organiser_of_another_scheme_acts_on_nothing_of_this_one() -> None:
    for check in (
        access.may_revoke,
        access.may_show_code,
        access.may_read_session,
        access.may_audit,
        access.feedback_view,
    ):
        with pytest.raises(Forbidden) as refused:
            check(OTHER, SESSION)
        assert "does not organise scheme X" in refused.value.message
    with pytest.raises(Forbidden):
        access.may_import(OTHER, [SESSION])
    with pytest.raises(Forbidden):
        access.may_read_scheme(OTHER, "X")


def test_an_organiser_of_no_scheme_acts_on_none() -> None:
    nobody = who("n", "organiser")
    with pytest.raises(Forbidden):
        access.may_revoke(nobody, SESSION)
    with pytest.raises(Forbidden):
        access.may_import(nobody, [SESSION, None])


def test_a_sheet_needs_an_organiser_of_every_scheme_it_touches() -> None:
    other = SessionView(**{**SESSION.__dict__, "session_id": "S2", "scheme_id": "Y"})
    access.may_import(OWN, [SESSION])
    access.may_import(who("c", "coordinator"), [SESSION, other])
    with pytest.raises(Forbidden) as refused:
        access.may_import(OWN, [SESSION, other])
    assert "S2" in refused.value.message


def test_feedback_is_named_for_coordinators_and_anonymised_for_the_schemes_people() -> None:
    assert access.feedback_view(who("c", "coordinator"), SESSION) is access.FeedbackView.NAMED
    assert access.feedback_view(OWN, SESSION) is access.FeedbackView.ANONYMISED
    assert access.feedback_view(who("L1", "leader"), SESSION) is access.FeedbackView.ANONYMISED
    for outsider in (who("L2", "leader"), who("a", "academic"), who("1", "student")):
        with pytest.raises(Forbidden):
            access.feedback_view(outsider, SESSION)


def test_the_feedback_a_student_gave_is_for_them_alone() -> None:
    access.may_read_feedback_given(who("123", "student"), "123")
    for other in (who("456", "student"), who("c", "coordinator"), who("L1", "leader")):
        with pytest.raises(Forbidden) as refused:
            access.may_read_feedback_given(other, "123")
        assert refused.value.message == "you can see only the feedback you gave"
