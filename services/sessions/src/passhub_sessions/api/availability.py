"""Leaders' weekly availability (theirs to state, or an organiser's on their behalf) and a
leader's own sessions."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_sessions import handlers, queries
from passhub_sessions.api.deps import context, ensure_speaks_for, in_transaction
from passhub_sessions.api.schemas import (
    AvailabilityBody,
    AvailabilityOut,
    AvailabilityStatedOut,
    LeaderSessionOut,
    SessionOut,
)
from passhub_sessions.settings import sessions_settings
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require
from passhub_shared.web.errors import NotFound

router = APIRouter(tags=["availability"])

WHO = ("coordinator", "organiser", "leader")


@router.put("/leaders/{student_number}/availability/{academic_year}")
async def state_availability(
    student_number: str,
    academic_year: str,
    body: AvailabilityBody,
    runtime: RuntimeDep,
    principal: Principal = require(*WHO),
) -> AvailabilityStatedOut:
    """Replaces the leader's availability for the year."""
    ctx = context(runtime, principal)

    async def work(conn: AsyncConnection) -> bool:
        await ensure_speaks_for(conn, runtime, principal, student_number, academic_year)
        return await handlers.state_availability(
            conn,
            ctx,
            student_number,
            academic_year,
            body.slots,
            body.unavailable_dates,
            principal.sub,
        )

    changed = await in_transaction(runtime, work)
    stated = await _availability(runtime, student_number, academic_year)
    return AvailabilityStatedOut(changed=changed, **stated.model_dump())


async def _availability(
    runtime: RuntimeDep, student_number: str, academic_year: str
) -> AvailabilityOut:
    async with runtime.engine.connect() as conn:
        rows = await queries.availability_rows(conn, academic_year, [student_number])
    row = rows.get(student_number)
    if row is None:
        raise NotFound(f"{student_number} has stated no availability for {academic_year}")
    return AvailabilityOut(
        student_number=student_number,
        academic_year=academic_year,
        slots=row["slots"],
        unavailable_dates=row["unavailable_dates"],
        stated_by=row["stated_by"],
        stated_at=row["stated_at"].isoformat(),
    )


@router.get("/leaders/{student_number}/availability/{academic_year}")
async def get_availability(
    student_number: str,
    academic_year: str,
    runtime: RuntimeDep,
    principal: Principal = require(*WHO),
) -> AvailabilityOut:
    async with runtime.engine.connect() as conn:
        await ensure_speaks_for(conn, runtime, principal, student_number, academic_year)
    return await _availability(runtime, student_number, academic_year)


@router.get("/leaders/{student_number}/sessions")
async def leader_sessions(
    student_number: str, runtime: RuntimeDep, principal: Principal = require(*WHO)
) -> list[LeaderSessionOut]:
    """Sessions the leader is rostered on (and ones they were taken off, marked so)."""
    tz = sessions_settings(runtime).tz
    async with runtime.engine.connect() as conn:
        await ensure_speaks_for(conn, runtime, principal, student_number)
        rows = await queries.leader_sessions(conn, student_number)
    return [
        LeaderSessionOut(
            **SessionOut.fields_of(r, tz),
            scheme_title=r["scheme_title"],
            rostered=r["rostered"],
            unrostered_reason=None if r["rostered"] else r["unrostered_reason"],
        )
        for r in rows
    ]
