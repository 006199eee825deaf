"""Exports for other systems: the Jisc UDD `event` and `student_event` files (`udd.py`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from passhub_attendance import queries, udd
from passhub_attendance.api.deps import SettingsDep
from passhub_shared.app import RuntimeDep
from passhub_shared.auth import Principal, require

router = APIRouter(prefix="/exports/udd", tags=["exports"])

YearQuery = Annotated[str, Query(description="academic year, e.g. 2026-27", max_length=20)]
SchemeQuery = Annotated[
    str | None,
    Query(description="scheme id (2026-27-PHYS) or code (PHYS); all schemes when omitted"),
]

#: the files are CSV, not JSON
_CSV_FILE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}}}
}


def _file(body: bytes, name: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/event.csv",
    response_class=Response,
    responses=_CSV_FILE,
    summary="UDD `event`: the year's sessions (not cancelled)",
)
async def udd_events(
    runtime: RuntimeDep,
    settings: SettingsDep,
    year: YearQuery,
    scheme: SchemeQuery = None,
    principal: Principal = require("coordinator", "integration"),
) -> Response:
    base, academic_year = udd.activity_base(settings), udd.academic_year(year)
    provided = datetime.now(UTC)
    async with runtime.engine.connect() as conn:
        rows = await queries.udd_sessions(conn, academic_year, scheme)
    return _file(udd.event_csv(rows, base, settings.tz, provided), f"event-{academic_year}.csv")


@router.get(
    "/student_event.csv",
    response_class=Response,
    responses=_CSV_FILE,
    summary="UDD `student_event`: who was expected at each session (enrolled on its modules)",
)
async def udd_student_events(
    runtime: RuntimeDep,
    settings: SettingsDep,
    year: YearQuery,
    scheme: SchemeQuery = None,
    principal: Principal = require("coordinator", "integration"),
) -> Response:
    base, academic_year = udd.activity_base(settings), udd.academic_year(year)
    provided = datetime.now(UTC)
    async with runtime.engine.connect() as conn:
        rows = await queries.udd_expected(conn, academic_year, scheme)
    body = udd.student_event_csv(rows, base, provided)
    return _file(body, f"student_event-{academic_year}.csv")
