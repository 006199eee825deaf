"""Swaps between leaders: a rostered leader asks another leader of the scheme to take their
place on a session; the other accepts (the rota changes then, with the same checks as
rostering) or declines, and the one who asked may withdraw while nobody has answered.
Organisers' direct swap is `POST /sessions/{id}/swap`."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_sessions import handlers, queries
from passhub_sessions.api.deps import context, ensure_speaks_for, in_transaction
from passhub_sessions.api.schemas import SwapOut, SwapRequestBody
from passhub_sessions.settings import sessions_settings
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require

router = APIRouter(tags=["swaps"])

WHO = ("coordinator", "organiser", "leader")


async def _swap_view(runtime: RuntimeDep, swap_id: str) -> SwapOut:
    async with runtime.engine.connect() as conn:
        return SwapOut.of(await queries.swap(conn, swap_id), sessions_settings(runtime).tz)


@router.post("/sessions/{session_id}/swap-requests", status_code=201)
async def request_swap(
    session_id: str,
    body: SwapRequestBody,
    runtime: RuntimeDep,
    principal: Principal = require("leader"),
) -> SwapOut:
    """A leader rostered on the session asks another leader to take their place. The leader
    asked is checked as for rostering (appointed to the scheme, available, not booked then);
    the rota does not change until they accept."""
    ctx = context(runtime, principal)

    async def work(conn: AsyncConnection) -> str:
        return await handlers.request_swap(
            conn, ctx, session_id, principal.sub, body.incoming.strip(), body.reason
        )

    return await _swap_view(runtime, await in_transaction(runtime, work))


@router.post("/swap-requests/{swap_id}/{answer}")
async def answer_swap(
    swap_id: str,
    answer: Literal["accept", "decline", "withdraw"],
    runtime: RuntimeDep,
    principal: Principal = require("leader"),
) -> SwapOut:
    """The leader asked accepts or declines; the leader who asked withdraws. One already
    answered is a 409; anyone else, a 403."""
    ctx = context(runtime, principal)

    async def work(conn: AsyncConnection) -> None:
        found = await queries.swap(conn, swap_id)
        await handlers.answer_swap(conn, ctx, found, principal.sub, answer)

    await in_transaction(runtime, work)
    return await _swap_view(runtime, swap_id)


@router.get("/leaders/{student_number}/swaps")
async def leader_swaps(
    student_number: str, runtime: RuntimeDep, principal: Principal = require(*WHO)
) -> list[SwapOut]:
    """The swap requests a leader made or was asked, open and answered, with their sessions."""
    async with runtime.engine.connect() as conn:
        await ensure_speaks_for(conn, runtime, principal, student_number)
        rows = await queries.swaps_of_leader(conn, student_number)
    tz = sessions_settings(runtime).tz
    return [SwapOut.of(r, tz) for r in rows]
