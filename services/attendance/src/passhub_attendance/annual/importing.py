"""Importing graduate outcome records: the file is checked whole, then appended as
`graduate_outcomes_imported` events on each year's stream in one transaction (a concurrent
import of the same year gets 409 and can be sent again)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_attendance.annual.events import GraduateOutcomesImported, graduate_outcomes_stream
from passhub_attendance.annual.gradcsv import parse_graduate_outcomes
from passhub_attendance.evaluation.importing import InvalidFile
from passhub_shared.messages.events import Event, Metadata
from passhub_shared.storage.store import EventStore


@dataclass
class OutcomesImported:
    import_id: str
    rows: int
    events: int
    academic_years: list[str] = field(default_factory=list)
    categories: dict[str, int] = field(default_factory=dict)


async def import_graduate_outcomes(
    conn: AsyncConnection,
    store: EventStore,
    data: bytes,
    metadata: Metadata,
    *,
    import_id: str,
    rows_per_event: int,
    source: str = "",
) -> OutcomesImported:
    parsed = parse_graduate_outcomes(data)
    if parsed.errors:
        raise InvalidFile(parsed.errors)
    summary = OutcomesImported(import_id, parsed.rows, 0)
    categories: dict[str, int] = {}
    for year, rows in sorted(parsed.by_year.items()):
        for r in rows:
            categories[r.outcome] = categories.get(r.outcome, 0) + 1
        chunks = [rows[i : i + rows_per_event] for i in range(0, len(rows), rows_per_event)]
        events: list[Event] = [
            GraduateOutcomesImported(
                import_id=import_id,
                academic_year=year,
                source=source,
                part=part,
                parts=len(chunks),
                rows=chunk,
            )
            for part, chunk in enumerate(chunks, start=1)
        ]
        stream = graduate_outcomes_stream(year)
        version = await store.version(conn, stream)
        await store.append(conn, stream, version, events, metadata, large=True)
        summary.events += len(events)
        summary.academic_years.append(year)
    summary.categories = dict(sorted(categories.items()))
    return summary
