"""Swaps between leaders: a rostered leader asks another leader of the scheme to take their
place on a session; the other accepts (the rota changes then, with the same checks as
rostering) or declines, and the one who asked may withdraw while nobody has answered.
Organisers' direct swap is `POST /sessions/{id}/swap`."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from passhub_sessions import handlers, queries
from passhub_sessions.api.deps import context, ensure_speaks_for
from passhub_sessions.settings import sessions_settings
from passhub_shared.app import RuntimeDep
from passhub_shared.auth import Principal, require

router = APIRouter(tags=["swaps"])

WHO = ("coordinator", "organiser", "leader")


class SwapRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: the leader asked to take the session
    incoming: str = Field(min_length=1, max_length=40)
    reason: str = Field(default="", max_length=500)


def swap_view(row: queries.Row, runtime: RuntimeDep) -> dict[str, Any]:
    tz = sessions_settings(runtime).tz
    view = {
        "swap_id": row["swap_id"],
        "session_id": row["session_id"],
        "scheme_id": row["scheme_id"],
        "out": row["out_number"],
        "incoming": row["incoming_number"],
        "reason": row["reason"],
        "status": row["status"],
        "requested_at": queries.local_iso(row["requested_at"], tz),
        "answered_at": queries.local_iso(row["answered_at"], tz) if row["answered_at"] else None,
    }
    if "starts_at" in row:
        view |= {
            "starts_at": queries.local_iso(row["starts_at"], tz),
            "ends_at": queries.local_iso(row["ends_at"], tz),
            "room": row["room"],
            "cancelled": row["cancelled"],
            "scheme_title": row["scheme_title"],
        }
    return view


@router.post("/sessions/{session_id}/swap-requests", status_code=201)
async def request_swap(
    session_id: str,
    body: SwapRequestBody,
    runtime: RuntimeDep,
    principal: Principal = require("leader"),
) -> dict[str, Any]:
    """A leader rostered on the session asks another leader to take their place. The leader
    asked is checked as for rostering (appointed to the scheme, available, not booked then);
    the rota does not change until they accept."""
    ctx = context(runtime, principal)
    async with runtime.transaction() as conn:
        swap_id = await handlers.request_swap(
            conn, ctx, session_id, principal.sub, body.incoming.strip(), body.reason
        )
    async with runtime.engine.connect() as conn:
        return swap_view(await queries.swap(conn, swap_id), runtime)


@router.post("/swap-requests/{swap_id}/{answer}")
async def answer_swap(
    swap_id: str,
    answer: Literal["accept", "decline", "withdraw"],
    runtime: RuntimeDep,
    principal: Principal = require("leader"),
) -> dict[str, Any]:
    """The leader asked accepts or declines; the leader who asked withdraws. One already
    answered is a 409; anyone else, a 403."""
    ctx = context(runtime, principal)
    async with runtime.transaction() as conn:
        found = await queries.swap(conn, swap_id)
        await handlers.answer_swap(conn, ctx, found, principal.sub, answer)
    async with runtime.engine.connect() as conn:
        return swap_view(await queries.swap(conn, swap_id), runtime)


@router.get("/leaders/{student_number}/swaps")
async def leader_swaps(
    student_number: str, runtime: RuntimeDep, principal: Principal = require(*WHO)
) -> list[dict[str, Any]]:
    """The swap requests a leader made or was asked, open and answered, with their sessions."""
    async with runtime.engine.connect() as conn:
        await ensure_speaks_for(conn, runtime, principal, student_number)
        rows = await queries.swaps_of_leader(conn, student_number)
    return [swap_view(r, runtime) for r in rows]
