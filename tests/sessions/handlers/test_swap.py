"""Swapping leaders: an organiser's direct swap (`handlers.swap`) and a leader's request that the
other accepts (`handlers.request_swap`, `handlers.answer_swap`), each with rostering's checks."""

from __future__ import annotations

import pytest

from passhub_sessions import handlers, queries
from passhub_shared.web.errors import Conflict, Rejected
from tests.sessions.handlers.conftest import Given, slots


async def test_a_swap_takes_one_leader_off_and_puts_the_other_on(given: Given) -> None:
    scheme = await given.scheme()
    await given.leaders("a", "b")
    session_id = await given.session(scheme, "2026-10-06", "14:00", "15:00", rostered=["a"])

    await handlers.swap(given.conn, given.ctx, session_id, "a", "b", "illness")

    assert await given.events(f"session-{session_id}") == [
        "session_scheduled",
        "leader_rostered",
        "leader_unrostered",
        "leader_rostered",
    ]
    assert await given.on(session_id) == ["b"]
    everyone = (await queries.rostered_on(given.conn, [session_id], include_past=True))[session_id]
    assert {(r["student_number"], r["rostered"], r["reason"]) for r in everyone} == {
        ("a", False, "illness"),
        ("b", True, None),
    }


async def test_a_swap_to_a_leader_booked_then_is_refused(given: Given) -> None:
    scheme = await given.scheme()
    await given.leaders("a", "b")
    elsewhere = await given.session(scheme, "2026-10-06", "14:30", "15:30", "Lab 2", ["b"])
    session_id = await given.session(scheme, "2026-10-06", "14:00", "15:00", rostered=["a"])

    with pytest.raises(Conflict, match=elsewhere):
        await handlers.swap(given.conn, given.ctx, session_id, "a", "b", "")

    assert await given.on(session_id) == ["a"]


async def test_a_swap_to_a_leader_not_available_then_is_refused(given: Given) -> None:
    scheme = await given.scheme()
    await given.leaders("a", "b")
    await given.available("b", slots("09:00", "12:00"))
    session_id = await given.session(scheme, "2026-10-06", "14:00", "15:00", rostered=["a"])

    with pytest.raises(Rejected) as refused:
        await handlers.swap(given.conn, given.ctx, session_id, "a", "b", "")

    assert refused.value.code == "unavailable"
    assert len(await given.events(f"session-{session_id}")) == 2


async def test_a_requested_swap_changes_the_rota_when_accepted(given: Given) -> None:
    scheme = await given.scheme()
    await given.leaders("a", "b")
    session_id = await given.session(scheme, "2026-10-06", "14:00", "15:00", rostered=["a"])

    swap_id = await handlers.request_swap(given.conn, given.ctx, session_id, "a", "b", "exam")
    asked = await queries.swap(given.conn, swap_id)
    assert asked["status"] == "open" and await given.on(session_id) == ["a"]

    await handlers.answer_swap(given.conn, given.ctx, asked, "b", "accept")

    answered = await queries.swap(given.conn, swap_id)
    assert answered["status"] == "accepted" and answered["answered_at"] is not None
    assert await given.on(session_id) == ["b"]
    with pytest.raises(Rejected):
        await handlers.answer_swap(given.conn, given.ctx, answered, "b", "decline")
