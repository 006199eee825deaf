"""HTTP routes of the evaluation (`/evaluation/...`): imports (coordinators) and reports
(coordinators, student organisers, academics)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from passhub_attendance.api.deps import SettingsDep
from passhub_attendance.evaluation import queries, render
from passhub_attendance.evaluation.csvimport import normalise_year
from passhub_attendance.evaluation.events import TitleRow, new_import_id
from passhub_attendance.evaluation.importing import (
    import_enrolments,
    import_history,
    import_history_sessions,
    import_results,
    read_enrolments,
    read_history,
    read_history_sessions,
    read_results,
    set_titles,
    titles_from_csv,
)
from passhub_attendance.evaluation.report import (
    FeedbackReport,
    OutcomeReport,
    TemplateReport,
    TrendReport,
    build_template,
)
from passhub_attendance.evaluation.settings import EvaluationSettings
from passhub_shared.operations.service import Runtime
from passhub_shared.web.app import RuntimeDep, command_metadata
from passhub_shared.web.auth import Principal, require
from passhub_shared.web.errors import Rejected
from passhub_shared.web.offload import collector_paused, release

router = APIRouter(prefix="/evaluation", tags=["evaluation"])

REPORT_ROLES = ("coordinator", "organiser", "academic")

YearQuery = Annotated[str, Query(description="academic year, e.g. 2026-27", max_length=20)]
SchemeQuery = Annotated[
    str | None,
    Query(description="scheme id (2026-27-PHYS) or code (PHYS); all schemes when omitted"),
]
FormatQuery = Annotated[
    Literal["json", "csv", "png", "svg"], Query(description="json, csv, or a png/svg chart")
]

_FILE = {"schema": {"type": "string", "format": "binary"}}
#: what a report answers besides its JSON, as `format` asks: a CSV file or a chart
_REPORT_FILES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": _FILE, "image/png": _FILE, "image/svg+xml": _FILE}}
}
#: what a report that has no chart answers besides its JSON
_CSV_FILE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": _FILE}}}

_CSV_BODY: dict[str, Any] = {
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
}


def evaluation_settings(runtime: Runtime) -> EvaluationSettings:
    settings = runtime.state.get("evaluation_settings")
    if settings is None:
        settings = runtime.state["evaluation_settings"] = EvaluationSettings()
    assert isinstance(settings, EvaluationSettings)
    return settings


def _year(value: str) -> str:
    year = normalise_year(value)
    if year is None:
        raise Rejected(f"year {value!r} is not an academic year like 2026-27", code="invalid_year")
    return year


class ImportResult(BaseModel):
    import_id: str
    kind: Literal["enrolments", "results", "history", "history_sessions", "titles"]
    rows: int
    events: int
    academic_years: list[str]
    modules: list[str]
    replaced_modules: list[str]
    #: history: years whose every row was already held (nothing appended for them)
    unchanged_years: list[str] = []
    #: session rows: the attendances not held before, which the import adds
    new_rows: int | None = None
    #: session rows: rows repeating an earlier row of the file (the same attendance, once)
    duplicate_rows: int = 0
    #: true for a preview (`dry_run`): the file was checked and counted, nothing was saved
    dry_run: bool = False


class _Preview(Exception):  # a way out of the transaction, not an error
    """Raised inside an import's transaction to roll a dry run back, with its summary."""

    def __init__(self, result: ImportResult) -> None:
        super().__init__("preview")
        self.result = result


DryRunQuery = Annotated[
    bool,
    Query(description="check the file and answer what it would import (200), saving nothing"),
]


