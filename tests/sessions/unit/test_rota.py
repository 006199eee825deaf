"""Rota generation: examples, then properties checked on generated schemes (hypothesis); and
the candidates for one session: who is on it, who may be put on it, and why not the others."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from passhub_sessions.domain.availability import WEEKDAYS, Availability, Weekday
from passhub_sessions.domain.clashes import Booking
from passhub_sessions.domain.rota import (
    Appointment,
    RotaPlan,
    RotaRequest,
    RotaSession,
    candidates_for,
    generate_rota,
)
from tests.sessions.builders import ALL_WEEK, LONDON, SCHEME, at, available, leader, slot


def weekly(weeks: int, *times: tuple[str, str]) -> list[RotaSession]:
    """Sessions on Tuesdays from 6 Oct 2026, at the given (start, end) local times."""
    out = []
    for w in range(weeks):
        day = (date(2026, 10, 6) + timedelta(weeks=w)).isoformat()
        for i, (start, end) in enumerate(times):
            out.append(RotaSession(f"w{w}-{i}", SCHEME, at(day, start), at(day, end), "S1W3"))
    return out


def request(
    sessions: list[RotaSession], leaders: list[Appointment], **kwargs: object
) -> RotaRequest:
    values: dict[str, object] = {
        "sessions": sessions,
        "leaders": leaders,
        "availability": {a.student_number: ALL_WEEK for a in leaders},
        "commitments": {},
        "minimum": 2,
        "tz": LONDON,
    }
    values.update(kwargs)
    return RotaRequest(**values)  # type: ignore[arg-type]


def on(plan: RotaPlan, session_id: str) -> list[str]:
    return [a.student_number for a in plan.assignments if a.session_id == session_id]


def test_every_session_gets_two_leaders_spread_evenly() -> None:
    leaders = [leader(f"s{i}") for i in range(4)]
    plan = generate_rota(
        request(weekly(2, ("12:00", "13:00"), ("14:00", "15:00"), ("16:00", "17:00")), leaders)
    )

    assert plan.shortfalls == ()
    assert len(plan.assignments) == 12
    assert (plan.spread.min, plan.spread.max, plan.spread.mean, plan.spread.leaders) == (
        3,
        3,
        3.0,
        4,
    )


def test_a_session_that_cannot_be_filled_is_reported_with_why() -> None:
    leaders = [leader("s1"), leader("s2"), leader("s3")]
    availability = {"s1": ALL_WEEK, "s2": available(slot("friday", "09:00", "17:00"))}
    plan = generate_rota(request(weekly(1, ("14:00", "15:00")), leaders, availability=availability))

    assert on(plan, "w0-0") == ["s1"]
    [short] = plan.shortfalls
    assert (short.session_id, short.rostered, short.needed) == ("w0-0", 1, 2)
    assert "1 not available then" in short.reason and "1 no availability stated" in short.reason


def test_parallel_sessions_never_share_a_leader() -> None:
    leaders = [leader("s1"), leader("s2"), leader("s3")]
    plan = generate_rota(request(weekly(1, ("14:00", "15:00"), ("14:30", "15:30")), leaders))

    first, second = on(plan, "w0-0"), on(plan, "w0-1")
    assert not set(first) & set(second)
    assert len(first) + len(second) == 3
    assert len(plan.shortfalls) == 1


def test_leaders_already_rostered_stay_and_count_towards_fairness() -> None:
    sessions = weekly(2, ("14:00", "15:00"))
    sessions[0] = RotaSession(**{**sessions[0].__dict__, "rostered": ("s1",)})
    leaders = [leader("s1"), leader("s2"), leader("s3")]
    plan = generate_rota(request(sessions, leaders, prior_load={"s2": 5}))

    assert on(plan, "w0-0") == ["s3"]  # s1 stays; s2 already leads a lot elsewhere
    assert sorted(on(plan, "w1-0")) == ["s1", "s3"]


def test_stood_down_and_organiser_only_appointments_are_not_rostered() -> None:
    leaders = [
        leader("s1"),
        leader("s2", stood_down_from=date(2026, 10, 10)),
        leader("s3", leader=False),
    ]
    plan = generate_rota(request(weekly(2, ("14:00", "15:00")), leaders))

    assert sorted(on(plan, "w0-0")) == ["s1", "s2"]
    assert on(plan, "w1-0") == ["s1"]
    assert [s.session_id for s in plan.shortfalls] == ["w1-0"]
    assert "s3" not in plan.spread.per_leader


def test_other_commitments_are_respected() -> None:
    busy = Booking("maths-1", "2026-27-MATH", at("2026-10-06", "14:00"), at("2026-10-06", "16:00"))
    leaders = [leader("s1"), leader("s2"), leader("s3")]
    plan = generate_rota(
        request(weekly(1, ("14:00", "15:00")), leaders, commitments={"s1": [busy]})
    )

    assert sorted(on(plan, "w0-0")) == ["s2", "s3"]


def test_generation_is_deterministic() -> None:
    leaders = [leader(f"s{i}") for i in range(7)]
    sessions = weekly(5, ("12:00", "13:00"), ("16:00", "17:00"))
    assert generate_rota(request(sessions, leaders)) == generate_rota(
        request(list(reversed(sessions)), list(reversed(leaders)))
    )


# --- properties ------------------------------------------------------------------------------

MONDAY = date(2026, 10, 5)


@st.composite
def schemes(draw: st.DrawFn) -> RotaRequest:
    numbers = [f"L{i:02d}" for i in range(draw(st.integers(0, 8)))]
    leaders = [
        Appointment(
            student_number=n,
            leader=draw(st.booleans() | st.just(True)),
            appointed_on=MONDAY - timedelta(days=draw(st.integers(-7, 30))),
            stood_down_from=draw(
                st.none() | st.integers(0, 14).map(lambda d: MONDAY + timedelta(days=d))
            ),
        )
        for n in numbers
    ]
    sessions = []
    for i in range(draw(st.integers(1, 14))):
        day = MONDAY + timedelta(days=draw(st.integers(0, 11)))
        start = draw(st.integers(9 * 4, 17 * 4)) * 15
        length = draw(st.sampled_from([60, 60, 90, 120]))
        starts_at = datetime.combine(day, datetime.min.time(), tzinfo=LONDON) + timedelta(
            minutes=start
        )
        sessions.append(
            RotaSession(
                f"x{i:02d}", SCHEME, starts_at, starts_at + timedelta(minutes=length), "S1W3"
            )
        )

    def window() -> st.SearchStrategy[tuple[Weekday, int, int]]:
        return st.tuples(st.sampled_from(WEEKDAYS[:5]), st.integers(8, 16), st.integers(1, 6))

    availability = {}
    for n in numbers:
        windows = draw(st.none() | st.lists(window(), max_size=5))
        if windows is not None:
            availability[n] = Availability(
                slots=tuple(
                    slot(d, f"{h:02d}:00", f"{min(h + span, 23):02d}:00") for d, h, span in windows
                ),
                unavailable_dates=frozenset(
                    draw(
                        st.lists(
                            st.integers(0, 13).map(lambda d: MONDAY + timedelta(days=d)), max_size=2
                        )
                    )
                ),
            )
    commitments = {}
    for n in numbers:
        bookings = []
        for j in range(draw(st.integers(0, 2))):
            s = draw(st.sampled_from(sessions)).starts_at + timedelta(
                minutes=draw(st.sampled_from([-60, 0, 30, 120]))
            )
            bookings.append(
                Booking(f"elsewhere-{n}-{j}", "2026-27-MATH", s, s + timedelta(hours=1))
            )
        commitments[n] = bookings
    return RotaRequest(
        sessions=sessions,
        leaders=leaders,
        availability=availability,
        commitments=commitments,
        minimum=draw(st.integers(1, 3)),
        tz=LONDON,
    )


def _overlap(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _may_lead(req: RotaRequest, number: str, session: RotaSession) -> bool:
    """Appointed as a leader, still in post, available then (checked independently here)."""
    appointment = next((a for a in req.leaders if a.student_number == number), None)
    day = session.starts_at.astimezone(LONDON).date()
    if appointment is None or not appointment.leader:
        return False
    if appointment.appointed_on and day < appointment.appointed_on:
        return False
    if appointment.stood_down_from and day >= appointment.stood_down_from:
        return False
    availability = req.availability.get(number)
    if availability is None or day in availability.unavailable_dates:
        return False
    start, end = session.starts_at.astimezone(LONDON), session.ends_at.astimezone(LONDON)
    return any(
        s.weekday == WEEKDAYS[start.weekday()] and s.starts <= start.time() and end.time() <= s.ends
        for s in availability.slots
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schemes())
def test_a_generated_rota_keeps_every_rule(req: RotaRequest) -> None:
    plan = generate_rota(req)
    by_id = {s.session_id: s for s in req.sessions}

    # only appointed, available leaders in post
    for a in plan.assignments:
        assert _may_lead(req, a.student_number, by_id[a.session_id]), a

    # never double-booked: not with their other commitments, not between rota sessions
    booked: dict[str, list[tuple[datetime, datetime]]] = {
        n: [(b.starts_at, b.ends_at) for b in bs] for n, bs in req.commitments.items()
    }
    for a in plan.assignments:
        s = by_id[a.session_id]
        mine = booked.setdefault(a.student_number, [])
        assert not any(_overlap((s.starts_at, s.ends_at), other) for other in mine), a
        mine.append((s.starts_at, s.ends_at))

    # the minimum is met wherever someone could have been added; every short session reported
    short = {s.session_id for s in plan.shortfalls}
    for s in req.sessions:
        leading = [a.student_number for a in plan.assignments if a.session_id == s.session_id]
        assert len(leading) == len(set(leading)) <= req.minimum
        if len(leading) < req.minimum:
            assert s.session_id in short
            for candidate in req.leaders:
                number = candidate.student_number
                if number in leading or not _may_lead(req, number, s):
                    continue
                others = [
                    (by_id[x.session_id].starts_at, by_id[x.session_id].ends_at)
                    for x in plan.assignments
                    if x.student_number == number
                ] + [(b.starts_at, b.ends_at) for b in req.commitments.get(number, [])]
                assert any(_overlap((s.starts_at, s.ends_at), o) for o in others), (s, number)
        else:
            assert s.session_id not in short

    # the spread counts what was assigned
    assert sum(plan.spread.per_leader.values()) == len(plan.assignments)
    assert generate_rota(req) == plan


# --- candidates for one session ------------------------------------------------------------


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
