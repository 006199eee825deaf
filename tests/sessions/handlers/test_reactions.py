"""Recruitment's stand-down taken into the rota (`handlers.unroster_stood_down`, what
`reactions.py` runs in the consumer's transaction)."""

from __future__ import annotations

from datetime import date

from passhub_sessions import handlers
from tests.sessions.handlers.conftest import Given


async def test_a_stood_down_leader_leaves_the_sessions_from_that_day_on(given: Given) -> None:
    scheme = await given.scheme()
    await given.leaders("a", "b")
    before = await given.session(scheme, "2026-10-06", "14:00", "15:00", rostered=["a", "b"])
    after = await given.session(scheme, "2026-10-20", "14:00", "15:00", rostered=["a", "b"])
    later = await given.session(scheme, "2026-11-03", "14:00", "15:00", rostered=["b"])
    stood_down = await given.stood_down("a", date(2026, 10, 20))

    count = await handlers.unroster_stood_down(given.conn, given.ctx, [stood_down])

    assert count == 1
    assert await given.on(before) == ["a", "b"]
    assert await given.on(after) == ["b"]
    assert await given.on(later) == ["b"]
    [*_, unrostered] = await given.ctx.store.load(given.conn, f"session-{after}")
    assert unrostered.name == "leader_unrostered"
    assert unrostered.data["reason"] == "stood down from 2026-10-20"
    assert unrostered.causation_id == str(stood_down.id)
