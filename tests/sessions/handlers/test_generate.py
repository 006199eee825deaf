"""The rota generator (`handlers.generate`) on a real database: what it reads (appointments,
availability, other commitments, sessions already started) and what it records."""

from __future__ import annotations

from datetime import time

import pytest

from passhub_sessions import handlers
from passhub_sessions.domain.recurrence import WeeklyPattern
from passhub_shared.web.errors import NotFound
from tests.sessions.builders import at
from tests.sessions.handlers.conftest import TODAY, Given, slots


async def test_every_session_is_filled_to_the_minimum_and_each_choice_recorded(
    given: Given,
) -> None:
    scheme = await given.scheme(minimum=2)
    await given.leaders("a", "b", "c")
    ids = [
        await given.session(scheme, day, "14:00", "15:00")
        for day in ("2026-10-06", "2026-10-13", "2026-10-20")
    ]

    result = await handlers.generate(given.conn, given.ctx, scheme, starting_after=TODAY)

    assert result.sessions_considered == 3
    assert len(result.plan.assignments) == 6 and result.plan.shortfalls == ()
    assert result.leaders_without_availability == []
    for session_id in ids:
        on = await given.on(session_id)
        assert len(on) == 2
        assert await given.events(f"session-{session_id}") == [
            "session_scheduled",
            "leader_rostered",
            "leader_rostered",
        ]
    # three leaders over six places: two each
    assert sorted(result.plan.spread.per_leader.values()) == [2, 2, 2]


async def test_a_leader_without_availability_is_reported_and_left_off(given: Given) -> None:
    scheme = await given.scheme(minimum=2)
    await given.leaders("a", "b")
    await given.leaders("c", available=False)
    session_id = await given.session(scheme, "2026-10-06", "14:00", "15:00")

    result = await handlers.generate(given.conn, given.ctx, scheme, starting_after=TODAY)

    assert result.leaders_without_availability == ["c"]
    assert await given.on(session_id) == ["a", "b"]


async def test_a_leader_booked_on_another_schemes_session_then_is_not_rostered(
    given: Given,
) -> None:
    physics = await given.scheme("PHYS", minimum=2)
    chemistry = await given.scheme("CHEM", minimum=1)
    await given.leaders("a", "b", "c", schemes=("2026-27-PHYS", "2026-27-CHEM"))
    elsewhere = await given.session(chemistry, "2026-10-06", "14:30", "15:30", "Lab 2", ["c"])
    session_id = await given.session(physics, "2026-10-06", "14:00", "15:00")

    result = await handlers.generate(given.conn, given.ctx, physics, starting_after=TODAY)

    assert await given.on(session_id) == ["a", "b"]
    assert await given.on(elsewhere) == ["c"]
    assert result.plan.shortfalls == ()


async def test_a_session_nobody_can_take_is_a_shortfall_and_nothing_is_recorded(
    given: Given,
) -> None:
    scheme = await given.scheme(minimum=2)
    await given.leaders("a", "b")
    await given.available("a", slots("09:00", "12:00"))
    await given.available("b", slots("09:00", "12:00"))
    session_id = await given.session(scheme, "2026-10-06", "14:00", "15:00")

    result = await handlers.generate(given.conn, given.ctx, scheme, starting_after=TODAY)

    [short] = result.plan.shortfalls
    assert short.session_id == session_id and short.rostered == 0 and short.needed == 2
    assert await given.events(f"session-{session_id}") == ["session_scheduled"]


async def test_sessions_already_started_are_reported_not_filled(given: Given) -> None:
    scheme = await given.scheme(minimum=1)
    await given.leaders("a")
    past = await given.session(scheme, "2026-10-06", "14:00", "15:00")
    coming = await given.session(scheme, "2026-10-13", "14:00", "15:00")

    result = await handlers.generate(
        given.conn,
        given.ctx,
        scheme,
        starting_after=at("2026-10-10", "00:00"),
        skipped_since=at("2026-10-01", "00:00"),
    )

    assert [s.session_id for s in result.skipped] == [past]
    assert await given.on(past) == []
    assert await given.on(coming) == ["a"]


async def test_one_series_only_and_a_series_of_another_scheme_is_not_found(
    given: Given,
) -> None:
    scheme = await given.scheme(minimum=1)
    other = await given.scheme("CHEM", minimum=1)
    await given.leaders("a")
    lone = await given.session(scheme, "2026-10-07", "10:00", "11:00", "Main 2.01")
    tuesdays = WeeklyPattern(weekday=1, starts=time(14), ends=time(15), semesters=(1,))
    planned = await handlers.schedule_series(
        given.conn, given.ctx, scheme, tuesdays, "Main 1.02", 30
    )

    result = await handlers.generate(
        given.conn, given.ctx, scheme, series_id=planned.series_id, starting_after=TODAY
    )

    assert result.sessions_considered == len(planned.session_ids) == 11
    assert {a.session_id for a in result.plan.assignments} == set(planned.session_ids)
    assert await given.on(lone) == []
    with pytest.raises(NotFound):
        await handlers.generate(
            given.conn, given.ctx, other, series_id=planned.series_id, starting_after=TODAY
        )
