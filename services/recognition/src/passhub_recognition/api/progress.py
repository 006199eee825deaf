"""Live progress towards each award: a leader sees their own, coordinators everyone's."""

from __future__ import annotations

from fastapi import APIRouter

from passhub_recognition import handlers
from passhub_recognition.api.deps import SELF, ensure_may_see, handler_context
from passhub_recognition.api.schemas import LeaderProgressOut
from passhub_recognition.domain.progress import LeaderProgress
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require

router = APIRouter(tags=["progress"])


async def _progress(
    runtime: RuntimeDep, principal: Principal, year: str, student_number: str | None = None
) -> list[LeaderProgress]:
    ctx = handler_context(runtime, principal)
    async with runtime.engine.connect() as conn:
        return await handlers.progress(conn, ctx, year, student_number)


def progress_out(p: LeaderProgress) -> LeaderProgressOut:
    return LeaderProgressOut.model_validate(p, from_attributes=True)


@router.get("/progress/{academic_year}")
async def all_progress(
    academic_year: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> list[LeaderProgressOut]:
    return [progress_out(p) for p in await _progress(runtime, principal, academic_year)]


@router.get("/progress/{academic_year}/me")
async def my_progress(
    academic_year: str,
    runtime: RuntimeDep,
    principal: Principal = require(*SELF),
) -> LeaderProgressOut:
    found = await _progress(runtime, principal, academic_year, principal.sub)
    return progress_out(found[0])


@router.get("/progress/{academic_year}/leaders/{student_number}")
async def leader_progress(
    academic_year: str,
    student_number: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator", *SELF),
) -> LeaderProgressOut:
    ensure_may_see(principal, student_number)
    found = await _progress(runtime, principal, academic_year, student_number)
    return progress_out(found[0])
