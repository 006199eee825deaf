"""The audit trail: every attendance and feedback event, with who caused it."""

from __future__ import annotations

from fastapi import APIRouter, Query

from passhub_attendance import queries
from passhub_attendance.api.deps import scoped, session_of
from passhub_attendance.api.schemas import AuditEntry
from passhub_attendance.domain import access
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require

router = APIRouter(tags=["attendance"])


@router.get("/sessions/{session_id}/audit", response_model=list[AuditEntry])
async def session_audit(
    session_id: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator", "organiser"),
) -> list[AuditEntry]:
    """Every attendance and feedback event of the session, with who caused it (for an
    organiser of its scheme, feedback without its author)."""
    who = await scoped(runtime, principal)
    access.may_audit(who, await session_of(runtime, session_id))
    async with runtime.engine.connect() as conn:
        rows = await queries.audit(
            conn,
            session_id=session_id,
            named_feedback=who.has("coordinator"),
            privacy=runtime.privacy,
        )
    return [AuditEntry.model_validate(row) for row in rows]


@router.get("/audit", response_model=list[AuditEntry])
async def audit_by_actor(
    runtime: RuntimeDep,
    actor_id: str = Query(alias="actor", min_length=1),
    principal: Principal = require("coordinator", "organiser"),
) -> list[AuditEntry]:
    """Every attendance event a given user caused (anonymous feedback has no actor). An
    organiser sees those in the schemes they organise, and no feedback."""
    who = await scoped(runtime, principal)
    coordinator = who.has("coordinator")
    async with runtime.engine.connect() as conn:
        rows = await queries.audit(
            conn,
            actor=actor_id,
            schemes=None if coordinator else who.organises,
            named_feedback=coordinator,
            privacy=runtime.privacy,
        )
    return [AuditEntry.model_validate(row) for row in rows]
