"""`passhub report annual`: the annual report from the command line, read straight from the
attendance database, beside the evaluation's `passhub report ...` commands.

`--generated-at` gives the report the time it was first generated: with it, a report issued
earlier is made again byte for byte (after a replay of the log too), since nothing else in it
depends on when it is made."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_attendance.annual.charts import all_charts
from passhub_attendance.annual.document import annual_pdf
from passhub_attendance.annual.export import annual_csv
from passhub_attendance.annual.queries import annual_report
from passhub_attendance.annual.settings import AnnualSettings
from passhub_attendance.evaluation.cli import SchemeOption, YearOption, _read, app
from passhub_attendance.evaluation.csvimport import normalise_year
from passhub_attendance.evaluation.settings import EvaluationSettings
from passhub_attendance.settings import AttendanceSettings

__all__ = ["app"]

FORMATS = ("json", "csv", "pdf")
AUDIENCES = ("coordinator", "organiser", "academic")


@app.command()
def annual(
    year: YearOption,
    scheme: SchemeOption = None,
    format: Annotated[str, typer.Option("--format", "-f", help="json, csv or pdf")] = "pdf",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="file to write (- for standard output); default: "
            "standard output for json and csv, annual-report-<year>[-<scheme>].pdf",
        ),
    ] = None,
    audience: Annotated[
        str,
        typer.Option(
            help="who it is for: coordinator (with feedback comments), organiser or academic"
        ),
    ] = "coordinator",
    generated_at: Annotated[
        str | None,
        typer.Option(help="the report's generation time (ISO 8601), to make one again exactly"),
    ] = None,
) -> None:
    """The annual scheme report of a year: JSON, CSV or PDF (with charts)."""
    if format not in FORMATS:
        raise typer.BadParameter(f"{format!r}: choose json, csv or pdf", param_hint="--format")
    if audience not in AUDIENCES:
        raise typer.BadParameter(
            f"{audience!r}: choose {', '.join(AUDIENCES)}", param_hint="--audience"
        )
    academic_year = normalise_year(year)
    if academic_year is None:
        raise typer.BadParameter(f"{year!r} is not like 2026-27", param_hint="--year")
    when = datetime.now(UTC).replace(microsecond=0)
    if generated_at is not None:
        try:
            when = datetime.fromisoformat(generated_at)
        except ValueError:
            raise typer.BadParameter(
                f"{generated_at!r} is not a time like 2026-07-01T09:00:00+00:00",
                param_hint="--generated-at",
            ) from None
        if when.tzinfo is None:
            raise typer.BadParameter("give the time zone (+00:00)", param_hint="--generated-at")
    tz = AttendanceSettings().tz

    async def work(conn: AsyncConnection) -> dict[str, Any]:
        return await annual_report(
            conn,
            EvaluationSettings(),
            AnnualSettings(),
            tz,
            academic_year,
            scheme,
            audience,  # type: ignore[arg-type]
            when,
        )

    report = _read(work)
    if format == "json":
        body = orjson.dumps(report)
    elif format == "csv":
        body = annual_csv(report)
    else:
        body = annual_pdf(report, all_charts(report))
    code = report["scheme"]["code"] if report["scheme"] else None
    stem = f"annual-report-{academic_year}" + (f"-{code}" if code else "")
    if (output is None and format != "pdf") or str(output) == "-":
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    path = output or Path(f"{stem}.{format}")
    path.write_bytes(body)
    typer.echo(f"wrote {path}", err=True)
