"""Mentor meetings attended and admin hours worked, recorded here (they count towards the
mentor-meeting and training-and-admin-hours requirements)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from passhub_recognition import tables
from passhub_recognition.api.access import SELF, ensure_may_see
from passhub_recognition.domain.awards import RecordActivity, StrikeActivity
from passhub_recognition.domain.events import ActivityKind
from passhub_recognition.domain.policy import check_academic_year
from passhub_recognition.handlers import activity_owner, decide_for_leader, policies_of
from passhub_recognition.ids import new_id
from passhub_shared.app import RuntimeDep, command_metadata
from passhub_shared.auth import Principal, require

router = APIRouter(tags=["activities"])


class ActivityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    academic_year: str
    student_number: str = Field(min_length=1, max_length=64)
    kind: ActivityKind
    held_on: date
    hours: float = Field(ge=0, le=24)
    note: str = Field(default="", max_length=1000)


class StrikeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


@router.post("/activities", status_code=status.HTTP_201_CREATED)
async def record_activity(
    body: ActivityIn,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator", "organiser"),
) -> dict[str, Any]:
    check_academic_year(body.academic_year)
    activity_id = new_id()
    command = RecordActivity(
        activity_id=activity_id,
        academic_year=body.academic_year,
        student_number=body.student_number,
        kind=body.kind,
        held_on=body.held_on,
        hours=body.hours,
        note=body.note,
    )
    async with runtime.transaction() as conn:
        await decide_for_leader(
            conn,
            runtime.store,
            body.academic_year,
            body.student_number,
            command,
            command_metadata(principal),
        )
    return {"activity_id": activity_id, **body.model_dump(mode="json")}


@router.post("/activities/{activity_id}/strike")
async def strike_activity(
    activity_id: str,
    body: StrikeIn,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> dict[str, Any]:
    """Strike a wrongly recorded activity; awards that no longer hold are withdrawn."""
    async with runtime.transaction() as conn:
        year, student = await activity_owner(conn, activity_id)
        recorded = await decide_for_leader(
            conn,
            runtime.store,
            year,
            student,
            StrikeActivity(
                activity_id,
                year,
                student,
                body.reason,
                await policies_of(conn, runtime.store, year),
            ),
            command_metadata(principal),
        )
    withdrawn = [r.data["award_id"] for r in recorded if r.name == "award_withdrawn"]
    return {"activity_id": activity_id, "struck": True, "withdrawn_awards": withdrawn}


@router.get("/activities")
async def list_activities(
    runtime: RuntimeDep,
    academic_year: str = Query(),
    student_number: str | None = Query(default=None),
    principal: Principal = require("coordinator", "organiser", *SELF),
) -> list[dict[str, Any]]:
    check_academic_year(academic_year)
    if not principal.has("coordinator", "organiser"):
        student_number = student_number or principal.sub
        ensure_may_see(principal, student_number)
    t = tables.activities
    stmt = select(t).where(t.c.academic_year == academic_year)
    if student_number:
        stmt = stmt.where(t.c.student_number == student_number)
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(stmt.order_by(t.c.student_number, t.c.held_on, t.c.activity_id))
        return [dict(r._mapping) for r in rows]
