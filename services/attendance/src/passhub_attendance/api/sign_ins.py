"""The JSON API: sign-ins, corrections, feedback, imports, and the queries."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from passhub_attendance import handlers, queries
from passhub_attendance.api.deps import SettingsDep, actor, now, student_number_of
from passhub_attendance.domain import access
from passhub_attendance.domain.feedback import MAX_COMMENT, SubmitFeedback
from passhub_attendance.domain.model import Actor, SessionView
from passhub_attendance.domain.qr import InvalidCode, QrCodes
from passhub_attendance.settings import AttendanceSettings
from passhub_shared.app import RuntimeDep, command_metadata
from passhub_shared.auth import Principal, require
from passhub_shared.contracts.attendance import (
    AttendeeRole,
    LeaderSignedIn,
    Method,
    StudentSignedIn,
)
from passhub_shared.errors import Forbidden, NotFound, Rejected
from passhub_shared.service import Runtime

router = APIRouter(tags=["attendance"])

MAX_SHEET_BYTES = 5_000_000
#: sign-ins a preview of a sheet lists
PREVIEW_LINES = 2000
ANY_ROLE = ("coordinator", "organiser", "leader", "student", "academic", "integration")


class AttendanceOut(BaseModel):
    session_id: str
    scheme_id: str
    student_number: str
    role: AttendeeRole
    method: Method
    signed_in_at: datetime
    #: false when the person was already signed in (nothing new was recorded)
    created: bool


class QrSignIn(BaseModel):
    code: str | None = Field(
        default=None, min_length=1, max_length=500, description="the token in the QR code"
    )
    receipt: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        description="instead of the code: the scan receipt `POST .../scan-receipt` gave for it",
    )
    student_number: str | None = Field(
        default=None, description="optional; must be the caller's own student number"
    )


class Scanned(BaseModel):
    code: str = Field(min_length=1, max_length=500, description="the token in the QR code")


class StudentRef(BaseModel):
    student_number: str = Field(min_length=1, max_length=64)


class AddedByHand(StudentRef):
    #: why: required of a coordinator or organiser adding someone after the fact (kept on the
    #: event and in the audit trail); a rostered leader in the room may leave it out
    reason: str = Field(default="", max_length=1000)


class Revocation(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


class FeedbackIn(BaseModel):
    understanding: int = Field(ge=1, le=5, description="improved my understanding of the subject")
    enjoyable: int = Field(ge=1, le=5, description="an enjoyable learning experience")
    recommend: int = Field(ge=1, le=5, description="I would recommend PASS")
    comment: str = Field(default="", max_length=MAX_COMMENT)
    anonymous: bool = False


def qr_codes(settings: AttendanceSettings) -> QrCodes:
    return QrCodes(
        settings.qr_secret,
        timedelta(seconds=settings.qr_validity_seconds),
        timedelta(seconds=settings.qr_grace_seconds),
    )


def sign_in_url(request: Request, settings: AttendanceSettings, code: str) -> str:
    """The portal's sign-in page for the code (`PASSHUB_ATTENDANCE_PUBLIC_URL` is the
    portal's address)."""
    base = settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")
    return f"{base}/s/{quote(code, safe='')}"


def _out(outcome: handlers.SignInOutcome) -> AttendanceOut:
    a = outcome.attendance
    return AttendanceOut(
        session_id=a.session_id,
        scheme_id=a.scheme_id,
        student_number=a.student_number,
        role=a.role,
        method=a.method,
        signed_in_at=a.signed_in_at,
        created=outcome.created,
    )


def _status(response: Response, outcome: handlers.SignInOutcome) -> AttendanceOut:
    response.status_code = 201 if outcome.created else 200
    return _out(outcome)


async def scoped(runtime: Runtime, principal: Principal) -> Actor:
    """The caller, with the schemes they organise when they are an organiser (and not a
    coordinator, who runs every scheme)."""
    who = actor(principal)
    if not who.has("organiser") or who.has("coordinator"):
        return who
    async with runtime.engine.connect() as conn:
        organises = await queries.schemes_organised(conn, who.sub)
    return Actor(who.sub, who.roles, organises)


