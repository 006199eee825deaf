"""Given/when/then: the sign-in rules, the same for every way of signing in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from passhub_attendance.domain.attendance import Revoke, SignIn, attendance, stream_id
from passhub_attendance.domain.model import SessionView, Window
from passhub_shared.contracts.attendance import AttendanceRevoked, LeaderSignedIn, StudentSignedIn
from passhub_shared.web.errors import Forbidden, NotFound, Rejected

START = datetime(2026, 10, 5, 14, 0, tzinfo=UTC)
END = START + timedelta(hours=1)
WINDOW = Window(open_before=timedelta(minutes=15), late=timedelta(0))
SESSION = SessionView(
    session_id="S1",
    scheme_id="2026-27-PHYS",
    starts_at=START,
    ends_at=END,
    room="P/T/005",
    leaders=frozenset({"L100", "L200"}),
    modules=("PHYS101", "PHYS102"),
)


def sign_in(
    student: str = "1234567",
    at: datetime = START,
    now: datetime | None = None,
    session: SessionView | None = SESSION,
    method: str = "qr",
    as_leader: bool = False,
    window: Window = WINDOW,
) -> SignIn:
    return SignIn(
        session_id="S1",
        session=session,
        student_number=student,
        method=method,  # type: ignore[arg-type]
        at=at,
        now=now or at,
        window=window,
        as_leader=as_leader,
    )


def signed_in(student: str = "1234567", method: str = "qr") -> StudentSignedIn:
    return StudentSignedIn(
        session_id="S1",
        scheme_id="2026-27-PHYS",
        modules=["PHYS101", "PHYS102"],
        student_number=student,
        signed_in_at=START,
        method=method,  # type: ignore[arg-type]
    )


def test_a_student_signs_in_during_the_session() -> None:
    then = attendance.given_when([], sign_in(at=START + timedelta(minutes=5)))
    assert then == [
        StudentSignedIn(
            session_id="S1",
            scheme_id="2026-27-PHYS",
            modules=["PHYS101", "PHYS102"],
            student_number="1234567",
            signed_in_at=START + timedelta(minutes=5),
            method="qr",
        )
    ]


@pytest.mark.parametrize(
    "at",
    [START - timedelta(minutes=15), END],
    ids=["exactly-when-it-opens", "exactly-when-it-closes"],
)
def test_the_window_edges_are_open(at: datetime) -> None:
    [event] = attendance.given_when([], sign_in(at=at))
    assert isinstance(event, StudentSignedIn) and event.signed_in_at == at


def test_a_microsecond_before_it_opens_is_refused() -> None:
    with pytest.raises(Rejected) as refused:
        attendance.given_when([], sign_in(at=START - timedelta(minutes=15, microseconds=1)))
    assert refused.value.code == "sign_in_not_open"
    assert "opens at 2026-10-05 13:45 UTC" in refused.value.message


LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("day", "local_end"),
    [
        # the clocks go back at 02:00 BST on Sunday 25 October 2026
        (datetime(2026, 10, 24, 13, 0, tzinfo=UTC), "2026-10-24 15:00 BST"),
        (datetime(2026, 10, 26, 13, 0, tzinfo=UTC), "2026-10-26 14:00 GMT"),
        # and go forward at 01:00 GMT on Sunday 28 March 2027
        (datetime(2027, 3, 27, 13, 0, tzinfo=UTC), "2027-03-27 14:00 GMT"),
        (datetime(2027, 3, 29, 13, 0, tzinfo=UTC), "2027-03-29 15:00 BST"),
    ],
)
def test_messages_give_the_institutions_local_time_either_side_of_a_clock_change(
    day: datetime, local_end: str
) -> None:
    """A session from 13:00 to 14:00 UTC: its window closes at 15:00 in London in summer
    time and at 14:00 in winter, and the message says so, with the zone."""
    session = SessionView("S1", "2026-27-PHYS", day, day + timedelta(hours=1))
    late = day + timedelta(hours=2)
    command = SignIn("S1", session, "1234567", "qr", late, late, WINDOW, tz=LONDON)
    with pytest.raises(Rejected) as refused:
        attendance.given_when([], command)
    assert refused.value.message == f"sign-in to session S1 closed at {local_end}"
    assert "UTC" not in refused.value.message


def test_a_microsecond_after_it_closes_is_refused() -> None:
    with pytest.raises(Rejected) as refused:
        attendance.given_when([], sign_in(at=END + timedelta(microseconds=1)))
    assert refused.value.code == "sign_in_closed"


def test_late_sign_in_is_configurable() -> None:
    late = Window(open_before=timedelta(minutes=15), late=timedelta(minutes=10))
    at = END + timedelta(minutes=10)
    assert attendance.given_when([], sign_in(at=at, window=late))
    with pytest.raises(Rejected):
        attendance.given_when([], sign_in(at=at + timedelta(seconds=1), window=late))


def test_opening_time_is_configurable() -> None:
    early = Window(open_before=timedelta(minutes=30))
    assert attendance.given_when([], sign_in(at=START - timedelta(minutes=30), window=early))


def test_a_cancelled_session_takes_no_sign_in() -> None:
    cancelled = SessionView(**{**SESSION.__dict__, "cancelled": True})
    with pytest.raises(Rejected) as refused:
        attendance.given_when([], sign_in(session=cancelled))
    assert refused.value.code == "session_cancelled"


def test_an_unscheduled_session_takes_no_sign_in() -> None:
    with pytest.raises(NotFound):
        attendance.given_when([], sign_in(session=None))


def test_signing_in_twice_is_one_attendance() -> None:
    assert attendance.given_when([signed_in()], sign_in(at=START + timedelta(minutes=20))) == []


def test_twice_is_one_whatever_the_way() -> None:
    assert attendance.given_when([signed_in(method="kiosk")], sign_in(method="leader")) == []


def test_a_second_sign_in_after_the_window_still_answers_with_the_attendance() -> None:
    """Pressing "sign in" again after the end is not an error: the attendance stands."""
    assert attendance.given_when([signed_in()], sign_in(at=END + timedelta(hours=1))) == []


def test_a_rostered_leader_signs_in_as_leader() -> None:
    [event] = attendance.given_when([], sign_in(student="L100", as_leader=True, method="leader"))
    assert event == LeaderSignedIn(
        session_id="S1",
        scheme_id="2026-27-PHYS",
        student_number="L100",
        signed_in_at=START,
        method="leader",
    )


def test_a_leader_not_rostered_cannot_sign_in_as_leader() -> None:
    with pytest.raises(Forbidden) as refused:
        attendance.given_when([], sign_in(student="L999", as_leader=True))
    assert "not rostered" in refused.value.message


def test_a_rostered_leader_at_the_kiosk_counts_as_leader() -> None:
    [event] = attendance.given_when([], sign_in(student="L200", method="kiosk"))
    assert isinstance(event, LeaderSignedIn)


def test_the_leader_rule_holds_outside_the_window_too() -> None:
    with pytest.raises(Rejected):
        attendance.given_when([], sign_in(student="L100", as_leader=True, at=END + timedelta(1)))


def test_an_imported_time_in_the_future_is_refused() -> None:
    with pytest.raises(Rejected) as refused:
        attendance.given_when(
            [], sign_in(at=START + timedelta(minutes=5), now=START, method="import")
        )
    assert refused.value.code == "sign_in_in_future"


def test_an_imported_sheet_is_checked_against_the_time_on_it() -> None:
    [event] = attendance.given_when(
        [], sign_in(at=START + timedelta(minutes=5), now=END + timedelta(days=3), method="import")
    )
    assert isinstance(event, StudentSignedIn) and event.method == "import"


def test_revoking_needs_a_reason() -> None:
    with pytest.raises(Rejected) as refused:
        attendance.given_when([signed_in()], Revoke("S1", "1234567", "  "))
    assert refused.value.code == "reason_required"


def test_revoking_an_attendance() -> None:
    then = attendance.given_when([signed_in()], Revoke("S1", "1234567", "left after 5 minutes"))
    assert then == [
        AttendanceRevoked(
            session_id="S1",
            scheme_id="2026-27-PHYS",
            student_number="1234567",
            role="student",
            reason="left after 5 minutes",
        )
    ]


def test_revoking_someone_not_signed_in_is_not_found() -> None:
    with pytest.raises(NotFound):
        attendance.given_when([], Revoke("S1", "1234567", "typo"))


def test_after_a_revocation_the_student_may_sign_in_again() -> None:
    revoked = AttendanceRevoked(
        session_id="S1",
        scheme_id="2026-27-PHYS",
        student_number="1234567",
        role="student",
        reason="wrong session",
    )
    [event] = attendance.given_when([signed_in(), revoked], sign_in())
    assert isinstance(event, StudentSignedIn)


def test_each_person_at_each_session_is_a_stream_of_its_own() -> None:
    assert stream_id("S1", "1234567") == "attendance-S1/1234567"
    assert stream_id("S1", "1234567") != stream_id("S1", "7654321")
