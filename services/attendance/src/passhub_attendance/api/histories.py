"""Attendance over time: a student's history, the sessions a leader delivered, and a scheme's
headcounts per session and sessions per student."""

from __future__ import annotations

from fastapi import APIRouter

from passhub_attendance import queries
from passhub_attendance.api.deps import ANY_ROLE, actor, scoped
from passhub_attendance.api.schemas import SchemeAttendance, SessionsDelivered, StudentAttendance
from passhub_attendance.domain import access
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require

router = APIRouter(tags=["attendance"])


@router.get("/students/{student_number}/attendance", response_model=StudentAttendance)
async def student_attendance(
    student_number: str,
    runtime: RuntimeDep,
    principal: Principal = require(*ANY_ROLE),
) -> StudentAttendance:
    """A student's attendance history; students see only their own."""
    access.may_read_student(actor(principal), student_number)
    async with runtime.engine.connect() as conn:
        history = await queries.student_history(conn, student_number)
    return StudentAttendance.model_validate(
        {
            "student_number": student_number,
            "sessions_attended": sum(1 for h in history if h["active"] and h["role"] == "student"),
            "attendances": history,
        }
    )


@router.get("/schemes/{scheme_id}/attendance", response_model=SchemeAttendance)
async def scheme_attendance(
    scheme_id: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator", "organiser", "academic", "integration"),
) -> SchemeAttendance:
    access.may_read_scheme(await scoped(runtime, principal), scheme_id)
    async with runtime.engine.connect() as conn:
        return SchemeAttendance.model_validate(await queries.scheme_attendance(conn, scheme_id))


@router.get("/leaders/{student_number}/sessions-delivered", response_model=SessionsDelivered)
async def sessions_delivered(
    student_number: str,
    runtime: RuntimeDep,
    principal: Principal = require(*ANY_ROLE),
) -> SessionsDelivered:
    """Sessions a leader delivered (signed in to as rostered leader, not revoked or
    cancelled); leaders see their own."""
    access.may_read_student(actor(principal), student_number)
    async with runtime.engine.connect() as conn:
        return SessionsDelivered.model_validate(
            await queries.leader_delivered(conn, student_number)
        )
