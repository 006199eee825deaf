"""Feedback sheets: given once per student per session after attending, and read back by the
session's staff and by the student who gave them."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_attendance import handlers, queries
from passhub_attendance.api.deps import (
    SettingsDep,
    actor,
    context_of,
    in_transaction,
    scoped,
    session_of,
)
from passhub_attendance.api.schemas import (
    FeedbackGiven,
    FeedbackIn,
    SessionFeedback,
    StudentFeedback,
)
from passhub_attendance.domain import access
from passhub_attendance.domain.feedback import SubmitFeedback
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require

router = APIRouter(tags=["attendance"])


@router.post("/sessions/{session_id}/feedback", status_code=201, response_model=FeedbackGiven)
async def give_feedback(
    session_id: str,
    body: FeedbackIn,
    runtime: RuntimeDep,
    settings: SettingsDep,
    principal: Principal = require("student", "leader"),
) -> FeedbackGiven:
    """The comments sheet: once per student per session, only after attending."""
    ctx = context_of(runtime, settings, principal)
    command = SubmitFeedback(
        feedback_id=str(uuid.uuid4()),
        session_id=session_id,
        student_number=principal.sub,
        guard="",
        understanding=body.understanding,
        enjoyable=body.enjoyable,
        recommend=body.recommend,
        comment=body.comment,
        anonymous=body.anonymous,
    )

    async def use_case(conn: AsyncConnection) -> str:
        return await handlers.submit_feedback(conn, ctx, command)

    feedback_id = await in_transaction(runtime, use_case)
    return FeedbackGiven(feedback_id=feedback_id, anonymous=body.anonymous)


@router.get(
    "/sessions/{session_id}/feedback",
    response_model=SessionFeedback,
    response_model_exclude_unset=True,
)
async def session_feedback(
    session_id: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator", "organiser", "leader"),
) -> SessionFeedback:
    """The session's feedback sheets: named for coordinators; without student numbers for
    the organisers of its scheme and the leaders rostered on it. Academics get the
    evaluation's reports (`/evaluation/feedback`), without comments."""
    view = access.feedback_view(
        await scoped(runtime, principal), await session_of(runtime, session_id)
    )
    async with runtime.engine.connect() as conn:
        found = await queries.session_feedback(
            conn, session_id, named=view is access.FeedbackView.NAMED
        )
    return SessionFeedback.model_validate(found)


@router.get("/students/{student_number}/feedback", response_model=StudentFeedback)
async def student_feedback(
    student_number: str,
    runtime: RuntimeDep,
    principal: Principal = require("student", "leader"),
) -> StudentFeedback:
    """The feedback sheets a student gave with their name on, for the student themself only.
    Anonymous sheets are kept without who gave them, so they are not (and cannot be) listed."""
    access.may_read_feedback_given(actor(principal), student_number)
    async with runtime.engine.connect() as conn:
        sheets = await queries.student_feedback(conn, student_number)
    return StudentFeedback.model_validate({"student_number": student_number, "feedback": sheets})
