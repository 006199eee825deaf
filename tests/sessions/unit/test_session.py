"""Given/when/then: scheduling, clashes, rescheduling, cancelling and rostering one session."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from passhub_sessions.domain.clashes import Booking
from passhub_sessions.domain.events import SwapAnswered, SwapRequested
from passhub_sessions.domain.session import (
    AnswerSwap,
    CancelSession,
    LeaderFacts,
    RequestSwap,
    RescheduleSession,
    RosterLeader,
    RosterLeaders,
    ScheduleSession,
    SwapLeader,
    UnrosterLeader,
    session_decider,
)
from passhub_shared.contracts.sessions import (
    LeaderRostered,
    LeaderUnrostered,
    SessionCancelled,
    SessionRescheduled,
    SessionScheduled,
)
from passhub_shared.messages.events import Event
from passhub_shared.web.errors import Conflict, Forbidden, NotFound, Rejected
from tests.sessions.builders import ALL_WEEK, SCHEME, at, available, leader, slot

START = at("2026-10-06", "14:00")
END = at("2026-10-06", "15:00")
BEFORE = at("2026-09-01", "09:00")


def schedule(**kwargs: object) -> ScheduleSession:
    values: dict[str, object] = {
        "session_id": "s1",
        "scheme_id": SCHEME,
        "starts_at": START,
        "ends_at": END,
        "room": "Physics 1.02",
        "capacity": 40,
        "teaching_week": "S1W3",
    }
    values.update(kwargs)
    return ScheduleSession(**values)  # type: ignore[arg-type]


def scheduled() -> list[Event]:
    return list(session_decider.given_when([], schedule()))


def rostered(*numbers: str) -> list[Event]:
    return [
        *scheduled(),
        *(LeaderRostered(session_id="s1", scheme_id=SCHEME, student_number=n) for n in numbers),
    ]


def facts(number: str, **kwargs: object) -> LeaderFacts:
    values: dict[str, object] = {
        "student_number": number,
        "appointment": leader(number),
        "availability": ALL_WEEK,
        "commitments": (),
    }
    values.update(kwargs)
    return LeaderFacts(**values)  # type: ignore[arg-type]


# --- scheduling and clashes ---


def test_scheduling_a_session() -> None:
    [event] = scheduled()
    assert isinstance(event, SessionScheduled)
    assert (event.starts_at, event.ends_at, event.room, event.capacity) == (
        START,
        END,
        "Physics 1.02",
        40,
    )


def test_a_room_clash_is_rejected_naming_the_clashing_session() -> None:
    other = Booking(
        "other-7",
        "2026-27-CHEM",
        at("2026-10-06", "14:30"),
        at("2026-10-06", "15:30"),
        "physics  1.02",
    )
    with pytest.raises(Conflict) as raised:
        session_decider.given_when([], schedule(room_bookings=(other,)))
    assert "other-7" in raised.value.message and "2026-27-CHEM" in raised.value.message
    assert raised.value.status_code == 409


def test_back_to_back_sessions_and_other_rooms_do_not_clash() -> None:
    before = Booking("b", SCHEME, at("2026-10-06", "13:00"), START, "Physics 1.02")
    elsewhere = Booking("e", SCHEME, START, END, "Physics 1.03")
    assert session_decider.given_when([], schedule(room_bookings=(before, elsewhere)))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"ends_at": START}, "invalid_times"),
        ({"ends_at": START + timedelta(hours=5)}, "too_long"),
        ({"room": "  "}, "invalid_room"),
        ({"capacity": 0}, "invalid_capacity"),
        ({"starts_at": START.replace(tzinfo=None)}, "naive_time"),
    ],
)
def test_a_bad_session_is_rejected(change: dict[str, object], code: str) -> None:
    with pytest.raises(Rejected) as raised:
        session_decider.given_when([], schedule(**change))
    assert raised.value.code == code


def test_a_session_is_scheduled_once() -> None:
    with pytest.raises(Conflict):
        session_decider.given_when(scheduled(), schedule())


# --- rescheduling, moving, cancelling ---


def test_rescheduling_moves_the_session() -> None:
    later = START + timedelta(hours=2)
    [event] = session_decider.given_when(
        scheduled(),
        RescheduleSession(later, later + timedelta(hours=1), "Physics 2.01", 30, BEFORE, "exam"),
    )
    assert isinstance(event, SessionRescheduled)
    assert (event.starts_at, event.room, event.capacity, event.reason) == (
        later,
        "Physics 2.01",
        30,
        "exam",
    )


def test_rescheduling_to_the_same_slot_changes_nothing() -> None:
    assert (
        session_decider.given_when(
            scheduled(), RescheduleSession(START, END, "Physics 1.02", 40, BEFORE)
        )
        == []
    )


def test_moving_into_a_booked_room_is_a_clash() -> None:
    taken = Booking("t", SCHEME, START, END, "Lecture Theatre A")
    with pytest.raises(Conflict, match="Lecture Theatre A"):
        session_decider.given_when(
            scheduled(),
            RescheduleSession(START, END, "Lecture Theatre A", 40, BEFORE, room_bookings=(taken,)),
        )


def test_rescheduling_onto_a_rostered_leaders_other_session_is_a_clash() -> None:
    later = START + timedelta(days=1)
    busy = Booking("busy-1", "2026-27-MATH", later, later + timedelta(hours=1))
    with pytest.raises(Conflict) as raised:
        session_decider.given_when(
            rostered("s100"),
            RescheduleSession(
                later,
                later + timedelta(hours=1),
                "Physics 1.02",
                40,
                BEFORE,
                leader_bookings={"s100": (busy,)},
            ),
        )
    assert "s100" in raised.value.message and "busy-1" in raised.value.message


def test_cancelling_needs_a_reason_and_keeps_the_session() -> None:
    with pytest.raises(Rejected) as raised:
        session_decider.given_when(scheduled(), CancelSession(" ", BEFORE))
    assert raised.value.code == "reason_required"

    [event] = session_decider.given_when(scheduled(), CancelSession("Strike action", BEFORE))
    assert isinstance(event, SessionCancelled) and event.reason == "Strike action"
    state = session_decider.fold([*scheduled(), event])
    assert state.cancelled and state.scheduled


def test_a_cancelled_session_cannot_be_cancelled_again_or_moved() -> None:
    history = [*scheduled(), SessionCancelled(session_id="s1", scheme_id=SCHEME, reason="x")]
    with pytest.raises(Conflict):
        session_decider.given_when(history, CancelSession("again", BEFORE))
    with pytest.raises(Rejected) as raised:
        session_decider.given_when(history, RescheduleSession(START, END, "Other", 40, BEFORE))
    assert raised.value.code == "cancelled"
    with pytest.raises(Rejected):
        session_decider.given_when(history, RosterLeader(facts("s100")))


def test_a_session_that_has_taken_place_cannot_be_cancelled() -> None:
    with pytest.raises(Rejected) as raised:
        session_decider.given_when(scheduled(), CancelSession("late", END + timedelta(minutes=1)))
    assert raised.value.code == "past"


def test_an_unknown_session() -> None:
    with pytest.raises(NotFound):
        session_decider.given_when([], CancelSession("x", BEFORE))


# --- rostering ---


def test_rostering_an_appointed_available_leader() -> None:
    [event] = session_decider.given_when(scheduled(), RosterLeader(facts("s100")))
    assert isinstance(event, LeaderRostered) and event.student_number == "s100"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"appointment": None}, "not_appointed"),
        ({"appointment": leader("s100", leader=False)}, "not_appointed"),
        ({"appointment": leader("s100", stood_down_from=date(2026, 10, 1))}, "stood_down"),
        ({"appointment": leader("s100", appointed_on=date(2026, 10, 7))}, "not_yet_appointed"),
        ({"availability": None}, "no_availability"),
        ({"availability": available(slot("tuesday", "15:00", "17:00"))}, "unavailable"),
        ({"availability": available(slot("tuesday", "09:00", "17:00", semester=2))}, "unavailable"),
        (
            {
                "availability": available(
                    slot("tuesday", "09:00", "17:00"), except_on=(date(2026, 10, 6),)
                )
            },
            "unavailable",
        ),
    ],
)
def test_who_cannot_be_rostered(change: dict[str, object], code: str) -> None:
    with pytest.raises(Rejected) as raised:
        session_decider.given_when(scheduled(), RosterLeader(facts("s100", **change)))
    assert raised.value.code == code
    assert raised.value.status_code == 422


def test_a_leader_is_never_double_booked() -> None:
    elsewhere = Booking(
        "math-3", "2026-27-MATH", at("2026-10-06", "14:30"), at("2026-10-06", "15:30")
    )
    with pytest.raises(Conflict) as raised:
        session_decider.given_when(
            scheduled(), RosterLeader(facts("s100", commitments=(elsewhere,)))
        )
    assert "math-3" in raised.value.message


def test_rostering_twice_is_a_conflict() -> None:
    with pytest.raises(Conflict):
        session_decider.given_when(rostered("s100"), RosterLeader(facts("s100")))


def test_rostering_several_checks_each() -> None:
    events = session_decider.given_when(scheduled(), RosterLeaders((facts("s100"), facts("s101"))))
    assert [e.student_number for e in events if isinstance(e, LeaderRostered)] == ["s100", "s101"]
    with pytest.raises(Rejected):
        session_decider.given_when(
            scheduled(), RosterLeaders((facts("s100"), facts("s101", availability=None)))
        )


def test_unrostering_and_swapping() -> None:
    [off] = session_decider.given_when(rostered("s100"), UnrosterLeader("s100", "ill"))
    assert isinstance(off, LeaderUnrostered) and off.reason == "ill"
    with pytest.raises(Rejected):
        session_decider.given_when(scheduled(), UnrosterLeader("s100"))

    out, on = session_decider.given_when(
        rostered("s100", "s101"), SwapLeader("s100", facts("s102"))
    )
    assert isinstance(out, LeaderUnrostered) and out.student_number == "s100"
    assert isinstance(on, LeaderRostered) and on.student_number == "s102"
    assert session_decider.fold([*rostered("s100", "s101"), out, on]).rostered == ("s101", "s102")


def test_a_swap_gets_the_same_checks() -> None:
    with pytest.raises(Rejected) as raised:
        session_decider.given_when(
            rostered("s100"), SwapLeader("s100", facts("s102", appointment=None))
        )
    assert raised.value.code == "not_appointed"
    with pytest.raises(Conflict):
        session_decider.given_when(rostered("s100", "s101"), SwapLeader("s100", facts("s101")))


# --- swaps leaders ask each other for ---


def asked(*numbers: str, reason: str = "exam") -> list[Event]:
    """s100 (and any others) rostered; s100 asked s102 to take the session."""
    given = rostered(*numbers)
    return [
        *given,
        *session_decider.given_when(
            given, RequestSwap("w1", "s100", facts("s102"), BEFORE, reason)
        ),
    ]


def test_a_leader_asks_another_to_take_their_place() -> None:
    given = rostered("s100", "s101")
    [event] = session_decider.given_when(
        given, RequestSwap("w1", "s100", facts("s102"), BEFORE, " exam ")
    )
    assert isinstance(event, SwapRequested)
    assert (event.out, event.incoming.student_number, event.reason) == ("s100", "s102", "exam")
    state = session_decider.fold([*given, event])
    assert state.rostered == ("s100", "s101") and [s.swap_id for s in state.swaps] == ["w1"]


def test_a_swap_request_gets_the_rostering_checks() -> None:
    with pytest.raises(Rejected) as raised:
        session_decider.given_when(
            rostered("s100"), RequestSwap("w1", "s100", facts("s102", appointment=None), BEFORE)
        )
    assert raised.value.code == "not_appointed"
    with pytest.raises(Conflict):  # already on it
        session_decider.given_when(
            rostered("s100", "s101"), RequestSwap("w1", "s100", facts("s101"), BEFORE)
        )
    with pytest.raises(Rejected) as raised:  # not rostered, so nothing to swap
        session_decider.given_when(
            rostered("s101"), RequestSwap("w1", "s100", facts("s102"), BEFORE)
        )
    assert raised.value.code == "not_rostered"
    with pytest.raises(Rejected) as raised:
        session_decider.given_when(
            rostered("s100"), RequestSwap("w1", "s100", facts("s100"), BEFORE)
        )
    assert raised.value.code == "same_leader"
    with pytest.raises(Rejected) as raised:  # the session is over
        session_decider.given_when(
            rostered("s100"), RequestSwap("w1", "s100", facts("s102"), END + timedelta(minutes=1))
        )
    assert raised.value.code == "past"
    with pytest.raises(Conflict):  # the same leader asked twice
        session_decider.given_when(asked("s100"), RequestSwap("w2", "s100", facts("s102"), BEFORE))


def test_accepting_a_swap_changes_the_rota() -> None:
    given = asked("s100", "s101")
    answered, out, on = session_decider.given_when(
        given, AnswerSwap("w1", "s102", "accept", BEFORE, facts("s102"))
    )
    assert isinstance(answered, SwapAnswered) and answered.outcome == "accepted"
    assert isinstance(out, LeaderUnrostered) and (out.student_number, out.reason) == (
        "s100",
        "exam",
    )
    assert isinstance(on, LeaderRostered) and on.student_number == "s102"
    state = session_decider.fold([*given, answered, out, on])
    assert state.rostered == ("s101", "s102") and state.swaps == ()
    with pytest.raises(Conflict):  # answered already
        session_decider.given_when(
            [*given, answered, out, on], AnswerSwap("w1", "s102", "decline", BEFORE)
        )


def test_accepting_checks_the_leader_again() -> None:
    with pytest.raises(Rejected) as raised:  # no longer appointed by the time they accept
        session_decider.given_when(
            asked("s100"),
            AnswerSwap("w1", "s102", "accept", BEFORE, facts("s102", appointment=None)),
        )
    assert raised.value.code == "not_appointed"
    taken_off = [
        *asked("s100"),
        LeaderUnrostered(session_id="s1", scheme_id=SCHEME, student_number="s100"),
    ]
    with pytest.raises(Rejected) as raised:
        session_decider.given_when(
            taken_off, AnswerSwap("w1", "s102", "accept", BEFORE, facts("s102"))
        )
    assert raised.value.code == "not_rostered"


def test_declining_and_withdrawing_leave_the_rota_alone() -> None:
    [declined] = session_decider.given_when(
        asked("s100"), AnswerSwap("w1", "s102", "decline", BEFORE)
    )
    assert isinstance(declined, SwapAnswered) and declined.outcome == "declined"
    [withdrawn] = session_decider.given_when(
        asked("s100"), AnswerSwap("w1", "s100", "withdraw", BEFORE)
    )
    assert isinstance(withdrawn, SwapAnswered) and withdrawn.outcome == "withdrawn"
    assert session_decider.fold([*asked("s100"), withdrawn]).rostered == ("s100",)


def test_only_the_leaders_of_a_swap_answer_it() -> None:
    with pytest.raises(Forbidden):  # the one who asked cannot accept for the other
        session_decider.given_when(
            asked("s100"), AnswerSwap("w1", "s100", "accept", BEFORE, facts("s100"))
        )
    with pytest.raises(Forbidden):  # the one asked cannot withdraw it
        session_decider.given_when(asked("s100"), AnswerSwap("w1", "s102", "withdraw", BEFORE))
    with pytest.raises(Forbidden):
        session_decider.given_when(asked("s100"), AnswerSwap("w1", "s103", "decline", BEFORE))
    with pytest.raises(Conflict):
        session_decider.given_when(asked("s100"), AnswerSwap("nope", "s102", "decline", BEFORE))
