"""Moving a session (`handlers.reschedule`): the new room and the rostered leaders must be free
then; leaders whose availability the new time leaves are reported, not a reason to refuse."""

from __future__ import annotations

import pytest

from passhub_sessions import handlers, queries
from passhub_shared.web.errors import Conflict
from tests.sessions.builders import at
from tests.sessions.handlers.conftest import Given, slots


async def test_moving_onto_a_rostered_leaders_other_session_is_a_clash(given: Given) -> None:
    scheme = await given.scheme()
    await given.leaders("a")
    first = await given.session(scheme, "2026-10-06", "14:00", "15:00", "Main 1.02", ["a"])
    second = await given.session(scheme, "2026-10-06", "16:00", "17:00", "Main 2.01", ["a"])

    with pytest.raises(Conflict, match=first):
        await handlers.reschedule(
            given.conn, given.ctx, second, starts_at=at("2026-10-06", "14:30")
        )

    assert await given.events(f"session-{second}") == ["session_scheduled", "leader_rostered"]
    row = await queries.require_session(given.conn, second)
    assert row["starts_at"] == at("2026-10-06", "16:00")


async def test_moving_into_a_booked_room_is_a_clash(given: Given) -> None:
    scheme = await given.scheme()
    booked = await given.session(scheme, "2026-10-06", "14:00", "15:00", "Main 1.02")
    moving = await given.session(scheme, "2026-10-06", "14:00", "15:00", "Main 2.01")

    with pytest.raises(Conflict, match=booked):
        await handlers.reschedule(given.conn, given.ctx, moving, room="main 1.02")

    assert (await queries.require_session(given.conn, moving))["room"] == "Main 2.01"


async def test_a_move_out_of_a_leaders_availability_is_made_and_names_them(
    given: Given,
) -> None:
    scheme = await given.scheme()
    await given.leaders("a", "b")
    await given.available("a", slots("13:00", "17:00", "tuesday"))
    session_id = await given.session(scheme, "2026-10-06", "14:00", "15:00", rostered=["a", "b"])

    moved = await handlers.reschedule(
        given.conn, given.ctx, session_id, starts_at=at("2026-10-07", "14:00"), reason="exams"
    )

    assert moved.changed and moved.leaders_not_available == ["a"]
    assert (await given.events(f"session-{session_id}"))[-1] == "session_rescheduled"
    row = await queries.require_session(given.conn, session_id)
    assert row["starts_at"] == at("2026-10-07", "14:00")
    assert row["ends_at"] == at("2026-10-07", "15:00")
    leaders = (await queries.rostered_on(given.conn, [session_id]))[session_id]
    assert [r["student_number"] for r in leaders] == ["a", "b"]
    bookings = await queries.leader_bookings(
        given.conn, ["a"], at("2026-10-07", "00:00"), at("2026-10-08", "00:00")
    )
    assert [b.session_id for b in bookings["a"]] == [session_id]


async def test_a_move_to_where_it_is_changes_nothing(given: Given) -> None:
    scheme = await given.scheme()
    session_id = await given.session(scheme, "2026-10-06", "14:00", "15:00", "Main 1.02")

    same = await handlers.reschedule(
        given.conn, given.ctx, session_id, starts_at=at("2026-10-06", "14:00")
    )

    assert not same.changed and same.leaders_not_available == []
    assert await given.events(f"session-{session_id}") == ["session_scheduled"]
