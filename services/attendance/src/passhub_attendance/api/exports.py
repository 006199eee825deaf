"""Exports for other systems: the Jisc UDD `event` and `student_event` files (`udd.py`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_attendance import queries, udd
from passhub_attendance.api.deps import SettingsDep
from passhub_attendance.settings import AttendanceSettings
from passhub_shared.operations.service import Runtime
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require

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


async def _export(
    runtime: Runtime,
    settings: AttendanceSettings,
    year: str,
    scheme: str | None,
    read: Callable[[AsyncConnection, str, str | None], Awaitable[list[Any]]],
    write: Callable[[list[Any], str, datetime], bytes],
    name: str,
) -> Response:
    """One UDD file: the rows `read` gives for the year (and scheme), as `write` lays them out."""
    base, academic_year = udd.activity_base(settings), udd.academic_year(year)
    provided = datetime.now(UTC)
    async with runtime.engine.connect() as conn:
        rows = await read(conn, academic_year, scheme)
    return _file(write(rows, base, provided), f"{name}-{academic_year}.csv")


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
    def write(rows: list[Any], base: str, provided: datetime) -> bytes:
        return udd.event_csv(rows, base, settings.tz, provided)

    return await _export(runtime, settings, year, scheme, queries.udd_sessions, write, "event")


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
    return await _export(
        runtime,
        settings,
        year,
        scheme,
        queries.udd_expected,
        udd.student_event_csv,
        "student_event",
    )