async def _session(runtime: Runtime, session_id: str) -> SessionView:
    async with runtime.engine.connect() as conn:
        session = await queries.session_view(conn, session_id)
    if session is None:
        raise NotFound(f"no session {session_id!r} is scheduled")
    return session


# -- sign-in -----------------------------------------------------------------------------------


@router.post("/sessions/{session_id}/sign-in", response_model=AttendanceOut, status_code=201)
async def qr_sign_in(
    session_id: str,
    body: QrSignIn,
    response: Response,
    runtime: RuntimeDep,
    settings: SettingsDep,
    principal: Principal = require("student", "leader"),
) -> AttendanceOut:
    """Sign yourself in with the code from the session's QR code, or the scan receipt given for
    it (201 new, 200 already in)."""
    who = actor(principal)
    access.may_sign_in_self(who, body.student_number or who.sub)
    at = now()
    if (body.code is None) == (body.receipt is None):
        raise Rejected("send the code or its scan receipt, not both", code="code_or_receipt")
    codes = qr_codes(settings)
    scanned = codes.verify(body.code, at) if body.code else codes.redeem(body.receipt or "", at)
    if scanned != session_id:
        raise InvalidCode("this code belongs to another session", "code_invalid")
    outcome = await handlers.sign_in(
        runtime,
        settings,
        session_id=session_id,
        student_number=who.sub,
        method="qr",
        now=at,
        metadata=command_metadata(principal),
    )
    return _status(response, outcome)


@router.post("/sessions/{session_id}/scan-receipt")
async def scan_receipt(
    session_id: str,
    body: Scanned,
    settings: SettingsDep,
    principal: Principal = require("student", "leader", "integration"),
) -> dict[str, Any]:
    """Exchange a still-valid code for a scan receipt: the time to log in and sign in then runs
    from the scan (`qr_grace_seconds`), not from when the code was shown. The code itself is
    never accepted past its validity. The portal asks with its own account when the student
    has not logged in yet."""
    at = now()
    codes = qr_codes(settings)
    receipt = codes.receipt(body.code, at)
    if codes.redeem(receipt, at) != session_id:
        raise InvalidCode("this code belongs to another session", "code_invalid")
    return {
        "session_id": session_id,
        "receipt": receipt,
        "expires_at": at + timedelta(seconds=settings.qr_grace_seconds),
    }


@router.post("/sessions/{session_id}/attendances", response_model=AttendanceOut, status_code=201)
async def add_by_hand(
    session_id: str,
    body: AddedByHand,
    response: Response,
    runtime: RuntimeDep,
    settings: SettingsDep,
    principal: Principal = require("leader", "coordinator", "organiser"),
) -> AttendanceOut:
    """A rostered leader adds a student who is in the room; a coordinator or an organiser of
    the scheme adds one after the fact, with a reason (method `import`, signed in at the
    session's start: a correction of the record, as from a paper sheet)."""
    who = await scoped(runtime, principal)
    session = await _session(runtime, session_id)
    if who.runs(session.scheme_id) and not (
        who.has("leader") and session.is_rostered(who.sub) and not body.reason.strip()
    ):
        reason = body.reason.strip()
        if not reason:
            raise Rejected("adding an attendance by hand needs a reason", code="reason_required")
        at = now()
        outcome = await handlers.sign_in(
            runtime,
            settings,
            session_id=session_id,
            student_number=student_number_of(settings, body.student_number),
            method="import",
            now=at,
            at=min(at, session.starts_at),
            metadata=command_metadata(principal),
            authorise=lambda s: access.may_add_after_the_fact(who, s),
            reason=reason,
        )
        return _status(response, outcome)
    return await _sign_in_someone(
        session_id, body, response, runtime, settings, principal, "leader", access.may_add_by_hand
    )


