"""Candidates for one session: who is on it, who may be put on it, and why not the others."""

from __future__ import annotations

from datetime import date

from passhub_sessions.domain.clashes import Booking
from passhub_sessions.domain.rota import RotaSession, candidates_for
from tests.sessions.builders import ALL_WEEK, LONDON, SCHEME, at, available, leader, slot


def session(*rostered: str) -> RotaSession:
    return RotaSession(
        "t1", SCHEME, at("2026-10-06", "14:00"), at("2026-10-06", "15:00"), "S1W3", rostered
    )


def test_rostered_first_then_free_by_load_then_the_others_with_their_reason() -> None:
    leaders = [
        leader("a"),
        leader("b"),
        leader("c"),
        leader("d"),
        leader("e", stood_down_from=date(2026, 9, 30)),
    ]
    clash = Booking("other", "2026-27-CHEM", at("2026-10-06", "14:30"), at("2026-10-06", "15:30"))
    listed = candidates_for(
        session("a"),
        leaders,
        availability={
            "a": ALL_WEEK,
            "b": ALL_WEEK,
            "c": available(slot("monday", "09:00", "17:00")),
            "d": ALL_WEEK,
            "e": ALL_WEEK,
        },
        commitments={"d": [clash]},
        load={"a": 3, "b": 5},
        minimum=2,
        tz=LONDON,
    )

    assert [(c.student_number, c.rostered) for c in listed.candidates][:2] == [
        ("a", True),
        ("b", False),
    ]
    by = {c.student_number: c for c in listed.candidates}
    assert by["b"].problem is None and by["b"].load == 5
    assert by["c"].problem is not None and by["c"].problem.kind == "unavailable"
    assert by["d"].problem is not None and by["d"].problem.kind == "clash"
    assert by["d"].problem.clash == clash
    assert by["e"].problem is not None and by["e"].problem.kind == "stood_down"
    assert (listed.needed, listed.rostered) == (2, 1)
    assert listed.why_short == (
        "1 free to add; of 4 other appointed leaders: 1 already booked then, "
        "1 stood down, 1 not available then"
    )


def test_a_full_session_is_not_short() -> None:
    listed = candidates_for(
        session("a", "b"),
        [leader("a"), leader("b")],
        availability={},
        commitments={},
        load={},
        minimum=2,
        tz=LONDON,
    )
    assert listed.why_short is None
    assert all(c.rostered for c in listed.candidates)


def test_nobody_to_ask_says_so() -> None:
    listed = candidates_for(
        session(), [], availability={}, commitments={}, load={}, minimum=2, tz=LONDON
    )
    assert listed.candidates == () and listed.why_short == "no other appointed leaders"


def test_a_short_session_with_a_free_leader_says_only_that() -> None:
    listed = candidates_for(
        session("a"),
        [leader("a"), leader("b")],
        availability={"a": ALL_WEEK, "b": ALL_WEEK},
        commitments={},
        load={},
        minimum=2,
        tz=LONDON,
    )
    assert listed.why_short == "1 free to add"
