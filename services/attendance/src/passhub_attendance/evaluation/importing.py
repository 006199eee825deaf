"""Importing the student records system's CSV exports as events.

The whole file is checked first (`csvimport`); with any error nothing is appended. A valid
file becomes, per academic year, events of at most `import_event_rows` rows appended to that
year's import stream in the caller's transaction, so an import is all or nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_attendance.evaluation.csvimport import (
    LineError,
    Outcome,
    Parsed,
    parse_enrolments,
    parse_history,
    parse_history_sessions,
    parse_results,
    parse_titles,
)
from passhub_attendance.evaluation.events import (
    TITLES_STREAM,
    EnrolmentRow,
    HistoricalAttendanceImported,
    HistoricalSessionsImported,
    HistoryRow,
    HistorySessionRow,
    ModuleEnrolmentsImported,
    ModuleResultsImported,
    ModuleTitlesSet,
    ResultRow,
    TitleRow,
    enrolments_stream,
    history_stream,
    results_stream,
)
from passhub_attendance.evaluation.settings import EvaluationSettings
from passhub_shared.messages.events import Event, Metadata
from passhub_shared.storage.store import EventStore
from passhub_shared.web.errors import Rejected
from passhub_shared.web.offload import off_loop

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
    kind: Literal["enrolments", "results", "history", "history_sessions", "titles"]
    rows: int
    events: int
    academic_years: list[str] = field(default_factory=list)
    modules: list[str] = field(default_factory=list)
    replaced_modules: list[str] = field(default_factory=list)
    #: history: years whose rows were imported before, exactly, and so appended nothing
    unchanged_years: list[str] = field(default_factory=list)
    #: session rows: attendances not held before (what the import adds)
    new_rows: int | None = None
    #: session rows: rows repeating an earlier row of the file (the same attendance, once)
    duplicate_rows: int = 0


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


async def read_history(data: bytes) -> Parsed[HistoryRow]:
    """As `read_enrolments`, for past attendance as counts."""
    parsed = await off_loop(parse_history, data)
    if parsed.errors:
        raise InvalidFile(parsed.errors)
    return parsed


async def read_history_sessions(data: bytes) -> Parsed[HistorySessionRow]:
    """As `read_enrolments`, for past attendance as one row per session attended."""
    parsed = await off_loop(parse_history_sessions, data)
    if parsed.errors:
        raise InvalidFile(parsed.errors)
    return parsed


async def import_history(
    conn: AsyncConnection,
    store: EventStore,
    data: bytes | Parsed[HistoryRow],
    settings: EvaluationSettings,
    metadata: Metadata,
    *,
    import_id: str,
    source: str = "",
) -> ImportSummary:
    """Past attendance counts as `historical_attendance_imported` events on each year's history
    stream: only the rows that change something (a count not yet held for that student, module
    and year, or a different one). A file whose every row is already held appends nothing, so
    importing the same file twice changes nothing (`unchanged_years`). `data`: the file, or
    what `read_history` made of it."""
    parsed = data if isinstance(data, Parsed) else await read_history(data)
    summary = ImportSummary(import_id, "history", parsed.rows, 0)
    for year, rows in sorted(parsed.by_year.items()):
        modules = sorted({r.module for r in rows})
        summary.academic_years.append(year)
        summary.modules = sorted({*summary.modules, *modules})
        stream = history_stream(year)
        # the stream's version first: a concurrent import of the same year then conflicts (409)
        version = await store.version(conn, stream)
        held = await conn.execute(
            text(
                """
                SELECT h.module, h.student_number, h.counted
                FROM evaluation_historical_attendance h
                JOIN unnest(CAST(:modules AS text[]), CAST(:students AS text[]))
                     AS k(module, student_number)
                  ON h.module = k.module AND h.student_number = k.student_number
                WHERE h.academic_year = :year
                """
            ),
            {
                "year": year,
                "modules": [r.module for r in rows],
                "students": [r.student_number for r in rows],
            },
        )
        known = {(r.module, r.student_number): r.counted for r in held}
        changed = [
            r for r in rows if known.get((r.module, r.student_number)) != r.sessions_attended
        ]
        if not changed:
            summary.unchanged_years.append(year)
            continue
        chunks: list[list[HistoryRow]] = _chunks(changed, settings.import_event_rows)
        new: list[Event] = [
            HistoricalAttendanceImported(
                import_id=import_id,
                academic_year=year,
                source=source,
                part=part,
                parts=len(chunks),
                rows=chunk,
            )
            for part, chunk in enumerate(chunks, start=1)
        ]
        for start in range(0, len(new), APPEND_EVENTS):
            part_ = new[start : start + APPEND_EVENTS]
            await store.append(conn, stream, version + start, part_, metadata, large=True)
        summary.events += len(new)
    return summary


@dataclass
class _SessionKeys:
    """The columns of a year's session rows, as the statement comparing them takes them."""

    modules: list[str]
    students: list[str]
    dates: list[Any]
    refs: list[str]
    distinct_modules: list[str]


