"""Sign-ins arriving together are written together, and each still gets its own answer."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text

from passhub_attendance import handlers
from passhub_attendance.api import deps
from passhub_attendance.domain.model import SessionView
from passhub_attendance.handlers import SignInRequest
from passhub_attendance.settings import AttendanceSettings
from passhub_shared.messages.events import Metadata
from passhub_shared.web.errors import Forbidden, NotFound, Rejected
from tests.attendance.helpers import given, now, scheme_launched, session_events
from tests.support import Harness

SESSIONS = [f"B{n}" for n in range(12)]


# type: ignore[no-untyped-def]
async def sign_in(h: Harness, session_id: str, student: str, **kwargs: object):
    return await deps.sign_in(
        h.runtime,
        AttendanceSettings(),
        SignInRequest(
            session_id=session_id,
            student_number=student,
            method="qr",
            now=now(),
            metadata=Metadata(actor=student),
            **kwargs,  # type: ignore[arg-type]
        ),
    )


async def counts(h: Harness) -> tuple[int, int]:
    async with h.runtime.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT count(*) FROM attendance_attendances"))).scalar()
        signed = (
            await conn.execute(
                text("SELECT count(*) FROM events WHERE type LIKE '%student_signed_in%'")
            )
        ).scalar()
    return int(rows or 0), int(signed or 0)


async def test_a_crowd_signing_in_at_once_is_recorded_once_each(h: Harness) -> None:
    await given(h, scheme_launched(), *[session_events(s) for s in SESSIONS])
    people = [(SESSIONS[i % len(SESSIONS)], f"2{i:07d}") for i in range(240)]
    # everyone at once, and a third of them twice (a double tap)
    crowd = people + people[::3]
    outcomes = await asyncio.gather(*(sign_in(h, s, p) for s, p in crowd))
    created = [o.created for o in outcomes]
    assert created.count(True) == len(people)
    assert created.count(False) == len(people[::3])
    assert await counts(h) == (len(people), len(people))
    assert deps.batcher_of(h.runtime).largest_batch > 1  # they did share transactions


async def test_a_refused_request_in_a_batch_leaves_the_others_alone(h: Harness) -> None:
    await given(h, scheme_launched(), session_events("B0"))
    await given(h, session_events("LATE", starts_at=now() + timedelta(hours=5)))

    def only_leaders(session: SessionView) -> None:
        raise Forbidden("only a rostered leader may do this")

    results = await asyncio.gather(
        sign_in(h, "B0", "20000001"),
        sign_in(h, "NOPE", "20000002"),
        sign_in(h, "B0", "20000003", authorise=only_leaders),
        sign_in(h, "LATE", "20000004"),  # not open yet
        sign_in(h, "B0", "20000005"),
        return_exceptions=True,
    )
    assert [type(r).__name__ for r in results[:3]] == ["SignInOutcome", "NotFound", "Forbidden"]
    assert isinstance(results[1], NotFound) and isinstance(results[2], Forbidden)
    assert isinstance(results[3], Rejected) and not isinstance(results[3], NotFound | Forbidden)
    assert type(results[4]).__name__ == "SignInOutcome"
    assert await counts(h) == (2, 2)


async def test_a_batch_that_fails_as_a_whole_is_retried_one_by_one(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await given(h, scheme_launched(), session_events("B0"))
    real = handlers.sign_in_many

    async def fails_for_crowds(conn, ctx, requests):  # type: ignore[no-untyped-def]
        if len(requests) > 1:
            raise RuntimeError("lost the database mid-batch")
        return await real(conn, ctx, requests)

    monkeypatch.setattr(handlers, "sign_in_many", fails_for_crowds)
    outcomes = await asyncio.gather(*(sign_in(h, "B0", f"3{i:07d}") for i in range(20)))
    assert all(o.created for o in outcomes)
    assert await counts(h) == (20, 20)