@router.post("/sessions/{session_id}/kiosk", response_model=AttendanceOut, status_code=201)
async def kiosk_sign_in(
    session_id: str,
    body: StudentRef,
    response: Response,
    runtime: RuntimeDep,
    settings: SettingsDep,
    principal: Principal = require("integration", "leader"),
) -> AttendanceOut:
    """A room's kiosk (or card reader) signs in a student number."""
    return await _sign_in_someone(
        session_id, body, response, runtime, settings, principal, "kiosk", access.may_use_kiosk
    )


async def _sign_in_someone(
    session_id: str,
    body: StudentRef,
    response: Response,
    runtime: Runtime,
    settings: AttendanceSettings,
    principal: Principal,
    method: Method,
    may: Callable[[Actor, SessionView], None],
) -> AttendanceOut:
    """Sign in the student named in `body` on behalf of `principal`, whom `may` checks."""
    who = actor(principal)
    outcome = await handlers.sign_in(
        runtime,
        settings,
        session_id=session_id,
        student_number=student_number_of(settings, body.student_number),
        method=method,
        now=now(),
        metadata=command_metadata(principal),
        authorise=lambda session: may(who, session),
    )
    return _status(response, outcome)


@router.post("/sessions/{session_id}/leader-sign-in", response_model=AttendanceOut, status_code=201)
async def leader_sign_in(
    session_id: str,
    response: Response,
    runtime: RuntimeDep,
    settings: SettingsDep,
    principal: Principal = require("leader"),
) -> AttendanceOut:
    """A leader signs themself in to a session they are rostered on (sessions delivered)."""
    outcome = await handlers.sign_in(
        runtime,
        settings,
        session_id=session_id,
        student_number=principal.sub,
        method="leader",
        now=now(),
        metadata=command_metadata(principal),
        as_leader=True,
    )
    return _status(response, outcome)


# -- corrections -------------------------------------------------------------------------------


@router.post("/sessions/{session_id}/attendances/{student_number}/revoke")
async def revoke(
    session_id: str,
    student_number: str,
    body: Revocation,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator", "organiser", "leader"),
) -> dict[str, Any]:
    """Revoke an attendance, with a reason (an event: nothing is edited)."""
    who = await scoped(runtime, principal)
    recorded = await handlers.revoke(
        runtime,
        session_id=session_id,
        student_number=student_number,
        reason=body.reason,
        metadata=command_metadata(principal),
        authorise=lambda session: access.may_revoke(who, session),
    )
    return {"event_id": str(recorded.id), "revoked_by": principal.sub, **recorded.data}


# -- paper sheets ------------------------------------------------------------------------------


@router.post(
    "/imports",
    openapi_extra={
        "requestBody": {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "required": True,
        }
    },
)
async def import_sheet(
    request: Request,
    runtime: RuntimeDep,
    settings: SettingsDep,
    dry_run: bool = Query(
        default=False, description="check the sheet and list what it would record; save nothing"
    ),
    principal: Principal = require("coordinator", "organiser"),
) -> JSONResponse:
    """Import typed-up paper sign-in sheets (CSV body). Any bad line rejects the whole sheet
    (422, with every error by line); lines already recorded are counted, not errors.
    An organiser imports only sheets of the schemes they organise. With `dry_run`, the same
    checks and answer, plus the `lines` it would record (the first 2,000), and nothing saved."""
    who = await scoped(runtime, principal)
    if not who.has("coordinator") and not who.organises:
        raise Forbidden(f"{who.sub} organises no scheme")
    raw = await request.body()
    if len(raw) > MAX_SHEET_BYTES:
        raise Rejected(f"a sheet is at most {MAX_SHEET_BYTES} bytes", code="sheet_too_large")
    try:
        sheet = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Rejected("the sheet is not UTF-8 text", code="sheet_not_utf8") from None
    plan = await handlers.import_sheet(
        runtime,
        settings,
        sheet,
        now=now(),
        metadata=command_metadata(principal),
        authorise=lambda sessions: access.may_import(who, sessions),
        dry_run=dry_run,
    )
    answer: dict[str, Any] = {
        "imported": plan.imported,
        "already_recorded": plan.already_recorded,
        "sessions": sorted({session_id for session_id, _ in plan.events}),
    }
    if dry_run:
        answer["dry_run"] = True
        answer["lines"] = [
            {
                "session_id": event.session_id,
                "student_number": event.student_number,
                "role": "leader" if isinstance(event, LeaderSignedIn) else "student",
                "signed_in_at": event.signed_in_at.isoformat(),
            }
            for events in plan.events.values()
            for event in events
            if isinstance(event, StudentSignedIn | LeaderSignedIn)
        ][:PREVIEW_LINES]
    return JSONResponse(answer)


