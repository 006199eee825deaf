"""Scheduling one session or a weekly series (`handlers.schedule_session`,
`handlers.schedule_series`): the room's other bookings are read under its lock."""

from __future__ import annotations

from datetime import time

import pytest

from passhub_sessions import handlers, queries
from passhub_sessions.domain.recurrence import WeeklyPattern
from passhub_shared.web.errors import Conflict
from tests.sessions.handlers.conftest import Given

TUESDAYS = WeeklyPattern(weekday=1, starts=time(14), ends=time(15), semesters=(1,))


async def test_a_series_schedules_every_teaching_week_and_records_its_plan(given: Given) -> None:
    scheme = await given.scheme()

    planned = await handlers.schedule_series(
        given.conn, given.ctx, scheme, TUESDAYS, " Main 1.02 ", 30
    )

    assert len(planned.session_ids) == 11  # semester 1: eleven teaching weeks
    assert await given.events(f"series-{planned.series_id}") == ["series_planned"]
    [row] = await queries.series_of(given.conn, scheme["scheme_id"])
    assert row["session_ids"] == planned.session_ids and row["room"] == "Main 1.02"
    sessions = await queries.scheme_sessions(
        given.conn, scheme["scheme_id"], series_id=planned.series_id
    )
    assert [s["session_id"] for s in sessions] == planned.session_ids
    assert [s["teaching_week"] for s in sessions][:2] == ["S1W1", "S1W2"]
    assert {s["starts_at"].astimezone(given.ctx.tz).time() for s in sessions} == {time(14)}


async def test_one_clash_refuses_the_whole_series(given: Given) -> None:
    scheme = await given.scheme()
    booked = await given.session(scheme, "2026-10-13", "14:30", "15:30", "main  1.02")

    with pytest.raises(Conflict) as refused:
        async with given.conn.begin_nested():
            await handlers.schedule_series(given.conn, given.ctx, scheme, TUESDAYS, "Main 1.02", 30)

    assert booked in str(refused.value)
    sessions = await queries.scheme_sessions(given.conn, scheme["scheme_id"])
    assert [s["session_id"] for s in sessions] == [booked]
    assert await queries.series_of(given.conn, scheme["scheme_id"]) == []


async def test_a_session_in_a_booked_room_is_refused_and_another_room_is_not(
    given: Given,
) -> None:
    scheme = await given.scheme()
    first = await given.session(scheme, "2026-10-06", "14:00", "15:00", "Main 1.02")

    with pytest.raises(Conflict, match=first):
        await given.session(scheme, "2026-10-06", "14:30", "15:30", "MAIN 1.02")
    back_to_back = await given.session(scheme, "2026-10-06", "15:00", "16:00", "Main 1.02")
    elsewhere = await given.session(scheme, "2026-10-06", "14:30", "15:30", "Main 1.03")

    assert await given.events(f"session-{back_to_back}") == ["session_scheduled"]
    row = await queries.require_session(given.conn, elsewhere)
    assert row["teaching_week"] == "S1W3" and row["room_key"] == "main 1.03"
