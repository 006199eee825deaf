"""Sessions as attendance knows them: the list (for kiosks and apps), a session's sign-in code,
its headcount and its attendances."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Query, Request

from passhub_attendance import queries
from passhub_attendance.api.deps import (
    ANY_ROLE,
    SettingsDep,
    now,
    qr_codes,
    scoped,
    session_of,
    sign_in_url,
)
from passhub_attendance.api.schemas import Headcount, QrCode, SessionAttendances, SessionListed
from passhub_attendance.domain import access
from passhub_shared.operations.service import Runtime
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require

router = APIRouter(tags=["attendance"])

#: who reads a session's headcount and attendances (scoped further by `access.may_read_session`)
SESSION_READERS = ("coordinator", "organiser", "academic", "integration", "leader")


async def _readable(runtime: Runtime, principal: Principal, session_id: str) -> None:
    """The caller may read the session's headcount and attendances (`NotFound` if none)."""
    access.may_read_session(await scoped(runtime, principal), await session_of(runtime, session_id))


@router.get("/sessions", response_model=list[SessionListed])
async def list_sessions(
    runtime: RuntimeDep,
    settings: SettingsDep,
    scheme_id: str | None = None,
    room: str | None = None,
    start: datetime | None = Query(default=None, description="ending at or after"),
    end: datetime | None = Query(default=None, description="starting at or before"),
    principal: Principal = require(*ANY_ROLE),
) -> list[SessionListed]:
    """Scheduled sessions as attendance knows them (for kiosks and apps), each with the
    reference a paper sheet may name it by (`PHYS-2026-10-05-14:00`, local time)."""
    async with runtime.engine.connect() as conn:
        rows = await queries.list_sessions(
            conn, scheme_id=scheme_id, room=room, start=start, end=end, tz=settings.tz
        )
    return [SessionListed.model_validate(row) for row in rows]


@router.get("/sessions/{session_id}/qr-code", response_model=QrCode)
async def qr_code(
    session_id: str,
    request: Request,
    runtime: RuntimeDep,
    settings: SettingsDep,
    principal: Principal = require("leader", "coordinator", "organiser"),
) -> QrCode:
    """The current sign-in code of a session (what the QR page shows), for leaders' apps."""
    access.may_show_code(await scoped(runtime, principal), await session_of(runtime, session_id))
    at = now()
    code = qr_codes(settings).issue(session_id, at)
    return QrCode(
        code=code,
        url=sign_in_url(request, settings, code),
        expires_at=at + timedelta(seconds=settings.qr_validity_seconds),
    )


@router.get("/sessions/{session_id}/headcount", response_model=Headcount)
async def headcount(
    session_id: str,
    runtime: RuntimeDep,
    principal: Principal = require(*SESSION_READERS),
) -> Headcount:
    await _readable(runtime, principal, session_id)
    async with runtime.engine.connect() as conn:
        return Headcount(session_id=session_id, **await queries.headcount(conn, session_id))


@router.get("/sessions/{session_id}/attendances", response_model=SessionAttendances)
async def session_attendances(
    session_id: str,
    runtime: RuntimeDep,
    principal: Principal = require(*SESSION_READERS),
) -> SessionAttendances:
    await _readable(runtime, principal, session_id)
    async with runtime.engine.connect() as conn:
        return SessionAttendances.model_validate(
            {
                "session_id": session_id,
                **await queries.headcount(conn, session_id),
                "attendances": await queries.session_attendances(conn, session_id),
            }
        )
