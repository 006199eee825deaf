"""Importing the student records system's CSV exports as events.

The whole file is checked first (`csvimport`); with any error nothing is appended. A valid
file becomes, per academic year, events of at most `import_event_rows` rows appended to that
year's import stream in the caller's transaction, so an import is all or nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_attendance.evaluation.csvimport import (
    LineError,
    Outcome,
    Parsed,
    parse_enrolments,
    parse_results,
)
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
from passhub_shared.offload import off_loop
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


async def read_enrolments(data: bytes) -> Parsed[EnrolmentRow]:
    """The file checked whole, on a worker thread: a large file takes seconds to read, and the
    service goes on answering meanwhile. `InvalidFile` lists every error."""
    parsed = await off_loop(parse_enrolments, data)
    if parsed.errors:
        raise InvalidFile(parsed.errors)
    return parsed


async def read_results(
    data: bytes, grades: Collection[str], codes: Mapping[str, Outcome]
) -> Parsed[ResultRow]:
    """As `read_enrolments`, for results graded on `grades`, outcomes coded as `codes`."""
    parsed = await off_loop(parse_results, data, grades, codes)
    if parsed.errors:
        raise InvalidFile(parsed.errors)
    return parsed


def _chunks(rows: list[T], size: int) -> list[list[T]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)] or [[]]


#: events appended per statement: writing one (and projecting its rows) takes the event loop
#: for some milliseconds, and other requests are answered between the statements
APPEND_EVENTS = 1


@dataclass
class _YearEvents:
    year: str
    stream: str
    modules: list[str]
    events: list[Event]


def _enrolment_events(
    parsed: Parsed[EnrolmentRow],
    settings: EvaluationSettings,
    import_id: str,
    prior_measure: str | None,
    replace: bool,
    source: str,
) -> list[_YearEvents]:
    built = []
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
        built.append(_YearEvents(year, enrolments_stream(year), modules, new))
    return built


def _result_events(
    parsed: Parsed[ResultRow],
    settings: EvaluationSettings,
    import_id: str,
    replace: bool,
    source: str,
) -> list[_YearEvents]:
    built = []
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
        built.append(_YearEvents(year, results_stream(year), modules, new))
    return built


async def _append(
    conn: AsyncConnection,
    store: EventStore,
    summary: ImportSummary,
    built: list[_YearEvents],
    metadata: Metadata,
    replace: bool,
) -> ImportSummary:
    for year in built:
        version = await store.version(conn, year.stream)
        for start in range(0, len(year.events), APPEND_EVENTS):
            part = year.events[start : start + APPEND_EVENTS]
            await store.append(conn, year.stream, version + start, part, metadata, large=True)
        summary.events += len(year.events)
        summary.academic_years.append(year.year)
        summary.modules = sorted({*summary.modules, *year.modules})
        if replace:
            summary.replaced_modules = sorted({*summary.replaced_modules, *year.modules})
    return summary


async def import_enrolments(
    conn: AsyncConnection,
    store: EventStore,
    data: bytes | Parsed[EnrolmentRow],
    settings: EvaluationSettings,
    metadata: Metadata,
    *,
    import_id: str,
    prior_measure: str | None = None,
    replace: bool = False,
    source: str = "",
) -> ImportSummary:
    """`data`: the file, or what `read_enrolments` made of it (read before the transaction).
    The events are made on a worker thread and appended a few per statement."""
    parsed = data if isinstance(data, Parsed) else await read_enrolments(data)
    built = await off_loop(
        _enrolment_events, parsed, settings, import_id, prior_measure, replace, source
    )
    summary = ImportSummary(import_id, "enrolments", parsed.rows, 0)
    return await _append(conn, store, summary, built, metadata, replace)


async def import_results(
    conn: AsyncConnection,
    store: EventStore,
    data: bytes | Parsed[ResultRow],
    settings: EvaluationSettings,
    metadata: Metadata,
    *,
    import_id: str,
    replace: bool = False,
    source: str = "",
) -> ImportSummary:
    """`data`: the file, or what `read_results` made of it (read before the transaction).
    The events are made on a worker thread and appended a few per statement."""
    parsed = (
        data
        if isinstance(data, Parsed)
        else await read_results(data, settings.grade_scale, settings.outcome_codes)
    )
    built = await off_loop(_result_events, parsed, settings, import_id, replace, source)
    summary = ImportSummary(import_id, "results", parsed.rows, 0)
    return await _append(conn, store, summary, built, metadata, replace)
