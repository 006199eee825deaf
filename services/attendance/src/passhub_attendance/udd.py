"""Jisc Unified Data Definitions (UDD) files for a learning data hub: `event` (the sessions)
and `student_event` (who was expected at each: the students enrolled on the scheme's
modules), with the UDD's column names and codes.

EVENT_ID is the session's xAPI activity id, as the xAPI bridge writes it in its statements'
`object.id` (`<PASSHUB_ATTENDANCE_XAPI_ACTIVITY_BASE>/sessions/<session id>`), so the hub can
join the attendance statements to these rows.

A concern of its own beside the service's layers: an external file format (its columns, codes
and time format), written from the rows `queries.udd_sessions` and `queries.udd_expected`
read; the routes are in `api/exports.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import quote

from passhub_attendance.evaluation.csvimport import normalise_year
from passhub_attendance.settings import AttendanceSettings
from passhub_shared.contracts.sessions import session_reference
from passhub_shared.web import csvsafe
from passhub_shared.web.errors import Rejected

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


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """Every CSV of this module, through the kit's formula-safe writer (CRLF lines)."""
    records = (dict(zip(header, row, strict=True)) for row in rows)
    return csvsafe.write_csv(header, records).encode("utf-8")


def udd_time(moment: datetime) -> str:
    """UDD date-times: YYYY-MM-DDThh:mm:ss.mmmZ."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_id(base: str, session_id: str) -> str:
    return f"{base.rstrip('/')}/sessions/{quote(session_id, safe='')}"


def activity_base(settings: AttendanceSettings) -> str:
    """The xAPI bridge's activity base; the exports refuse to run without it."""
    base = str(settings.xapi_activity_base or "")
    if not base:
        raise Rejected(
            "UDD exports need PASSHUB_ATTENDANCE_XAPI_ACTIVITY_BASE, the xAPI bridge's "
            "activity base, so that EVENT_ID matches the statements' object ids",
            code="udd_not_configured",
        )
    return base


def academic_year(value: str) -> str:
    year = normalise_year(value)
    if year is None:
        raise Rejected(f"year {value!r} is not an academic year like 2026-27", code="invalid_year")
    return year


def event_csv(rows: Iterable[Any], base: str, tz: tzinfo, provided: datetime) -> bytes:
    """The `event` file of the sessions `queries.udd_sessions` read."""
    at = udd_time(provided)
    return write_csv(
        EVENT_COLUMNS,
        (
            (
                event_id(base, r.session_id),
                f"{r.title} {session_reference(r.code, r.starts_at, tz)}",
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
                at,
            )
            for r in rows
        ),
    )


def student_event_csv(rows: Iterable[Any], base: str, provided: datetime) -> bytes:
    """The `student_event` file of the rows `queries.udd_expected` read."""
    at = udd_time(provided)
    return write_csv(
        STUDENT_EVENT_COLUMNS,
        (
            (
                f"{r.session_id}/{r.student_number}",
                event_id(base, r.session_id),
                r.student_number,
                r.module,
                "",
                at,
            )
            for r in rows
        ),
    )
