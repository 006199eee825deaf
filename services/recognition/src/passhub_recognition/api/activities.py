"""Mentor meetings attended and admin hours worked, recorded here (they count towards the
mentor-meeting and training-and-admin-hours requirements)."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from passhub_recognition import handlers, queries
from passhub_recognition.api.deps import SELF, ensure_may_see, handler_context, in_transaction
from passhub_recognition.api.schemas import (
    ActivityIn,
    ActivityOut,
    ActivityRowOut,
    StrikeIn,
    StruckOut,
)
from passhub_recognition.domain.awards import RecordActivity
from passhub_recognition.domain.policy import check_academic_year
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require

router = APIRouter(tags=["activities"])


@router.post("/activities", status_code=status.HTTP_201_CREATED)
async def record_activity(
    body: ActivityIn,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator", "organiser"),
) -> ActivityOut:
    check_academic_year(body.academic_year)
    ctx = handler_context(runtime, principal)
    command = RecordActivity(activity_id=handlers.new_id(), **body.model_dump())
    await in_transaction(runtime, lambda conn: handlers.record_activity(conn, ctx, command))
    return ActivityOut(activity_id=command.activity_id, **body.model_dump())


@router.post("/activities/{activity_id}/strike")
async def strike_activity(
    activity_id: str,
    body: StrikeIn,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> StruckOut:
    """Strike a wrongly recorded activity; awards that no longer hold are withdrawn."""
    ctx = handler_context(runtime, principal)
    withdrawn = await in_transaction(
        runtime, lambda conn: handlers.strike_activity(conn, ctx, activity_id, body.reason)
    )
    return StruckOut(activity_id=activity_id, struck=True, withdrawn_awards=withdrawn)


@router.get("/activities")
async def list_activities(
    runtime: RuntimeDep,
    academic_year: str = Query(),
    student_number: str | None = Query(default=None),
    principal: Principal = require("coordinator", "organiser", *SELF),
) -> list[ActivityRowOut]:
    check_academic_year(academic_year)
    if not principal.has("coordinator", "organiser"):
        student_number = student_number or principal.sub
        ensure_may_see(principal, student_number)
    async with runtime.engine.connect() as conn:
        rows = await queries.activities(conn, academic_year, student_number)
    return [ActivityRowOut.model_validate(r) for r in rows]