# -- feedback ----------------------------------------------------------------------------------


@router.post("/sessions/{session_id}/feedback", status_code=201)
async def give_feedback(
    session_id: str,
    body: FeedbackIn,
    runtime: RuntimeDep,
    settings: SettingsDep,
    principal: Principal = require("student", "leader"),
) -> dict[str, Any]:
    """The comments sheet: once per student per session, only after attending."""
    feedback_id = await handlers.submit_feedback(
        runtime,
        settings,
        SubmitFeedback(
            feedback_id=str(uuid.uuid4()),
            session_id=session_id,
            student_number=principal.sub,
            guard="",
            understanding=body.understanding,
            enjoyable=body.enjoyable,
            recommend=body.recommend,
            comment=body.comment,
            anonymous=body.anonymous,
        ),
        command_metadata(principal),
    )
    return {"feedback_id": feedback_id, "anonymous": body.anonymous}


# -- queries -----------------------------------------------------------------------------------


@router.get("/sessions")
async def list_sessions(
    runtime: RuntimeDep,
    settings: SettingsDep,
    scheme_id: str | None = None,
    room: str | None = None,
    start: datetime | None = Query(default=None, description="ending at or after"),
    end: datetime | None = Query(default=None, description="starting at or before"),
    principal: Principal = require(*ANY_ROLE),
) -> list[dict[str, Any]]:
    """Scheduled sessions as attendance knows them (for kiosks and apps), each with the
    reference a paper sheet may name it by (`PHYS-2026-10-05-14:00`, local time)."""
    async with runtime.engine.connect() as conn:
        return await queries.list_sessions(
            conn, scheme_id=scheme_id, room=room, start=start, end=end, tz=settings.tz
        )


@router.get("/sessions/{session_id}/qr-code")
async def qr_code(
    session_id: str,
    request: Request,
    runtime: RuntimeDep,
    settings: SettingsDep,
    principal: Principal = require("leader", "coordinator", "organiser"),
) -> dict[str, Any]:
    """The current sign-in code of a session (what the QR page shows), for leaders' apps."""
    access.may_show_code(await scoped(runtime, principal), await _session(runtime, session_id))
    at = now()
    code = qr_codes(settings).issue(session_id, at)
    return {
        "code": code,
        "url": sign_in_url(request, settings, code),
        "expires_at": at + timedelta(seconds=settings.qr_validity_seconds),
    }


@router.get("/sessions/{session_id}/headcount")
async def headcount(
    session_id: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator", "organiser", "academic", "integration", "leader"),
) -> dict[str, Any]:
    access.may_read_session(await scoped(runtime, principal), await _session(runtime, session_id))
    async with runtime.engine.connect() as conn:
        return {"session_id": session_id, **await queries.headcount(conn, session_id)}


@router.get("/sessions/{session_id}/attendances")
async def session_attendances(
    session_id: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator", "organiser", "academic", "integration", "leader"),
) -> dict[str, Any]:
    access.may_read_session(await scoped(runtime, principal), await _session(runtime, session_id))
    async with runtime.engine.connect() as conn:
        return {
            "session_id": session_id,
            **await queries.headcount(conn, session_id),
            "attendances": await queries.session_attendances(conn, session_id),
        }


