"""Live progress towards each award: a leader sees their own, coordinators everyone's."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from passhub_recognition.api.access import SELF, ensure_may_see
from passhub_recognition.context import RecognitionDep
from passhub_recognition.domain.progress import LeaderProgress
from passhub_recognition.handlers import progress
from passhub_shared.app import RuntimeDep
from passhub_shared.auth import Principal, require

router = APIRouter(tags=["progress"])


def progress_json(p: LeaderProgress) -> dict[str, Any]:
    return asdict(p)


@router.get("/progress/{academic_year}")
async def all_progress(
    academic_year: str,
    runtime: RuntimeDep,
    ctx: RecognitionDep,
    principal: Principal = require("coordinator"),
) -> list[dict[str, Any]]:
    async with runtime.engine.connect() as conn:
        found = await progress(conn, runtime.store, academic_year, ctx.titles)
    return [progress_json(p) for p in found]


@router.get("/progress/{academic_year}/me")
async def my_progress(
    academic_year: str,
    runtime: RuntimeDep,
    ctx: RecognitionDep,
    principal: Principal = require(*SELF),
) -> dict[str, Any]:
    async with runtime.engine.connect() as conn:
        found = await progress(conn, runtime.store, academic_year, ctx.titles, principal.sub)
    return progress_json(found[0])


@router.get("/progress/{academic_year}/leaders/{student_number}")
async def leader_progress(
    academic_year: str,
    student_number: str,
    runtime: RuntimeDep,
    ctx: RecognitionDep,
    principal: Principal = require("coordinator", *SELF),
) -> dict[str, Any]:
    ensure_may_see(principal, student_number)
    async with runtime.engine.connect() as conn:
        found = await progress(conn, runtime.store, academic_year, ctx.titles, student_number)
    return progress_json(found[0])