async def _upload(request: Request, limit: int) -> tuple[bytes, str]:
    """The CSV from a raw `text/csv` body or a multipart form's `file` field, and its name."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Rejected(f"the file is larger than {limit} bytes", code="too_large")
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise Rejected("the form needs a `file` field with the CSV file", code="no_file")
        data = await upload.read()
        name = upload.filename or ""
    else:
        data = await request.body()
        name = request.headers.get("x-filename", "")
    if len(data) > limit:
        raise Rejected(f"the file is larger than {limit} bytes", code="too_large")
    if not data or data.isspace():  # (strip() would copy a large file on the event loop)
        raise Rejected("the request has no CSV file in it", code="no_file")
    return data, name[:200]


@router.post(
    "/enrolments",
    status_code=201,
    response_model=ImportResult,
    openapi_extra=_CSV_BODY,
    summary="Import module enrolments (CSV: student_number, module, academic_year"
    "[, prior_attainment])",
)
async def post_enrolments(
    request: Request,
    runtime: RuntimeDep,
    prior_measure: Annotated[
        str | None,
        Query(max_length=100, description="what prior_attainment measures, e.g. entry tariff"),
    ] = None,
    replace: Annotated[
        bool, Query(description="replace the earlier enrolments of the file's modules and years")
    ] = False,
    dry_run: DryRunQuery = False,
    principal: Principal = require("coordinator"),
) -> Any:
    settings = evaluation_settings(runtime)
    with collector_paused():
        data, name = await _upload(request, settings.max_import_bytes)
        # the only reference to the rows read, so that `release` frees them off the event loop
        box = [await read_enrolments(data)]
        try:
            async with runtime.transaction() as conn:
                summary = await import_enrolments(
                    conn,
                    runtime.store,
                    box[0],
                    settings,
                    command_metadata(principal),
                    import_id=new_import_id(),
                    prior_measure=prior_measure,
                    replace=replace,
                    source=name,
                )
                if dry_run:
                    raise _Preview(ImportResult(**asdict(summary), dry_run=True))
        except _Preview as preview:
            await release(box)
            return JSONResponse(preview.result.model_dump(), status_code=200)
        await release(box)
    return ImportResult(**asdict(summary))


@router.post(
    "/results",
    status_code=201,
    response_model=ImportResult,
    openapi_extra=_CSV_BODY,
    summary="Import module results (CSV: student_number, module, academic_year, mark and/or "
    "grade[, passed][, withdrawn])",
)
async def post_results(
    request: Request,
    runtime: RuntimeDep,
    replace: Annotated[
        bool, Query(description="replace the earlier results of the file's modules and years")
    ] = False,
    dry_run: DryRunQuery = False,
    principal: Principal = require("coordinator"),
) -> Any:
    settings = evaluation_settings(runtime)
    with collector_paused():
        data, name = await _upload(request, settings.max_import_bytes)
        box = [await read_results(data, settings.grade_scale, settings.outcome_codes)]
        try:
            async with runtime.transaction() as conn:
                summary = await import_results(
                    conn,
                    runtime.store,
                    box[0],
                    settings,
                    command_metadata(principal),
                    import_id=new_import_id(),
                    replace=replace,
                    source=name,
                )
                if dry_run:
                    raise _Preview(ImportResult(**asdict(summary), dry_run=True))
        except _Preview as preview:
            await release(box)
            return JSONResponse(preview.result.model_dump(), status_code=200)
        await release(box)
    return ImportResult(**asdict(summary))


def _file_response(body: bytes, fmt: str, stem: str) -> Response:
    extension = "csv" if fmt == "csv" else fmt
    return Response(
        body,
        media_type=render.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'inline; filename="{stem}.{extension}"'},
    )


def _stem(kind: str, year: str, scheme: str | None) -> str:
    safe = "".join(ch for ch in (scheme or "") if ch.isalnum() or ch in "-_")
    return f"{kind}-{year}" + (f"-{safe}" if safe else "")


@router.get(
    "/outcomes",
    response_model=OutcomeReport,
    responses=_REPORT_FILES,
    summary="Participation against module outcomes, per module and per scheme",
)
async def get_outcomes(
    runtime: RuntimeDep,
    year: YearQuery,
    scheme: SchemeQuery = None,
    module: Annotated[list[str] | None, Query(description="only these modules")] = None,
    format: FormatQuery = "json",
    chart: Annotated[
        Literal["regular", "bands"],
        Query(description="chart groups: 0 / occasional / regular, or the SI bands"),
    ] = "regular",
    principal: Principal = require(*REPORT_ROLES),
) -> Any:
    academic_year = _year(year)
    settings = evaluation_settings(runtime)
    async with runtime.engine.connect() as conn:
        report = await queries.outcome_report(conn, academic_year, settings, scheme, module)
    stem = _stem("outcomes", academic_year, scheme)
    if format == "json":
        return report
    if format == "csv":
        return _file_response(render.outcomes_csv(report), "csv", stem)
    body = await asyncio.to_thread(render.outcomes_chart, report, format, chart)
    return _file_response(body, format, stem)


@router.get(
    "/feedback",
    response_model=FeedbackReport,
    responses=_REPORT_FILES,
    summary="Survey results per scheme and per session (comments for coordinators only)",
)
async def get_feedback(
    runtime: RuntimeDep,
    local: SettingsDep,
    year: YearQuery,
    scheme: SchemeQuery = None,
    format: FormatQuery = "json",
    principal: Principal = require(*REPORT_ROLES),
) -> Any:
    academic_year = _year(year)
    settings = evaluation_settings(runtime)
    comments = principal.has("coordinator") and format == "json"
    async with runtime.engine.connect() as conn:
        report = await queries.feedback_report(conn, academic_year, settings, scheme, comments)
    stem = _stem("feedback", academic_year, scheme)
    if format == "json":
        return report
    if format == "csv":
        return _file_response(render.feedback_csv(report), "csv", stem)
    body = await asyncio.to_thread(render.feedback_chart, report, format, local.tz)
    return _file_response(body, format, stem)


@router.get(
    "/feedback/comments",
    responses=_CSV_FILE,
    summary="Free-text feedback comments (coordinators only)",
)
async def get_comments(
    runtime: RuntimeDep,
    year: YearQuery,
    scheme: SchemeQuery = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    principal: Principal = require("coordinator"),
) -> Any:
    academic_year = _year(year)
    settings = evaluation_settings(runtime)
    async with runtime.engine.connect() as conn:
        report = await queries.feedback_report(conn, academic_year, settings, scheme, True)
    if format == "csv":
        return _file_response(
            render.comments_csv(report), "csv", _stem("comments", academic_year, scheme)
        )
    return [c.model_dump(mode="json") for c in report.comments or []]


async def _import_past(
    request: Request,
    runtime: Runtime,
    principal: Principal,
    dry_run: bool,
    read: Callable[[bytes], Awaitable[Any]],
    run: Callable[..., Awaitable[Any]],
) -> Any:
    """A past-attendance import (counts or session rows): the upload read off the loop, then
    imported in one transaction, rolled back when it is a dry run."""
    settings = evaluation_settings(runtime)
    with collector_paused():
        data, name = await _upload(request, settings.max_import_bytes)
        box = [await read(data)]
        try:
            async with runtime.transaction() as conn:
                summary = await run(
                    conn,
                    runtime.store,
                    box[0],
                    settings,
                    command_metadata(principal),
                    import_id=new_import_id(),
                    source=name,
                )
                if dry_run:
                    raise _Preview(ImportResult(**asdict(summary), dry_run=True))
        except _Preview as preview:
            await release(box)
            return JSONResponse(preview.result.model_dump(), status_code=200)
        await release(box)
    return ImportResult(**asdict(summary))


@router.post(
    "/history",
    status_code=201,
    response_model=ImportResult,
    openapi_extra=_CSV_BODY,
    summary="Import past attendance as counts (CSV: student_number, module, academic_year, "
    "sessions_attended)",
)
async def post_history(
    request: Request,
    runtime: RuntimeDep,
    dry_run: DryRunQuery = False,
    principal: Principal = require("coordinator"),
) -> Any:
    """Only rows that change a count are appended: the same file again appends nothing
    (`unchanged_years`)."""
    return await _import_past(request, runtime, principal, dry_run, read_history, import_history)


@router.post(
    "/history/sessions",
    status_code=201,
    response_model=ImportResult,
    openapi_extra=_CSV_BODY,
    summary="Import past attendance as session rows, one per session attended (CSV: "
    "student_number, module, academic_year, session_date[, session_ref])",
)
async def post_history_sessions(
    request: Request,
    runtime: RuntimeDep,
    dry_run: DryRunQuery = False,
    principal: Principal = require("coordinator"),
) -> Any:
    """Only rows not held already are appended (`new_rows`): the same file again appends
    nothing (`unchanged_years`). A row repeating another of the file is one attendance
    (`duplicate_rows`)."""
    return await _import_past(
        request, runtime, principal, dry_run, read_history_sessions, import_history_sessions
    )


@router.post(
    "/module-titles",
    status_code=201,
    response_model=ImportResult,
    summary="Set module titles: CSV (module, title) or a JSON object {module: title}",
)
async def post_module_titles(
    request: Request,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> Any:
    settings = evaluation_settings(runtime)
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            raise Rejected("the body is not valid JSON", code="invalid_json") from None
        if not isinstance(body, dict) or not body:
            raise Rejected(
                'the body must be an object of module: title, e.g. {"MATH101": "Calculus I"}',
                code="invalid_titles",
            )
        rows = []
        for module, title in body.items():
            module = str(module).strip()
            if not module or not isinstance(title, str) or not 0 < len(title.strip()) <= 200:
                raise Rejected(
                    f"module {module!r}: a title is text of 1 to 200 characters",
                    code="invalid_titles",
                )
            rows.append(TitleRow(module=module, title=title.strip()))
        name = ""
    else:
        data, name = await _upload(request, settings.max_import_bytes)
        rows = titles_from_csv(data)
    async with runtime.transaction() as conn:
        summary = await set_titles(
            conn,
            runtime.store,
            rows,
            command_metadata(principal),
            import_id=new_import_id(),
            source=name,
        )
    return ImportResult(**asdict(summary))


@router.get(
    "/trends",
    response_model=TrendReport,
    responses=_REPORT_FILES,
    summary="Participation and the raw and adjusted differences per module across years",
)
async def get_trends(
    runtime: RuntimeDep,
    module: Annotated[list[str] | None, Query(description="only these modules")] = None,
    since: Annotated[str | None, Query(description="first academic year", max_length=20)] = None,
    until: Annotated[str | None, Query(description="last academic year", max_length=20)] = None,
    format: FormatQuery = "json",
    principal: Principal = require(*REPORT_ROLES),
) -> Any:
    first = _year(since) if since else None
    last = _year(until) if until else None
    settings = evaluation_settings(runtime)
    async with runtime.engine.connect() as conn:
        report = await queries.trend_report(conn, settings, module, first, last)
    if format == "json":
        return report
    if format == "csv":
        return _file_response(render.trends_csv(report), "csv", "trends")
    body = await asyncio.to_thread(render.trends_chart, report, format)
    return _file_response(body, format, "trends")


@router.get(
    "/template",
    response_model=TemplateReport,
    responses=_CSV_FILE,
    summary="The International Center for SI's data template (icsi) or the UK equivalent (uk), "
    "one row per course",
)
async def get_template(
    runtime: RuntimeDep,
    year: YearQuery,
    scheme: SchemeQuery = None,
    module: Annotated[list[str] | None, Query(description="only these modules")] = None,
    template: Annotated[Literal["icsi", "uk"], Query()] = "icsi",
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    principal: Principal = require(*REPORT_ROLES),
) -> Any:
    academic_year = _year(year)
    settings = evaluation_settings(runtime)
    async with runtime.engine.connect() as conn:
        outcomes = await queries.outcome_report(conn, academic_year, settings, scheme, module)
    report = build_template(outcomes, template)
    if format == "csv":
        return _file_response(
            render.template_csv(report), "csv", _stem(f"{template}-template", academic_year, scheme)
        )
    return report