@router.get("/sessions/{session_id}/feedback")
async def session_feedback(
    session_id: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator", "organiser", "leader"),
) -> dict[str, Any]:
    """The session's feedback sheets: named for coordinators; without student numbers for
    the organisers of its scheme and the leaders rostered on it. Academics get the
    evaluation's reports (`/evaluation/feedback`), without comments."""
    view = access.feedback_view(
        await scoped(runtime, principal), await _session(runtime, session_id)
    )
    async with runtime.engine.connect() as conn:
        return await queries.session_feedback(
            conn, session_id, named=view is access.FeedbackView.NAMED
        )


@router.get("/sessions/{session_id}/audit")
async def session_audit(
    session_id: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator", "organiser"),
) -> list[dict[str, Any]]:
    """Every attendance and feedback event of the session, with who caused it (for an
    organiser of its scheme, feedback without its author)."""
    who = await scoped(runtime, principal)
    access.may_audit(who, await _session(runtime, session_id))
    async with runtime.engine.connect() as conn:
        return await queries.audit(
            conn,
            session_id=session_id,
            named_feedback=who.has("coordinator"),
            privacy=runtime.privacy,
        )


@router.get("/audit")
async def audit_by_actor(
    runtime: RuntimeDep,
    actor_id: str = Query(alias="actor", min_length=1),
    principal: Principal = require("coordinator", "organiser"),
) -> list[dict[str, Any]]:
    """Every attendance event a given user caused (anonymous feedback has no actor). An
    organiser sees those in the schemes they organise, and no feedback."""
    who = await scoped(runtime, principal)
    coordinator = who.has("coordinator")
    async with runtime.engine.connect() as conn:
        return await queries.audit(
            conn,
            actor=actor_id,
            schemes=None if coordinator else who.organises,
            named_feedback=coordinator,
            privacy=runtime.privacy,
        )


@router.get("/students/{student_number}/attendance")
async def student_attendance(
    student_number: str,
    runtime: RuntimeDep,
    principal: Principal = require(*ANY_ROLE),
) -> dict[str, Any]:
    """A student's attendance history; students see only their own."""
    access.may_read_student(actor(principal), student_number)
    async with runtime.engine.connect() as conn:
        history = await queries.student_history(conn, student_number)
    return {
        "student_number": student_number,
        "sessions_attended": sum(1 for h in history if h["active"] and h["role"] == "student"),
        "attendances": history,
    }


@router.get("/students/{student_number}/feedback")
async def student_feedback(
    student_number: str,
    runtime: RuntimeDep,
    principal: Principal = require("student", "leader"),
) -> dict[str, Any]:
    """The feedback sheets a student gave with their name on, for the student themself only.
    Anonymous sheets are kept without who gave them, so they are not (and cannot be) listed."""
    if principal.sub != student_number:
        raise Forbidden("you can see only the feedback you gave")
    async with runtime.engine.connect() as conn:
        sheets = await queries.student_feedback(conn, student_number)
    return {"student_number": student_number, "feedback": sheets}


@router.get("/schemes/{scheme_id}/attendance")
async def scheme_attendance(
    scheme_id: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator", "organiser", "academic", "integration"),
) -> dict[str, Any]:
    access.may_read_scheme(await scoped(runtime, principal), scheme_id)
    async with runtime.engine.connect() as conn:
        return await queries.scheme_attendance(conn, scheme_id)


@router.get("/leaders/{student_number}/sessions-delivered")
async def sessions_delivered(
    student_number: str,
    runtime: RuntimeDep,
    principal: Principal = require(*ANY_ROLE),
) -> dict[str, Any]:
    """Sessions a leader delivered (signed in to as rostered leader, not revoked or
    cancelled); leaders see their own."""
    access.may_read_student(actor(principal), student_number)
    async with runtime.engine.connect() as conn:
        return await queries.leader_delivered(conn, student_number)
