"""HTTP routes of the annual report (`/annual/...`).

- `GET /annual/report`: coordinators and academics, any scheme or all; organisers, the schemes
  they organise only. Academics and organisers get it without the feedback comments.
- `POST /annual/graduate-outcomes`: coordinators import graduate outcome records.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel

from passhub_attendance import queries as attendance_queries
from passhub_attendance.annual import charts as annual_charts
from passhub_attendance.annual.document import annual_pdf
from passhub_attendance.annual.export import annual_csv
from passhub_attendance.annual.importing import import_graduate_outcomes
from passhub_attendance.annual.queries import annual_report
from passhub_attendance.annual.report import Audience
from passhub_attendance.annual.settings import AnnualSettings
from passhub_attendance.api.deps import SettingsDep
from passhub_attendance.evaluation import queries as evaluation_queries
from passhub_attendance.evaluation.api import _upload, _year, evaluation_settings
from passhub_attendance.evaluation.events import new_import_id
from passhub_shared.operations.service import Runtime
from passhub_shared.web.app import RuntimeDep, command_metadata
from passhub_shared.web.auth import Principal, require
from passhub_shared.web.errors import Forbidden

router = APIRouter(prefix="/annual", tags=["annual report"])

_FILE = {"schema": {"type": "string", "format": "binary"}}
_FILES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": _FILE, "application/pdf": _FILE}}
}
MEDIA = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


def annual_settings(runtime: Runtime) -> AnnualSettings:
    settings = runtime.state.get("annual_settings")
    if settings is None:
        settings = runtime.state["annual_settings"] = AnnualSettings()
    assert isinstance(settings, AnnualSettings)
    return settings


def audience_of(principal: Principal) -> Audience:
    if principal.has("coordinator"):
        return "coordinator"
    if principal.has("academic"):
        return "academic"
    return "organiser"


async def build(
    runtime: Runtime,
    tz: Any,
    year: str,
    scheme: str | None,
    audience: Audience,
    generated_at: datetime,
) -> dict[str, Any]:
    """The report of `year` (one scheme, or every scheme) as `audience` may read it."""
    async with runtime.engine.connect() as conn:
        return await annual_report(
            conn,
            evaluation_settings(runtime),
            annual_settings(runtime),
            tz,
            year,
            scheme,
            audience,
            generated_at,
        )


def render_pdf(report: dict[str, Any]) -> bytes:
    return annual_pdf(report, annual_charts.all_charts(report))


def with_charts(report: dict[str, Any]) -> dict[str, Any]:
    charts = annual_charts.all_charts(report)
    return report | {
        "charts": {
            name: {
                "alt": annual_charts.ALT[name],
                "src": "data:image/png;base64," + base64.b64encode(png).decode(),
            }
            for name, png in charts.items()
        }
    }


def _stem(year: str, scheme: str | None) -> str:
    safe = "".join(ch for ch in (scheme or "") if ch.isalnum() or ch in "-_")
    return f"annual-report-{year}" + (f"-{safe}" if safe else "")


@router.get(
    "/report",
    responses=_FILES,
    summary="The annual report of a year, for one scheme or every scheme: JSON, CSV or PDF",
)
async def get_report(
    runtime: RuntimeDep,
    local: SettingsDep,
    year: Annotated[str, Query(description="academic year, e.g. 2026-27", max_length=20)],
    scheme: Annotated[
        str | None,
        Query(description="scheme id (2026-27-PHYS) or code (PHYS); every scheme when omitted"),
    ] = None,
    format: Annotated[Literal["json", "csv", "pdf"], Query()] = "json",
    charts: Annotated[
        bool, Query(description="JSON only: add the charts as PNG data URIs (for a page)")
    ] = False,
    principal: Principal = require("coordinator", "organiser", "academic"),
) -> Any:
    academic_year = _year(year)
    audience = audience_of(principal)
    if audience == "organiser":
        if scheme is None:
            raise Forbidden("an organiser reads the reports of the schemes they organise: name one")
        async with runtime.engine.connect() as conn:
            every = await evaluation_queries.schemes_of_year(conn, academic_year)
            chosen = evaluation_queries.resolve_scheme(every, academic_year, scheme)
            theirs = await attendance_queries.schemes_organised(conn, principal.sub)
        if chosen.scheme_id not in theirs:
            raise Forbidden(f"{principal.sub} does not organise scheme {chosen.scheme_id}")
    generated_at = datetime.now(UTC).replace(microsecond=0)
    report = await build(runtime, local.tz, academic_year, scheme, audience, generated_at)
    stem = _stem(academic_year, report["scheme"]["code"] if report["scheme"] else None)
    if format == "json":
        if charts:
            report = await asyncio.to_thread(with_charts, report)
        return Response(orjson.dumps(report), media_type="application/json")
    if format == "csv":
        body, media = annual_csv(report), MEDIA["csv"]
    else:
        body, media = await asyncio.to_thread(render_pdf, report), MEDIA["pdf"]
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'inline; filename="{stem}.{format}"'},
    )


class OutcomesImportResult(BaseModel):
    import_id: str
    rows: int
    events: int
    academic_years: list[str]
    categories: dict[str, int]


@router.post(
    "/graduate-outcomes",
    status_code=201,
    response_model=OutcomesImportResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                },
            },
        }
    },
    summary="Import graduate outcome records (CSV: student_number, academic_year, outcome)",
)
async def post_graduate_outcomes(
    request: Request,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> Any:
    settings = annual_settings(runtime)
    data, name = await _upload(request, settings.max_import_bytes)
    async with runtime.transaction() as conn:
        summary = await import_graduate_outcomes(
            conn,
            runtime.store,
            data,
            command_metadata(principal),
            import_id=new_import_id(),
            rows_per_event=settings.import_event_rows,
            source=name,
        )
    return OutcomesImportResult(**asdict(summary))
