"""Sign-ins (QR code or its scan receipt, kiosk, a leader adding a student, a leader's own, staff
correcting the record) and their revocation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi import APIRouter, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_attendance import handlers
from passhub_attendance.api.deps import (
    SettingsDep,
    actor,
    context_of,
    in_transaction,
    now,
    qr_codes,
    scoped,
    session_of,
    sign_in,
    student_number_of,
)
from passhub_attendance.api.schemas import (
    AddedByHand,
    AttendanceOut,
    QrSignIn,
    Revocation,
    Revoked,
    Scanned,
    ScanReceipt,
    StudentRef,
)
from passhub_attendance.domain import access
from passhub_attendance.domain.model import Actor, SessionView
from passhub_attendance.domain.qr import InvalidCode
from passhub_attendance.handlers import SignInOutcome, SignInRequest
from passhub_attendance.settings import AttendanceSettings
from passhub_shared.contracts.attendance import Method
from passhub_shared.messages.events import Recorded
from passhub_shared.operations.service import Runtime
from passhub_shared.web.app import RuntimeDep, command_metadata
from passhub_shared.web.auth import Principal, require
from passhub_shared.web.errors import Rejected

router = APIRouter(tags=["attendance"])


def _status(response: Response, outcome: SignInOutcome) -> AttendanceOut:
    """The attendance, 201 when it is new and 200 when the person was already in."""
    response.status_code = 201 if outcome.created else 200
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
    request = SignInRequest(session_id, who.sub, "qr", at, command_metadata(principal))
    return _status(response, await sign_in(runtime, settings, request))


@router.post("/sessions/{session_id}/scan-receipt", response_model=ScanReceipt)
async def scan_receipt(
    session_id: str,
    body: Scanned,
    settings: SettingsDep,
    principal: Principal = require("student", "leader", "integration"),
) -> ScanReceipt:
    """Exchange a still-valid code for a scan receipt: the time to log in and sign in then runs
    from the scan (`qr_grace_seconds`), not from when the code was shown. The code itself is
    never accepted past its validity. The portal asks with its own account when the student
    has not logged in yet."""
    at = now()
    codes = qr_codes(settings)
    receipt = codes.receipt(body.code, at)
    if codes.redeem(receipt, at) != session_id:
        raise InvalidCode("this code belongs to another session", "code_invalid")
    return ScanReceipt(
        session_id=session_id,
        receipt=receipt,
        expires_at=at + timedelta(seconds=settings.qr_grace_seconds),
    )


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
    session = await session_of(runtime, session_id)
    if who.runs(session.scheme_id) and not (
        who.has("leader") and session.is_rostered(who.sub) and not body.reason.strip()
    ):
        reason = body.reason.strip()
        if not reason:
            raise Rejected("adding an attendance by hand needs a reason", code="reason_required")
        at = now()
        request = SignInRequest(
            session_id,
            student_number_of(settings, body.student_number),
            "import",
            at,
            command_metadata(principal),
            at=min(at, session.starts_at),
            authorise=lambda s: access.may_add_after_the_fact(who, s),
            reason=reason,
        )
        return _status(response, await sign_in(runtime, settings, request))
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
    request = SignInRequest(
        session_id,
        student_number_of(settings, body.student_number),
        method,
        now(),
        command_metadata(principal),
        authorise=lambda session: may(who, session),
    )
    return _status(response, await sign_in(runtime, settings, request))


@router.post("/sessions/{session_id}/leader-sign-in", response_model=AttendanceOut, status_code=201)
async def leader_sign_in(
    session_id: str,
    response: Response,
    runtime: RuntimeDep,
    settings: SettingsDep,
    principal: Principal = require("leader"),
) -> AttendanceOut:
    """A leader signs themself in to a session they are rostered on (sessions delivered)."""
    request = SignInRequest(
        session_id, principal.sub, "leader", now(), command_metadata(principal), as_leader=True
    )
    return _status(response, await sign_in(runtime, settings, request))


# -- corrections -------------------------------------------------------------------------------


@router.post("/sessions/{session_id}/attendances/{student_number}/revoke", response_model=Revoked)
async def revoke(
    session_id: str,
    student_number: str,
    body: Revocation,
    runtime: RuntimeDep,
    settings: SettingsDep,
    principal: Principal = require("coordinator", "organiser", "leader"),
) -> Revoked:
    """Revoke an attendance, with a reason (an event: nothing is edited)."""
    who = await scoped(runtime, principal)
    ctx = context_of(runtime, settings, principal)

    async def use_case(conn: AsyncConnection) -> Recorded:
        return await handlers.revoke(
            conn,
            ctx,
            session_id,
            student_number,
            body.reason,
            authorise=lambda session: access.may_revoke(who, session),
        )

    recorded = await in_transaction(runtime, use_case)
    return Revoked(event_id=str(recorded.id), revoked_by=principal.sub, **recorded.data)
