"""Typed-up paper sign-in sheets (CSV), imported all or nothing."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_attendance import handlers
from passhub_attendance.api.deps import SettingsDep, context_of, in_transaction, scoped
from passhub_attendance.api.schemas import Imported, ImportLine
from passhub_attendance.domain import access
from passhub_attendance.domain.imports import ImportPlan
from passhub_shared.contracts.attendance import LeaderSignedIn, StudentSignedIn
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require
from passhub_shared.web.errors import Forbidden, Rejected

router = APIRouter(tags=["attendance"])

MAX_SHEET_BYTES = 5_000_000
#: sign-ins a preview of a sheet lists
PREVIEW_LINES = 2000


class _Checked(Exception):  # a way out of the transaction, not an error
    """A sheet checked without importing it: raised inside the transaction to roll back what
    reading the sheet wrote (the pseudonyms of people new to the service)."""

    def __init__(self, plan: ImportPlan) -> None:
        super().__init__("checked")
        self.plan = plan


@router.post(
    "/imports",
    response_model=Imported,
    response_model_exclude_none=True,
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
) -> Imported:
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
    lines = await handlers.read_sheet(settings, sheet)
    ctx = context_of(runtime, settings, principal)

    async def use_case(conn: AsyncConnection) -> ImportPlan:
        plan = await handlers.import_sheet(
            conn,
            ctx,
            lines,
            authorise=lambda sessions: access.may_import(who, sessions),
            dry_run=dry_run,
        )
        if dry_run:
            raise _Checked(plan)
        return plan

    try:
        plan = await in_transaction(runtime, use_case)
    except _Checked as checked:
        plan = checked.plan
    answer = Imported(
        imported=plan.imported,
        already_recorded=plan.already_recorded,
        sessions=sorted({session_id for session_id, _ in plan.events}),
    )
    if dry_run:
        answer.dry_run = True
        answer.lines = [
            ImportLine(
                session_id=event.session_id,
                student_number=event.student_number,
                role="leader" if isinstance(event, LeaderSignedIn) else "student",
                signed_in_at=event.signed_in_at.isoformat(),
            )
            for events in plan.events.values()
            for event in events
            if isinstance(event, StudentSignedIn | LeaderSignedIn)
        ][:PREVIEW_LINES]
    return answer
