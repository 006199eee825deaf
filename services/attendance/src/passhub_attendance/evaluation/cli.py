"""`passhub report ...`: the evaluation reports from the command line, read straight from the
attendance database (`PASSHUB_ATTENDANCE_DATABASE_URL`, or `PASSHUB_DATABASE_URL`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from passhub_attendance.evaluation import queries, render
from passhub_attendance.evaluation.csvimport import normalise_year
from passhub_attendance.evaluation.report import (
    FeedbackReport,
    OutcomeReport,
    TemplateReport,
    TrendReport,
    build_template,
)
from passhub_attendance.evaluation.settings import EvaluationSettings
from passhub_attendance.settings import AttendanceSettings
from passhub_shared.operations import loop
from passhub_shared.operations.settings import load_settings
from passhub_shared.web.errors import Rejected

app = typer.Typer(
    help="Scheme evaluation: participation against outcomes, and survey results.",
    no_args_is_help=True,
)

T = TypeVar("T")

YearOption = Annotated[str, typer.Option("--year", "-y", help="academic year, e.g. 2026-27")]
SchemeOption = Annotated[
    str | None, typer.Option("--scheme", "-s", help="scheme id or code; all schemes if omitted")
]
FormatOption = Annotated[str, typer.Option("--format", "-f", help="json, csv, png or svg")]
OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="file to write; default: stdout for json/csv, a file for charts"
    ),
]


def _read(work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_async_engine(load_settings("attendance").database_url)
        try:
            async with engine.connect() as conn:
                return await work(conn)
        finally:
            await engine.dispose()

    try:
        return loop.run(run())
    except Rejected as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None


def _check(year: str, fmt: str) -> str:
    if fmt not in render.FORMATS:
        raise typer.BadParameter(f"{fmt!r}: choose json, csv, png or svg", param_hint="--format")
    academic_year = normalise_year(year)
    if academic_year is None:
        raise typer.BadParameter(f"{year!r} is not like 2026-27", param_hint="--year")
    return academic_year


def _write(body: bytes, fmt: str, output: Path | None, stem: str) -> None:
    if output is None and fmt in ("json", "csv"):
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    path = output or Path(f"{stem}.{fmt}")
    if str(path) == "-":
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    path.write_bytes(body)
    typer.echo(f"wrote {path}", err=True)


def _stem(kind: str, year: str, scheme: str | None) -> str:
    safe = "".join(ch for ch in (scheme or "") if ch.isalnum() or ch in "-_")
    return f"{kind}-{year}" + (f"-{safe}" if safe else "")


@app.command()
def outcomes(
    year: YearOption,
    scheme: SchemeOption = None,
    module: Annotated[
        list[str] | None, typer.Option("--module", "-m", help="only this module (repeatable)")
    ] = None,
    fmt: FormatOption = "json",
    output: OutputOption = None,
    chart: Annotated[
        str,
        typer.Option(help="chart groups: regular (0 / 1-3 / 4+) or bands (0 / 1-4 / 5-9 / 10+)"),
    ] = "regular",
) -> None:
    """Participation against module outcomes, per module and per scheme."""
    academic_year = _check(year, fmt)
    settings = EvaluationSettings()

    async def work(conn: AsyncConnection) -> OutcomeReport:
        return await queries.outcome_report(conn, academic_year, settings, scheme, module or None)

    report = _read(work)
    if fmt == "json":
        body = report.model_dump_json(indent=2).encode() + b"\n"
    elif fmt == "csv":
        body = render.outcomes_csv(report)
    else:
        body = render.outcomes_chart(report, fmt, chart)
    _write(body, fmt, output, _stem("outcomes", academic_year, scheme))


@app.command()
def feedback(
    year: YearOption,
    scheme: SchemeOption = None,
    fmt: FormatOption = "json",
    output: OutputOption = None,
    comments: Annotated[
        bool, typer.Option("--comments", help="the free-text comments instead (json or csv)")
    ] = False,
) -> None:
    """Survey results (% agree per item) per scheme and per session."""
    academic_year = _check(year, fmt)
    settings = EvaluationSettings()

    async def work(conn: AsyncConnection) -> FeedbackReport:
        return await queries.feedback_report(conn, academic_year, settings, scheme, comments)

    report = _read(work)
    if comments:
        if fmt not in ("json", "csv"):
            raise typer.BadParameter("comments come as json or csv", param_hint="--format")
        if fmt == "json":
            listing = [c.model_dump(mode="json") for c in report.comments or []]
            body = json.dumps(listing, indent=2, ensure_ascii=False).encode() + b"\n"
        else:
            body = render.comments_csv(report)
        _write(body, fmt, output, _stem("comments", academic_year, scheme))
        return
    if fmt == "json":
        body = report.model_dump_json(indent=2).encode() + b"\n"
    elif fmt == "csv":
        body = render.feedback_csv(report)
    else:
        body = render.feedback_chart(report, fmt, AttendanceSettings().tz)
    _write(body, fmt, output, _stem("feedback", academic_year, scheme))


@app.command()
def trends(
    module: Annotated[
        list[str] | None, typer.Option("--module", "-m", help="only this module (repeatable)")
    ] = None,
    since: Annotated[str | None, typer.Option(help="first academic year, e.g. 2023-24")] = None,
    until: Annotated[str | None, typer.Option(help="last academic year")] = None,
    fmt: FormatOption = "json",
    output: OutputOption = None,
) -> None:
    """Participation and the raw and adjusted differences per module across years."""
    if fmt not in render.FORMATS:
        raise typer.BadParameter(f"{fmt!r}: choose json, csv, png or svg", param_hint="--format")
    first = _check(since, fmt) if since else None
    last = _check(until, fmt) if until else None
    settings = EvaluationSettings()

    async def work(conn: AsyncConnection) -> TrendReport:
        return await queries.trend_report(conn, settings, module or None, first, last)

    report = _read(work)
    if fmt == "json":
        body = report.model_dump_json(indent=2).encode() + b"\n"
    elif fmt == "csv":
        body = render.trends_csv(report)
    else:
        body = render.trends_chart(report, fmt)
    _write(body, fmt, output, "trends")


@app.command()
def template(
    year: YearOption,
    scheme: SchemeOption = None,
    kind: Annotated[
        str, typer.Option("--template", "-t", help="icsi (International Center for SI) or uk")
    ] = "icsi",
    fmt: FormatOption = "csv",
    output: OutputOption = None,
) -> None:
    """The data template SI centres submit, one row per course (module)."""
    if kind not in ("icsi", "uk"):
        raise typer.BadParameter(f"{kind!r}: choose icsi or uk", param_hint="--template")
    if fmt not in ("json", "csv"):
        raise typer.BadParameter(f"{fmt!r}: choose json or csv", param_hint="--format")
    academic_year = _check(year, fmt)
    settings = EvaluationSettings()

    async def work(conn: AsyncConnection) -> TemplateReport:
        outcomes = await queries.outcome_report(conn, academic_year, settings, scheme, None)
        return build_template(outcomes, "icsi" if kind == "icsi" else "uk")

    report = _read(work)
    if fmt == "json":
        body = report.model_dump_json(indent=2).encode() + b"\n"
    else:
        body = render.template_csv(report)
    _write(body, fmt, output, _stem(f"{kind}-template", academic_year, scheme))
