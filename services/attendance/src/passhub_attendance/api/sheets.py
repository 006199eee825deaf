"""The printable paper sign-in sheet of a session (the PDF itself is drawn by `sheets.py`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from passhub_attendance import queries
from passhub_attendance.api.deps import SettingsDep, scoped, session_of
from passhub_attendance.domain import access
from passhub_attendance.sheets import SheetFacts, sign_in_sheet_pdf
from passhub_shared.contracts.sessions import session_reference
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require

router = APIRouter(tags=["paper sheets"])


@router.get(
    "/sessions/{session_id}/sign-in-sheet.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}
    },
)
async def sign_in_sheet(
    session_id: str,
    runtime: RuntimeDep,
    settings: SettingsDep,
    principal: Principal = require("coordinator", "organiser", "leader"),
) -> Response:
    """A printable sign-in sheet for the session (PDF): coordinators, the organisers of its
    scheme and its rostered leaders."""
    session = await session_of(runtime, session_id)
    access.may_show_code(await scoped(runtime, principal), session)
    async with runtime.engine.connect() as conn:
        capacity = await queries.session_capacity(conn, session_id)
    reference = session_reference(
        session.scheme_code or session.scheme_id, session.starts_at, settings.tz
    )
    pdf = sign_in_sheet_pdf(
        SheetFacts(
            reference=reference,
            session_id=session_id,
            scheme_title=session.scheme_title or session.scheme_id,
            room=session.room,
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            capacity=capacity,
            tz=settings.tz,
        )
    )
    safe = "".join(ch for ch in reference if ch.isalnum() or ch in "-_")
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="sign-in-{safe}.pdf"'},
    )
