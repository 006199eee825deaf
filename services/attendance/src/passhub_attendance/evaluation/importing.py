"""Importing the student records system's CSV exports as events.

The whole file is checked first (`csvimport`); with any error nothing is appended. A valid
file becomes, per academic year, events of at most `import_event_rows` rows appended to that
year's import stream in the caller's transaction, so an import is all or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_attendance.evaluation.csvimport import LineError, parse_enrolments, parse_results
from passhub_attendance.evaluation.events import (
    EnrolmentRow,
    ModuleEnrolmentsImported,
    ModuleResultsImported,
    ResultRow,
    enrolments_stream,
    results_stream,
)
from passhub_attendance.evaluation.settings import EvaluationSettings
from passhub_shared.errors import Rejected
from passhub_shared.events import Event, Metadata
from passhub_shared.store import EventStore

T = TypeVar("T")

#: errors listed in full in a rejection; the count says how many there were in all


class InvalidFile(Rejected):
    """The file has errors; `errors` lists them by line. Nothing was imported."""

    def __init__(self, errors: Sequence[LineError]) -> None:
        first = errors[0]
        super().__init__(
            f"the file has {len(errors)} error(s), nothing was imported; "
            f"first, line {first.line}: {first.message}",
            code="invalid_file",
            details=[{"line": e.line, "column": e.column, "message": e.message} for e in errors],
        )
        self.errors = list(errors)


@dataclass
class ImportSummary:
    import_id: str
    kind: Literal["enrolments", "results"]
    rows: int
    events: int
    academic_years: list[str] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)
    replaced_modules: list[str] = field(default_factory=list)


def _chunks(rows: list[T], size: int) -> list[list[T]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)] or [[]]


async def import_enrolments(
    conn: AsyncConnection,
    store: EventStore,
    data: bytes,
    settings: EvaluationSettings,
    metadata: Metadata,
    *,
    import_id: str,
    prior_measure: str | None = None,
    replace: bool = False,
    source: str = "",
) -> ImportSummary:
    parsed = parse_enrolments(data)
    if parsed.errors:
        raise InvalidFile(parsed.errors)
    summary = ImportSummary(import_id, "enrolments", parsed.rows, 0)
    for year, rows in sorted(parsed.by_year.items()):
        modules = sorted({r.module for r in rows})
        chunks: list[list[EnrolmentRow]] = _chunks(rows, settings.import_event_rows)
        new: list[Event] = [
            ModuleEnrolmentsImported(
                import_id=import_id,
                academic_year=year,
                prior_measure=prior_measure or None,
                replace_modules=modules if replace and part == 1 else [],
                source=source,
                part=part,
                parts=len(chunks),
                rows=chunk,
            )
            for part, chunk in enumerate(chunks, start=1)
        ]
        stream = enrolments_stream(year)
        version = await store.version(conn, stream)
        await store.append(conn, stream, version, new, metadata)
        summary.events += len(new)
        summary.academic_years.append(year)
        summary.modules = sorted({*summary.modules, *modules})
        if replace:
            summary.replaced_modules = sorted({*summary.replaced_modules, *modules})
    return summary


async def import_results(
    conn: AsyncConnection,
    store: EventStore,
    data: bytes,
    settings: EvaluationSettings,
    metadata: Metadata,
    *,
    import_id: str,
    replace: bool = False,
    source: str = "",
) -> ImportSummary:
    parsed = parse_results(data, settings.grade_scale, settings.outcome_codes)
    if parsed.errors:
        raise InvalidFile(parsed.errors)
    summary = ImportSummary(import_id, "results", parsed.rows, 0)
    for year, rows in sorted(parsed.by_year.items()):
        modules = sorted({r.module for r in rows})
        chunks: list[list[ResultRow]] = _chunks(rows, settings.import_event_rows)
        new: list[Event] = [
            ModuleResultsImported(
                import_id=import_id,
                academic_year=year,
                replace_modules=modules if replace and part == 1 else [],
                source=source,
                part=part,
                parts=len(chunks),
                rows=chunk,
            )
            for part, chunk in enumerate(chunks, start=1)
        ]
        stream = results_stream(year)
        version = await store.version(conn, stream)
        await store.append(conn, stream, version, new, metadata)
        summary.events += len(new)
        summary.academic_years.append(year)
        summary.modules = sorted({*summary.modules, *modules})
        if replace:
            summary.replaced_modules = sorted({*summary.replaced_modules, *modules})
    return summary
