"""Sessions: schedule one or a weekly series, reschedule, move room, cancel; leaders on them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_sessions import handlers, queries
from passhub_sessions.api.deps import (
    READERS,
    STAFF,
    Preview,
    context,
    in_transaction,
    localise,
    organised_scheme,
)
from passhub_sessions.api.schemas import (
    CalendarChange,
    CancelBody,
    Changed,
    HistoryEntry,
    MoveBody,
    RescheduleBody,
    RosterBody,
    ScheduleBody,
    SeriesBody,
    SeriesOut,
    SeriesPlannedOut,
    SessionOut,
    SwapBody,
    UnrosterBody,
)
from passhub_sessions.domain.availability import WEEKDAYS
from passhub_sessions.domain.recurrence import WeeklyPattern
from passhub_sessions.settings import sessions_settings
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require
from passhub_shared.web.errors import Rejected

router = APIRouter(tags=["sessions"])

ORGANISERS = ("coordinator", "organiser")


async def _view(runtime: RuntimeDep, session_id: str, principal: Principal) -> SessionOut:
    async with runtime.engine.connect() as conn:
        return await _view_in(conn, runtime, session_id, principal)


async def _view_in(
    conn: AsyncConnection, runtime: RuntimeDep, session_id: str, principal: Principal
) -> SessionOut:
    tz = sessions_settings(runtime).tz
    row = await queries.require_session(conn, session_id)
    leaders = None
    if principal.has(*STAFF):
        leaders = (await queries.rostered_on(conn, [session_id]))[session_id]
    return SessionOut.of(row, tz, leaders)


async def _changed(
    conn: AsyncConnection,
    runtime: RuntimeDep,
    session_id: str,
    principal: Principal,
    *,
    changed: bool,
    dry_run: bool,
    rostered: list[dict[str, Any]],
    change: Literal["moved", "cancelled"],
    not_available: list[str],
) -> Changed:
    """The answer to a change; a dry run raises it (`Preview`) to roll the change back."""
    answer = Changed(
        changed=changed,
        dry_run=dry_run,
        session=await _view_in(conn, runtime, session_id, principal),
        leaders_not_available=not_available,
        calendar_changes=[
            CalendarChange(student_number=r["student_number"], name=r.get("name"), change=change)
            for r in rostered
        ]
        if changed
        else [],
    )
    if dry_run:
        raise Preview(answer)
    return answer


@router.post("/schemes/{scheme_id}/sessions", status_code=201)
async def schedule_session(
    scheme_id: str,
    body: ScheduleBody,
    runtime: RuntimeDep,
    principal: Principal = require(*ORGANISERS),
) -> SessionOut:
    ctx = context(runtime, principal)
    starts_at, ends_at = localise(body.starts_at, runtime), localise(body.ends_at, runtime)

    async def work(conn: AsyncConnection) -> str:
        scheme = await organised_scheme(conn, runtime, principal, scheme_id)
        return await handlers.schedule_session(
            conn, ctx, scheme, starts_at, ends_at, body.room, body.capacity
        )

    return await _view(runtime, await in_transaction(runtime, work), principal)


@router.post("/schemes/{scheme_id}/series", status_code=201)
async def schedule_series(
    scheme_id: str,
    body: SeriesBody,
    runtime: RuntimeDep,
    principal: Principal = require(*ORGANISERS),
) -> SeriesPlannedOut:
    """A weekly session through the teaching weeks (breaks and reading weeks skipped)."""
    ctx = context(runtime, principal)
    if body.starts.tzinfo is not None or body.ends.tzinfo is not None:
        raise Rejected("series times are local times, without an offset", code="invalid_times")
    pattern = WeeklyPattern(
        weekday=WEEKDAYS.index(body.weekday),
        starts=body.starts,
        ends=body.ends,
        semesters=tuple(body.semesters),
        skip_weeks=frozenset(body.skip_weeks),
        interval=body.interval,
    )

    async def work(conn: AsyncConnection) -> SeriesPlannedOut:
        scheme = await organised_scheme(conn, runtime, principal, scheme_id)
        planned = await handlers.schedule_series(
            conn, ctx, scheme, pattern, body.room, body.capacity
        )
        rows = await queries.scheme_sessions(conn, scheme_id, series_id=planned.series_id)
        return SeriesPlannedOut(
            series_id=planned.series_id,
            scheme_id=scheme_id,
            rule=planned.rule,
            sessions=[SessionOut.of(r, ctx.tz) for r in rows],
        )

    return await in_transaction(runtime, work)


@router.get("/schemes/{scheme_id}/series")
async def list_series(
    scheme_id: str, runtime: RuntimeDep, principal: Principal = require(*READERS)
) -> list[SeriesOut]:
    async with runtime.engine.connect() as conn:
        await queries.require_scheme(conn, scheme_id)
        rows = await queries.series_of(conn, scheme_id)
    return [SeriesOut.of(r) for r in rows]


@router.get("/schemes/{scheme_id}/sessions")
async def list_sessions(
    scheme_id: str,
    runtime: RuntimeDep,
    starting_from: datetime | None = Query(default=None, alias="from"),
    until: datetime | None = Query(default=None),
    include_cancelled: bool = Query(default=True),
    principal: Principal = require(*READERS),
) -> list[SessionOut]:
    tz = sessions_settings(runtime).tz
    async with runtime.engine.connect() as conn:
        await queries.require_scheme(conn, scheme_id)
        rows = await queries.scheme_sessions(
            conn,
            scheme_id,
            starting_after=localise(starting_from, runtime) if starting_from else None,
            until=localise(until, runtime) if until else None,
            include_cancelled=include_cancelled,
        )
        leaders = None
        if principal.has(*STAFF):
            leaders = await queries.rostered_on(conn, [r["session_id"] for r in rows])
    return [
        SessionOut.of(r, tz, leaders[r["session_id"]] if leaders is not None else None)
        for r in rows
    ]


@router.get("/sessions/{session_id}")
async def get_session(
    session_id: str, runtime: RuntimeDep, principal: Principal = require(*READERS)
) -> SessionOut:
    return await _view(runtime, session_id, principal)


@router.get("/sessions/{session_id}/history")
async def session_history(
    session_id: str, runtime: RuntimeDep, principal: Principal = require(*ORGANISERS)
) -> list[HistoryEntry]:
    """Every change to the session, oldest first (a cancelled session keeps its history), with
    who made it: for coordinators and the organisers of its scheme."""
    async with runtime.engine.connect() as conn:
        await _organised_session(conn, runtime, principal, session_id)
        events = await runtime.store.load(conn, f"session-{session_id}")
    return [
        HistoryEntry(
            version=e.stream_version,
            event=e.name,
            occurred_at=e.occurred_at.isoformat(),
            actor=e.actor,
            data=e.data,
        )
        for e in events
    ]


async def _organised_session(
    conn: AsyncConnection, runtime: RuntimeDep, principal: Principal, session_id: str
) -> None:
    row = await queries.require_session(conn, session_id)
    await organised_scheme(conn, runtime, principal, row["scheme_id"])


async def _reschedule(
    runtime: RuntimeDep,
    principal: Principal,
    session_id: str,
    dry_run: bool,
    changes: dict[str, Any],
) -> Changed:
    """Reschedule with `changes` (the handler's keywords); a dry run rolls it back."""
    ctx = context(runtime, principal)

    async def work(conn: AsyncConnection) -> Changed:
        await _organised_session(conn, runtime, principal, session_id)
        rostered = (await queries.rostered_on(conn, [session_id]))[session_id]
        result = await handlers.reschedule(conn, ctx, session_id, **changes)
        return await _changed(
            conn,
            runtime,
            session_id,
            principal,
            changed=result.changed,
            dry_run=dry_run,
            rostered=rostered,
            change="moved",
            not_available=result.leaders_not_available,
        )

    try:
        return await in_transaction(runtime, work)
    except Preview as preview:
        return preview.result


@router.post("/sessions/{session_id}/reschedule")
async def reschedule_session(
    session_id: str,
    body: RescheduleBody,
    runtime: RuntimeDep,
    principal: Principal = require(*ORGANISERS),
) -> Changed:
    """A new time, room or capacity; `dry_run` answers what it would do (the same checks:
    a room or leader clash is a 409 either way) and saves nothing."""
    if body.starts_at is None and body.ends_at is None and body.room is None and not body.capacity:
        raise Rejected("give a new start, end, room or capacity", code="nothing_to_change")
    changes = {
        "starts_at": localise(body.starts_at, runtime) if body.starts_at else None,
        "ends_at": localise(body.ends_at, runtime) if body.ends_at else None,
        "room": body.room,
        "capacity": body.capacity,
        "reason": body.reason,
    }
    return await _reschedule(runtime, principal, session_id, body.dry_run, changes)


@router.post("/sessions/{session_id}/move")
async def move_session(
    session_id: str,
    body: MoveBody,
    runtime: RuntimeDep,
    principal: Principal = require(*ORGANISERS),
) -> Changed:
    """Another room, same time (`dry_run`: what it would do, saving nothing)."""
    changes = {"room": body.room, "capacity": body.capacity, "reason": body.reason}
    return await _reschedule(runtime, principal, session_id, body.dry_run, changes)


@router.post("/sessions/{session_id}/cancel")
async def cancel_session(
    session_id: str,
    body: CancelBody,
    runtime: RuntimeDep,
    principal: Principal = require(*ORGANISERS),
) -> SessionOut | Changed:
    """Cancel with a reason: the session as it now is. With `dry_run`, nothing is saved and
    the answer is `changed`, `session` (as it would be) and the `calendar_changes`."""
    ctx = context(runtime, principal)

    async def work(conn: AsyncConnection) -> None:
        await _organised_session(conn, runtime, principal, session_id)
        rostered = (await queries.rostered_on(conn, [session_id]))[session_id]
        await handlers.cancel(conn, ctx, session_id, body.reason)
        if body.dry_run:
            await _changed(
                conn,
                runtime,
                session_id,
                principal,
                changed=True,
                dry_run=True,
                rostered=rostered,
                change="cancelled",
                not_available=[],
            )

    try:
        await in_transaction(runtime, work)
    except Preview as preview:
        return preview.result
    return await _view(runtime, session_id, principal)


async def _change_leaders(
    runtime: RuntimeDep,
    principal: Principal,
    session_id: str,
    use_case: Callable[[AsyncConnection, handlers.Context], Awaitable[None]],
) -> SessionOut:
    """Run a change of who leads an organised session; the session as it now is."""
    ctx = context(runtime, principal)

    async def work(conn: AsyncConnection) -> None:
        await _organised_session(conn, runtime, principal, session_id)
        await use_case(conn, ctx)

    await in_transaction(runtime, work)
    return await _view(runtime, session_id, principal)


@router.post("/sessions/{session_id}/leaders", status_code=201)
async def roster_leader(
    session_id: str,
    body: RosterBody,
    runtime: RuntimeDep,
    principal: Principal = require(*ORGANISERS),
) -> SessionOut:
    number = body.student_number.strip()
    return await _change_leaders(
        runtime,
        principal,
        session_id,
        lambda conn, ctx: handlers.roster(conn, ctx, session_id, number),
    )


@router.post("/sessions/{session_id}/leaders/{student_number}/unroster")
async def unroster_leader(
    session_id: str,
    student_number: str,
    body: UnrosterBody,
    runtime: RuntimeDep,
    principal: Principal = require(*ORGANISERS),
) -> SessionOut:
    return await _change_leaders(
        runtime,
        principal,
        session_id,
        lambda conn, ctx: handlers.unroster(conn, ctx, session_id, student_number, body.reason),
    )


@router.post("/sessions/{session_id}/swap")
async def swap_leader(
    session_id: str,
    body: SwapBody,
    runtime: RuntimeDep,
    principal: Principal = require(*ORGANISERS),
) -> SessionOut:
    """Replace one rostered leader by another, with the same checks as rostering."""
    out, incoming = body.out.strip(), body.incoming.strip()
    return await _change_leaders(
        runtime,
        principal,
        session_id,
        lambda conn, ctx: handlers.swap(conn, ctx, session_id, out, incoming, body.reason),
    )
