"""Jisc Unified Data Definitions (UDD) files for a learning data hub: `event` (the sessions)
and `student_event` (who was expected at each: the students enrolled on the scheme's
modules), with the UDD's column names and codes.

EVENT_ID is the session's xAPI activity id, as the xAPI bridge writes it in its statements'
`object.id` (`<PASSHUB_ATTENDANCE_XAPI_ACTIVITY_BASE>/sessions/<session id>`), so the hub can
join the attendance statements to these rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Response
from sqlalchemy import and_, func, select

from passhub_attendance.api.deps import SettingsDep
from passhub_attendance.evaluation.csvimport import normalise_year
from passhub_attendance.evaluation.tables import enrolments
from passhub_attendance.tables import scheduled_sessions, schemes
from passhub_shared import csvsafe
from passhub_shared.app import RuntimeDep
from passhub_shared.auth import Principal, require
from passhub_shared.contracts.sessions import session_reference
from passhub_shared.errors import Rejected

router = APIRouter(prefix="/exports/udd", tags=["exports"])

EVENT_COLUMNS = (
    "EVENT_ID",
    "EVENT_NAME",
    "EVENT_DATA_SOURCE",
    "EVENT_DESCRIPTION",
    "EVENT_START",
    "EVENT_END",
    "EVENT_LOCATION",
    "ROOM_ID",
    "EVENT_TYPE",
    "EVENT_TYPE_RAW",
    "MOD_INSTANCE_ID",
    "COURSE_INSTANCE_ID",
    "PROVIDED_AT",
)
STUDENT_EVENT_COLUMNS = (
    "STUDENT_EVENT_ID",
    "EVENT_ID",
    "STUDENT_ID",
    "MOD_INSTANCE_ID",
    "COURSE_INSTANCE_ID",
    "PROVIDED_AT",
)
#: UDD EVENT_TYPE codes have no PASS: 21 is "Other", and EVENT_TYPE_RAW says what it is
EVENT_TYPE_OTHER = "21"
EVENT_TYPE_RAW = "PASS session"
DATA_SOURCE = "passhub"

YearQuery = Annotated[str, Query(description="academic year, e.g. 2026-27", max_length=20)]
SchemeQuery = Annotated[
    str | None,
    Query(description="scheme id (2026-27-PHYS) or code (PHYS); all schemes when omitted"),
]


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """Every CSV of this module, through the kit's formula-safe writer (CRLF lines)."""
    records = (dict(zip(header, row, strict=True)) for row in rows)
    return csvsafe.write_csv(header, records).encode("utf-8")


def udd_time(moment: datetime) -> str:
    """UDD date-times: YYYY-MM-DDThh:mm:ss.mmmZ."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_id(base: str, session_id: str) -> str:
    return f"{base.rstrip('/')}/sessions/{quote(session_id, safe='')}"


def _base(settings: Any) -> str:
    base = str(settings.xapi_activity_base or "")
    if not base:
        raise Rejected(
            "UDD exports need PASSHUB_ATTENDANCE_XAPI_ACTIVITY_BASE, the xAPI bridge's "
            "activity base, so that EVENT_ID matches the statements' object ids",
            code="udd_not_configured",
        )
    return base


def _year(value: str) -> str:
    year = normalise_year(value)
    if year is None:
        raise Rejected(f"year {value!r} is not an academic year like 2026-27", code="invalid_year")
    return year


def _sessions(year: str, scheme: str | None) -> Any:
    query = (
        select(
            scheduled_sessions.c.session_id,
            scheduled_sessions.c.starts_at,
            scheduled_sessions.c.ends_at,
            scheduled_sessions.c.room,
            schemes.c.scheme_id,
            schemes.c.code,
            schemes.c.title,
            schemes.c.modules,
        )
        .select_from(
            scheduled_sessions.join(schemes, schemes.c.scheme_id == scheduled_sessions.c.scheme_id)
        )
        .where(schemes.c.academic_year == year, scheduled_sessions.c.cancelled.is_(False))
        .order_by(scheduled_sessions.c.starts_at, scheduled_sessions.c.session_id)
    )
    if scheme:
        query = query.where(
            (schemes.c.scheme_id == scheme) | (func.upper(schemes.c.code) == scheme.upper())
        )
    return query


def _file(body: bytes, name: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


#: the files are CSV, not JSON
_CSV_FILE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}}}
}


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
    base, academic_year = _base(settings), _year(year)
    provided = udd_time(datetime.now(UTC))
    async with runtime.engine.connect() as conn:
        rows = (await conn.execute(_sessions(academic_year, scheme))).all()
    body = write_csv(
        EVENT_COLUMNS,
        (
            (
                event_id(base, r.session_id),
                f"{r.title} {session_reference(r.code, r.starts_at, settings.tz)}",
                DATA_SOURCE,
                f"{EVENT_TYPE_RAW} in {r.room}",
                udd_time(r.starts_at),
                udd_time(r.ends_at),
                "",
                r.room,
                EVENT_TYPE_OTHER,
                EVENT_TYPE_RAW,
                r.modules[0] if r.modules else "",
                "",
                provided,
            )
            for r in rows
        ),
    )
    return _file(body, f"event-{academic_year}.csv")


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
    base, academic_year = _base(settings), _year(year)
    provided = udd_time(datetime.now(UTC))
    sessions = _sessions(academic_year, scheme).subquery()
    module = func.unnest(sessions.c.modules).table_valued("module").render_derived()
    expected = (
        select(
            sessions.c.session_id,
            enrolments.c.student_number,
            func.min(enrolments.c.module).label("module"),
        )
        .select_from(
            sessions.join(module, module.c.module.isnot(None)).join(
                enrolments,
                and_(
                    enrolments.c.academic_year == academic_year,
                    enrolments.c.module == module.c.module,
                ),
            )
        )
        .group_by(sessions.c.session_id, sessions.c.starts_at, enrolments.c.student_number)
        .order_by(sessions.c.starts_at, sessions.c.session_id, enrolments.c.student_number)
    )
    async with runtime.engine.connect() as conn:
        rows = (await conn.execute(expected)).all()
    body = write_csv(
        STUDENT_EVENT_COLUMNS,
        (
            (
                f"{r.session_id}/{r.student_number}",
                event_id(base, r.session_id),
                r.student_number,
                r.module,
                "",
                provided,
            )
            for r in rows
        ),
    )
    return _file(body, f"student_event-{academic_year}.csv")
