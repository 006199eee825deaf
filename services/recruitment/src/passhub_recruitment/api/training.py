"""Core training: sessions and completions."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from passhub_recruitment import handlers, queries
from passhub_recruitment.api.deps import ANYONE, STAFF, ensure_own, run
from passhub_recruitment.api.schemas import (
    CompletionsBody,
    TrainingSessionBody,
    TrainingSessionView,
    TrainingStanding,
    TrainingSummary,
)
from passhub_recruitment.domain.identifiers import check_academic_year
from passhub_recruitment.domain.training import Completion, RecordTrainingSession
from passhub_shared.messages.events import new_event_id
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require

router = APIRouter(tags=["training"])


@router.post(
    "/training-sessions", status_code=status.HTTP_201_CREATED, response_model=TrainingSessionView
)
async def record_session(
    body: TrainingSessionBody, runtime: RuntimeDep, principal: Principal = require(*STAFF)
) -> TrainingSessionView:
    check_academic_year(body.academic_year)
    training_id = body.training_id or f"{body.academic_year}-{new_event_id().hex[-12:]}"
    command = RecordTrainingSession(
        training_id=training_id,
        academic_year=body.academic_year,
        title=body.title,
        held_on=body.held_on,
        hours=body.hours,
        core=body.core,
    )
    await run(
        runtime, principal, lambda conn, ctx: handlers.record_training_session(conn, ctx, command)
    )
    async with runtime.engine.connect() as conn:
        return await queries.training_session(conn, training_id)


@router.get("/training-sessions", response_model=list[TrainingSessionView])
async def list_sessions(
    runtime: RuntimeDep,
    academic_year: str | None = None,
    principal: Principal = require(*STAFF),
) -> list[TrainingSessionView]:
    async with runtime.engine.connect() as conn:
        return await queries.training_sessions_of(conn, academic_year)


@router.post("/training-sessions/{training_id}/completions", response_model=TrainingSessionView)
async def record_completions(
    training_id: str,
    body: CompletionsBody,
    runtime: RuntimeDep,
    principal: Principal = require(*STAFF),
) -> TrainingSessionView:
    """Who completed the session, and for how many hours (default: all of it)."""
    completions = [
        Completion(student_number=c.student_number, hours=c.hours) for c in body.completions
    ]
    await run(
        runtime,
        principal,
        lambda conn, ctx: handlers.record_completions(conn, ctx, training_id, completions),
    )
    async with runtime.engine.connect() as conn:
        return await queries.training_session(conn, training_id)


@router.get("/training/{student_number}", response_model=TrainingSummary)
async def training_of(
    student_number: str,
    runtime: RuntimeDep,
    academic_year: str = Query(examples=["2026-27"]),
    principal: Principal = require(*ANYONE),
) -> TrainingSummary:
    """A student's core training hours in a year against what appointment requires."""
    if not principal.has("academic", "integration"):
        ensure_own(principal, student_number, f"training record for {student_number!r}")
    async with runtime.engine.connect() as conn:
        return await queries.training_summary(conn, student_number, academic_year)


@router.get("/campaigns/{campaign_id}/training", response_model=list[TrainingStanding])
async def campaign_training(
    campaign_id: str,
    runtime: RuntimeDep,
    incomplete: bool = Query(default=False, description="only those still short of the hours"),
    principal: Principal = require(*STAFF),
) -> list[TrainingStanding]:
    """Core training of every applicant in the running and every appointee of the campaign,
    against the hours appointment requires, least trained first."""
    async with runtime.engine.connect() as conn:
        found = await queries.training_standings(conn, campaign_id)
    return [t for t in found if not (incomplete and t.complete)]
