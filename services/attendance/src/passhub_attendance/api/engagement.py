"""Engagement per scheme: the students who came a few times and stopped, and the regulars
who have not come for a while (read in the database, sorted and paged:
`queries.engagement_rows`), as a page or a CSV file."""

from __future__ import annotations

import csv
import io
from datetime import tzinfo
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from passhub_attendance import queries
from passhub_attendance.api.deps import SettingsDep, now, scoped
from passhub_attendance.api.schemas import (
    Disengaged,
    EngagementKind,
    EngagementPage,
    EngagementSort,
)
from passhub_attendance.domain import access
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require

router = APIRouter(tags=["overview"])


def engagement_csv(students: list[Disengaged], tz: tzinfo) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["student_number", "kind", "sessions", "first_attended", "last_attended", "missed"]
    )
    for s in students:
        writer.writerow(
            [
                s.student_number,
                s.kind,
                s.sessions,
                s.first_attended.astimezone(tz).date().isoformat(),
                s.last_attended.astimezone(tz).date().isoformat(),
                s.missed,
            ]
        )
    return out.getvalue().encode()


@router.get(
    "/schemes/{scheme_id}/engagement",
    response_model=EngagementPage,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def engagement(
    scheme_id: str,
    runtime: RuntimeDep,
    settings: SettingsDep,
    weeks: Annotated[int, Query(ge=1, le=52, description="no attendance for this many weeks")] = 3,
    kind: EngagementKind | None = None,
    sort: EngagementSort = "last_attended",
    order: Literal["asc", "desc"] = "asc",
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    format: Literal["json", "csv"] = "json",
    principal: Principal = require("coordinator", "organiser"),
) -> EngagementPage | Response:
    """Students who came to 1 to 3 sessions and stopped, and regulars who have not come for
    `weeks` weeks (3 by default), with the sessions they missed since; `format=csv` exports the
    whole list (paging ignored). For coordinators and the scheme's organisers."""
    access.may_read_scheme(await scoped(runtime, principal), scheme_id)
    at = now()
    async with runtime.engine.connect() as conn:
        total, rows = await queries.engagement_rows(
            conn,
            scheme_id,
            at=at,
            weeks=weeks,
            kind=kind,
            sort=sort,
            descending=order == "desc",
            offset=0 if format == "csv" else offset,
            limit=None if format == "csv" else limit,
        )
    students = [Disengaged.model_validate(row) for row in rows]
    if format == "csv":
        safe = "".join(ch for ch in scheme_id if ch.isalnum() or ch in "-_")
        return Response(
            engagement_csv(students, settings.tz),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="engagement-{safe}.csv"'},
        )
    return EngagementPage(
        scheme_id=scheme_id,
        at=at,
        weeks=weeks,
        total=total,
        offset=offset,
        limit=limit,
        students=students,
    )