def _session_keys(rows: Sequence[HistorySessionRow]) -> _SessionKeys:
    modules = [r.module for r in rows]
    return _SessionKeys(
        modules,
        [r.student_number for r in rows],
        [r.session_date for r in rows],
        [r.session_ref or "" for r in rows],
        sorted(set(modules)),
    )


#: session rows compared with what is held per statement: each statement's parameters are
#: encoded on the event loop, and other requests are answered between the statements
COMPARE_ROWS = 20_000

#: which rows of a session file are not held yet: their positions (from 1), as one array
_NEW_SESSIONS = """
SELECT coalesce(array_agg(k.i ORDER BY k.i), '{}')
FROM unnest(CAST(:modules AS text[]), CAST(:students AS text[]), CAST(:dates AS date[]),
            CAST(:refs AS text[])) WITH ORDINALITY
     AS k(module, student_number, session_date, session_ref, i)
WHERE NOT EXISTS (
    SELECT 1 FROM evaluation_historical_sessions s
    WHERE s.academic_year = :year AND s.module = k.module
      AND s.student_number = k.student_number AND s.session_date = k.session_date
      AND s.session_ref = k.session_ref
)
"""


def _session_events(
    rows: Sequence[HistorySessionRow],
    positions: Sequence[int],
    settings: EvaluationSettings,
    import_id: str,
    year: str,
    source: str,
) -> list[Event]:
    """The events of the rows at `positions` (from 1) of `rows`."""
    chunks = _chunks([rows[i - 1] for i in positions], settings.import_event_rows)
    return [
        HistoricalSessionsImported(
            import_id=import_id,
            academic_year=year,
            source=source,
            part=part,
            parts=len(chunks),
            rows=chunk,
        )
        for part, chunk in enumerate(chunks, start=1)
    ]


async def import_history_sessions(
    conn: AsyncConnection,
    store: EventStore,
    data: bytes | Parsed[HistorySessionRow],
    settings: EvaluationSettings,
    metadata: Metadata,
    *,
    import_id: str,
    source: str = "",
) -> ImportSummary:
    """Past attendance as session rows: `historical_sessions_imported` events on each year's
    history stream, holding only the rows not held already (student, module, day and session
    name). Importing the same file twice, or a file of rows all imported before, appends
    nothing (`unchanged_years`); a file that adds sessions to last year's adds only those.
    `data`: the file, or what `read_history_sessions` made of it. The rows are compared with
    what is held in one statement per year and made into events on a worker thread."""
    parsed = data if isinstance(data, Parsed) else await read_history_sessions(data)
    summary = ImportSummary(
        import_id, "history_sessions", parsed.rows, 0, new_rows=0, duplicate_rows=parsed.duplicates
    )
    for year, rows in sorted(parsed.by_year.items()):
        keys = await off_loop(_session_keys, rows)
        summary.academic_years.append(year)
        summary.modules = sorted({*summary.modules, *keys.distinct_modules})
        stream = history_stream(year)
        # the stream's version first: a concurrent import of the same year then conflicts (409)
        version = await store.version(conn, stream)
        positions: list[int] = []
        for start in range(0, len(rows), COMPARE_ROWS):
            end = start + COMPARE_ROWS
            found = await conn.execute(
                text(_NEW_SESSIONS),
                {
                    "year": year,
                    "modules": keys.modules[start:end],
                    "students": keys.students[start:end],
                    "dates": keys.dates[start:end],
                    "refs": keys.refs[start:end],
                },
            )
            positions.extend(start + i for i in found.scalar_one())
        if not positions:
            summary.unchanged_years.append(year)
            continue

        new = await off_loop(_session_events, rows, positions, settings, import_id, year, source)
        for start in range(0, len(new), APPEND_EVENTS):
            part_ = new[start : start + APPEND_EVENTS]
            await store.append(conn, stream, version + start, part_, metadata, large=True)
        summary.events += len(new)
        summary.new_rows = (summary.new_rows or 0) + len(positions)
    return summary


async def set_titles(
    conn: AsyncConnection,
    store: EventStore,
    rows: Sequence[TitleRow],
    metadata: Metadata,
    *,
    import_id: str,
    source: str = "",
) -> ImportSummary:
    version = await store.version(conn, TITLES_STREAM)
    await store.append(
        conn, TITLES_STREAM, version, [ModuleTitlesSet(source=source, rows=list(rows))], metadata
    )
    return ImportSummary(
        import_id, "titles", len(rows), 1, modules=sorted({r.module for r in rows})
    )


def titles_from_csv(data: bytes) -> list[TitleRow]:
    rows, errors = parse_titles(data)
    if errors:
        raise InvalidFile(errors)
    return rows
