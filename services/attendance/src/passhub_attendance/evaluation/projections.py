"""The evaluation's projections. Each folds a batch of events in memory and writes it with a few
set-based statements (`unnest` of arrays). The same fold, kept over the whole log, is each
projection's `Rebuild`: a replay writes every final row once, with `COPY`, into the emptied
tables.

Event data are read as the plain dicts stored in the log (no pydantic decoding): it is the
hot path of a replay, and the contracts' field names are all that is used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_attendance.evaluation import tables as t
from passhub_attendance.evaluation.events import (
    HistoricalAttendanceImported,
    HistoricalSessionsImported,
    ModuleEnrolmentsImported,
    ModuleResultsImported,
    ModuleTitlesSet,
)
from passhub_shared.contracts.attendance import (
    AttendanceRevoked,
    FeedbackSubmitted,
    StudentSignedIn,
)
from passhub_shared.contracts.sessions import SchemeLaunched, SessionRescheduled, SessionScheduled
from passhub_shared.messages.events import Recorded
from passhub_shared.storage.projections import Projection, Rebuild, copy_rows
from passhub_shared.storage.store import ConcurrencyConflict

SCHEME_LAUNCHED = SchemeLaunched.type_name()
SESSION_SCHEDULED = SessionScheduled.type_name()
SESSION_RESCHEDULED = SessionRescheduled.type_name()
SIGNED_IN = StudentSignedIn.type_name()
REVOKED = AttendanceRevoked.type_name()
FEEDBACK = FeedbackSubmitted.type_name()
ENROLMENTS = ModuleEnrolmentsImported.type_name()
RESULTS = ModuleResultsImported.type_name()
HISTORY = HistoricalAttendanceImported.type_name()
HISTORY_SESSIONS = HistoricalSessionsImported.type_name()
TITLES = ModuleTitlesSet.type_name()

LIKERT_ITEMS = ("understanding", "enjoyable", "recommend")

_YEAR_PREFIX = re.compile(r"^(\d{4}-\d{2})-")


@lru_cache(maxsize=8192)
def scheme_year(scheme_id: str) -> str | None:
    """The academic year a scheme id starts with (`2026-27-PHYS` -> `2026-27`), if it does.
    (Cached: a replay asks once per sign-in, for a few hundred schemes.)"""
    match = _YEAR_PREFIX.match(scheme_id)
    return match.group(1) if match else None


async def _run(conn: AsyncConnection, sql: str, **params: Any) -> list[Any]:
    result = await conn.execute(text(sql), params)
    return list(result) if result.returns_rows else []


class _Catalogue(Rebuild):
    """Schemes and sessions as last launched / scheduled."""

    def __init__(self) -> None:
        self.schemes: dict[str, tuple[str, str, str]] = {}
        self.sessions: dict[str, tuple[str, datetime]] = {}

    def fold(self, events: Sequence[Recorded]) -> None:
        schemes, sessions = self.schemes, self.sessions
        for e in events:
            d = e.data
            if e.type == SCHEME_LAUNCHED:
                year = scheme_year(d["scheme_id"]) or d["academic_year"]
                schemes[d["scheme_id"]] = (d["code"], d["title"], year)
            else:
                sessions[d["session_id"]] = (d["scheme_id"], datetime.fromisoformat(d["starts_at"]))

    @property
    def size(self) -> int:
        return len(self.schemes) + len(self.sessions)

    async def write(self, conn: AsyncConnection) -> None:
        await copy_rows(conn, t.schemes, [(k, *v) for k, v in self.schemes.items()])
        await copy_rows(conn, t.sessions, [(k, *v) for k, v in self.sessions.items()])


class SchemeCatalogue(Projection):
    """Schemes (code, title, year) and sessions (start time), for labelling reports."""

    name = "evaluation_catalogue"
    tables = (t.schemes, t.sessions)
    handles = frozenset({SCHEME_LAUNCHED, SESSION_SCHEDULED, SESSION_RESCHEDULED})

    def rebuild(self) -> Rebuild:
        return _Catalogue()

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        batch = _Catalogue()
        batch.fold(events)
        schemes, sessions = batch.schemes, batch.sessions
        if schemes:
            await _run(
                conn,
                """
                INSERT INTO evaluation_schemes (scheme_id, code, title, academic_year)
                SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:codes AS text[]),
                                     CAST(:titles AS text[]), CAST(:years AS text[]))
                ON CONFLICT (scheme_id) DO UPDATE SET code = excluded.code,
                    title = excluded.title, academic_year = excluded.academic_year
                """,
                ids=list(schemes),
                codes=[v[0] for v in schemes.values()],
                titles=[v[1] for v in schemes.values()],
                years=[v[2] for v in schemes.values()],
            )
        if sessions:
            await _run(
                conn,
                """
                INSERT INTO evaluation_sessions (session_id, scheme_id, starts_at)
                SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:schemes AS text[]),
                                     CAST(:starts AS timestamptz[]))
                ON CONFLICT (session_id) DO UPDATE SET scheme_id = excluded.scheme_id,
                    starts_at = excluded.starts_at
                """,
                ids=list(sessions),
                schemes=[v[0] for v in sessions.values()],
                starts=[v[1] for v in sessions.values()],
            )


class _Participation(Rebuild):
    """The (scheme, module) pairs seen (first year wins, as the table's `ON CONFLICT DO
    NOTHING`), and the last state of each (session, student): present with its scheme (a
    repeated sign-in keeps the first scheme, as the table does), or revoked."""

    def __init__(self) -> None:
        self.modules: dict[tuple[str, str], str] = {}
        self.final: dict[tuple[str, str], tuple[str, bool]] = {}
        # the modules list last folded per scheme: sign-ins repeat it, and it needs folding once
        self._listed: dict[str, list[str]] = {}

    def fold(self, events: Sequence[Recorded]) -> None:
        modules, final, listed = self.modules, self.final, self._listed
        for e in events:
            d = e.data
            if e.type == SIGNED_IN:
                scheme = d["scheme_id"]
                key = (d["session_id"], d["student_number"])
                now = final.get(key)
                if now is None or not now[1]:
                    final[key] = (scheme, True)
                carried = d.get("modules")
                if carried and listed.get(scheme) != carried:
                    listed[scheme] = carried
                    year = scheme_year(scheme)
                    if year:
                        for module in carried:
                            modules.setdefault((scheme, module), year)
            elif e.type == REVOKED:
                if d["role"] == "student":
                    final[(d["session_id"], d["student_number"])] = (d["scheme_id"], False)
            else:
                scheme = d["scheme_id"]
                year = scheme_year(scheme) or d["academic_year"]
                for module in d.get("modules") or ():
                    modules.setdefault((scheme, module), year)

    @property
    def size(self) -> int:
        return len(self.modules) + len(self.final)

    async def write(self, conn: AsyncConnection) -> None:
        """The pairs and the present attendances as they are; the counters from the two, as
        the table's invariant defines them."""
        await copy_rows(conn, t.scheme_modules, [(s, m, y) for (s, m), y in self.modules.items()])
        await copy_rows(
            conn,
            t.attendances,
            [(session, student, v[0]) for (session, student), v in self.final.items() if v[1]],
        )
        await _run(
            conn,
            """
            INSERT INTO evaluation_module_attendance
                (academic_year, module, student_number, sessions)
            SELECT m.academic_year, m.module, a.student_number, count(*)
            FROM evaluation_attendances a
            JOIN evaluation_scheme_modules m ON m.scheme_id = a.scheme_id
            GROUP BY m.academic_year, m.module, a.student_number
            """,
        )


class ModuleParticipation(Projection):
    """Distinct sessions attended per student per module per academic year.

    Three tables, kept so that `module_attendance` always equals
    `attendances JOIN scheme_modules` counted per (year, module, student):
    - `attendances`: (session, student) present after a sign-in, absent after a revocation
      (the last event for the pair wins, so a batch is folded to its final state first);
    - `scheme_modules`: a grow-only set of (scheme, module), from `scheme_launched` and from the
      `modules` a sign-in carries; a pair new to the set back-fills the counts of that scheme's
      existing attendances;
    - `module_attendance`: counters changed by +1/-1 per module of the scheme of each
      attendance actually added/removed (in the statement that adds/removes it); a counter that
      reaches 0 is deleted.
    The result depends only on the final sets, not on the order within a batch, so live
    (small batches) and replay (large ones) agree.
    """

    name = "evaluation_participation"
    tables = (t.scheme_modules, t.attendances, t.module_attendance)
    handles = frozenset({SCHEME_LAUNCHED, SIGNED_IN, REVOKED})

    def rebuild(self) -> Rebuild:
        return _Participation()

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        batch = _Participation()
        batch.fold(events)
        mappings = sorted((s, m, y) for (s, m), y in batch.modules.items())
        present = [(k, v[0]) for k, v in batch.final.items() if v[1]]
        if mappings or present:
            await self._add(conn, mappings, present)
        absent = [k for k, v in batch.final.items() if not v[1]]
        if absent:
            await self._remove(conn, absent)

    async def _add(
        self,
        conn: AsyncConnection,
        mappings: list[tuple[str, str, str]],
        present: list[tuple[tuple[str, str], str]],
    ) -> None:
        """One statement: new (scheme, module) pairs, with the counts of the attendances their
        scheme already had; new attendances, +1 per module of their scheme. The common batch
        (sign-ins of schemes whose modules are known) costs one round trip.

        A pair that a concurrent transaction added and committed while this statement waited on
        it is neither inserted here nor visible to this statement's snapshot, so this batch's
        attendances would miss its count: the statement reports such pairs and the transaction
        is retried (`ConcurrencyConflict`), when the pair is visible."""
        raced = await _run(
            conn,
            """
            WITH wanted AS (
                SELECT * FROM unnest(CAST(:m_schemes AS text[]), CAST(:m_modules AS text[]),
                                     CAST(:m_years AS text[]))
                     AS w(scheme_id, module, academic_year)
            ), new_pairs AS (
                INSERT INTO evaluation_scheme_modules (scheme_id, module, academic_year)
                SELECT * FROM wanted
                ON CONFLICT DO NOTHING
                RETURNING scheme_id, module, academic_year
            ), pairs AS (
                SELECT scheme_id, module, academic_year FROM evaluation_scheme_modules
                UNION ALL
                SELECT scheme_id, module, academic_year FROM new_pairs
            ), added AS (
                INSERT INTO evaluation_attendances (session_id, student_number, scheme_id)
                SELECT * FROM unnest(CAST(:sessions AS text[]), CAST(:students AS text[]),
                                     CAST(:schemes AS text[]))
                ON CONFLICT DO NOTHING
                RETURNING scheme_id, student_number
            ), increments AS (
                -- attendances recorded before their scheme's modules were known (this
                -- statement's snapshot: without those `added` here) ...
                SELECT p.academic_year, p.module, a.student_number
                FROM evaluation_attendances a JOIN new_pairs p ON p.scheme_id = a.scheme_id
                UNION ALL
                -- ... and the attendances added now, for every module of their scheme
                SELECT m.academic_year, m.module, a.student_number
                FROM added a JOIN pairs m ON m.scheme_id = a.scheme_id
            ), counted AS (
                INSERT INTO evaluation_module_attendance AS c
                    (academic_year, module, student_number, sessions)
                SELECT academic_year, module, student_number, count(*)
                FROM increments
                GROUP BY academic_year, module, student_number
                ON CONFLICT (academic_year, module, student_number)
                DO UPDATE SET sessions = c.sessions + excluded.sessions
            )
            SELECT w.scheme_id, w.module FROM wanted w
            WHERE NOT EXISTS (SELECT 1 FROM new_pairs n
                              WHERE n.scheme_id = w.scheme_id AND n.module = w.module)
              AND NOT EXISTS (SELECT 1 FROM evaluation_scheme_modules m
                              WHERE m.scheme_id = w.scheme_id AND m.module = w.module)
            """,
            m_schemes=[m[0] for m in mappings],
            m_modules=[m[1] for m in mappings],
            m_years=[m[2] for m in mappings],
            sessions=[k[0] for k, _ in present],
            students=[k[1] for k, _ in present],
            schemes=[s for _, s in present],
        )
        if raced:
            first = raced[0]
            raise ConcurrencyConflict(f"evaluation-modules:{first.scheme_id}/{first.module}", 0)

    async def _remove(self, conn: AsyncConnection, absent: list[tuple[str, str]]) -> None:
        """Revoked attendances: removed, and -1 per module of their scheme; a counter that
        reaches 0 is deleted."""
        lowered = await _run(
            conn,
            """
            WITH removed AS (
                DELETE FROM evaluation_attendances a
                USING unnest(CAST(:sessions AS text[]), CAST(:students AS text[]))
                      AS k(session_id, student_number)
                WHERE a.session_id = k.session_id AND a.student_number = k.student_number
                RETURNING a.scheme_id, a.student_number
            ), counts AS (
                SELECT m.academic_year, m.module, r.student_number, count(*) AS n
                FROM removed r JOIN evaluation_scheme_modules m ON m.scheme_id = r.scheme_id
                GROUP BY m.academic_year, m.module, r.student_number
            )
            UPDATE evaluation_module_attendance c SET sessions = c.sessions - counts.n
            FROM counts
            WHERE c.academic_year = counts.academic_year AND c.module = counts.module
              AND c.student_number = counts.student_number
            RETURNING c.academic_year, c.module, c.student_number, c.sessions
            """,
            sessions=[k[0] for k in absent],
            students=[k[1] for k in absent],
        )
        gone = [r for r in lowered if r.sessions <= 0]
        if gone:
            await _run(
                conn,
                """
                DELETE FROM evaluation_module_attendance c
                USING unnest(CAST(:years AS text[]), CAST(:modules AS text[]),
                             CAST(:students AS text[]))
                      AS k(academic_year, module, student_number)
                WHERE c.academic_year = k.academic_year AND c.module = k.module
                  AND c.student_number = k.student_number AND c.sessions <= 0
                """,
                years=[r.academic_year for r in gone],
                modules=[r.module for r in gone],
                students=[r.student_number for r in gone],
            )


_Key = tuple[str, str]  # (academic year, module)


class _Records(Rebuild):
    """Enrolment and result rows per (year, module), per student, as the imports leave them:
    a later row for the same student replaces the earlier one; `replace_modules` first drops
    those modules' rows for that year."""

    def __init__(self) -> None:
        self.enrolments: dict[_Key, dict[str, tuple[Any, ...]]] = {}
        self.results: dict[_Key, dict[str, tuple[Any, ...]]] = {}
        self._size = 0

    def fold(self, events: Sequence[Recorded]) -> None:
        for e in events:
            d = e.data
            year = d["academic_year"]
            held = self.enrolments if e.type == ENROLMENTS else self.results
            for module in d.get("replace_modules") or ():
                held.pop((year, module), None)
            if e.type == ENROLMENTS:
                measure = d.get("prior_measure")
                for r in d["rows"]:
                    rows = held.setdefault((year, r["module"]), {})
                    rows[r["student_number"]] = (r.get("prior_attainment"), measure)
            else:
                for r in d["rows"]:
                    rows = held.setdefault((year, r["module"]), {})
                    rows[r["student_number"]] = (
                        r.get("mark"),
                        r.get("grade"),
                        r.get("passed"),
                        bool(r.get("withdrawn")),
                    )
            self._size += len(d["rows"])

    @property
    def size(self) -> int:
        """Rows folded so far (an upper bound on those held: replaced rows count too)."""
        return self._size

    async def write(self, conn: AsyncConnection) -> None:
        for table, held in ((t.enrolments, self.enrolments), (t.results, self.results)):
            await copy_rows(
                conn,
                table,
                [
                    (year, module, student, *row)
                    for (year, module), rows in held.items()
                    for student, row in rows.items()
                ],
            )


class EnrolmentsAndResults(Projection):
    """Module enrolments and results as imported; a later import of the same student, module
    and year replaces the earlier row, and a `replace_modules` import first clears those
    modules for that year. Rows of one year are written only by that year's import stream."""

    name = "evaluation_records"
    tables = (t.enrolments, t.results)
    handles = frozenset({ENROLMENTS, RESULTS})

    def rebuild(self) -> Rebuild:
        return _Records()

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        # Imports are few and large: one event at a time keeps replace-then-insert in order.
        for e in events:
            d = e.data
            table = "evaluation_enrolments" if e.type == ENROLMENTS else "evaluation_results"
            if d.get("replace_modules"):
                await _run(
                    conn,
                    f"DELETE FROM {table} WHERE academic_year = :year"
                    " AND module = ANY(CAST(:modules AS text[]))",
                    year=d["academic_year"],
                    modules=d["replace_modules"],
                )
            rows = d["rows"]
            if not rows:
                continue
            if e.type == ENROLMENTS:
                await self._enrolments(conn, d["academic_year"], d.get("prior_measure"), rows)
            else:
                await self._results(conn, d["academic_year"], rows)

    # The rows go as one JSON parameter that PostgreSQL unpacks (json_to_recordset): an import
    # writes thousands per event, and binding an array per column cost the event loop some
    # ten microseconds a row in the driver's array encoder (tens of milliseconds an event).

    async def _enrolments(
        self, conn: AsyncConnection, year: str, measure: str | None, rows: list[dict[str, Any]]
    ) -> None:
        await _run(
            conn,
            """
            INSERT INTO evaluation_enrolments
                (academic_year, module, student_number, prior_attainment, prior_measure)
            SELECT :year, r.module, r.student_number, r.prior_attainment, CAST(:measure AS text)
            FROM json_to_recordset(CAST(:rows AS json))
                 AS r(module text, student_number text, prior_attainment double precision)
            ON CONFLICT (academic_year, module, student_number) DO UPDATE
            SET prior_attainment = excluded.prior_attainment,
                prior_measure = excluded.prior_measure
            """,
            year=year,
            measure=measure,
            rows=orjson.dumps(rows).decode(),
        )

    async def _results(self, conn: AsyncConnection, year: str, rows: list[dict[str, Any]]) -> None:
        await _run(
            conn,
            """
            INSERT INTO evaluation_results
                (academic_year, module, student_number, mark, grade, passed, withdrawn)
            SELECT :year, r.module, r.student_number, r.mark, r.grade, r.passed,
                   coalesce(r.withdrawn, false)
            FROM json_to_recordset(CAST(:rows AS json))
                 AS r(module text, student_number text, mark double precision, grade text,
                      passed boolean, withdrawn boolean)
            ON CONFLICT (academic_year, module, student_number) DO UPDATE
            SET mark = excluded.mark, grade = excluded.grade, passed = excluded.passed,
                withdrawn = excluded.withdrawn
            """,
            year=year,
            rows=orjson.dumps(rows).decode(),
        )


class _Feedback(Rebuild):
    """Responses counted per (session, item, score), with the scheme first seen for it, and
    each comment as first submitted (as the tables' upsert and `DO NOTHING` keep them)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, int], list[Any]] = {}
        self.comments: dict[str, tuple[str, str, str, datetime]] = {}

    def fold(self, events: Sequence[Recorded]) -> None:
        counts, comments = self.counts, self.comments
        for e in events:
            d = e.data
            for item in LIKERT_ITEMS:
                key = (d["session_id"], item, int(d[item]))
                entry = counts.setdefault(key, [d["scheme_id"], 0])
                entry[1] += 1
            comment = (d.get("comment") or "").strip()
            if comment:
                comments.setdefault(
                    d["feedback_id"], (d["session_id"], d["scheme_id"], comment, e.occurred_at)
                )

    @property
    def size(self) -> int:
        return len(self.counts) + len(self.comments)

    async def write(self, conn: AsyncConnection) -> None:
        await copy_rows(
            conn, t.feedback_tallies, [(*k, v[0], v[1]) for k, v in self.counts.items()]
        )
        await copy_rows(conn, t.feedback_comments, [(k, *v) for k, v in self.comments.items()])


class FeedbackTallies(Projection):
    """Responses per session, Likert item and score (counters: updates commute), and the
    free-text comments."""

    name = "evaluation_feedback"
    tables = (t.feedback_tallies, t.feedback_comments)
    handles = frozenset({FEEDBACK})

    def rebuild(self) -> Rebuild:
        return _Feedback()

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        batch = _Feedback()
        batch.fold(events)
        counts, comments = batch.counts, batch.comments
        keys = list(counts)
        await _run(
            conn,
            """
            INSERT INTO evaluation_feedback_tallies AS f
                (session_id, item, score, scheme_id, responses)
            SELECT * FROM unnest(CAST(:sessions AS text[]), CAST(:items AS text[]),
                                 CAST(:scores AS integer[]), CAST(:schemes AS text[]),
                                 CAST(:responses AS integer[]))
            ON CONFLICT (session_id, item, score)
            DO UPDATE SET responses = f.responses + excluded.responses
            """,
            sessions=[k[0] for k in keys],
            items=[k[1] for k in keys],
            scores=[k[2] for k in keys],
            schemes=[counts[k][0] for k in keys],
            responses=[counts[k][1] for k in keys],
        )
        if comments:
            await _run(
                conn,
                """
                INSERT INTO evaluation_feedback_comments
                    (feedback_id, session_id, scheme_id, comment, submitted_at)
                SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:sessions AS text[]),
                                     CAST(:schemes AS text[]), CAST(:comments AS text[]),
                                     CAST(:at AS timestamptz[]))
                ON CONFLICT (feedback_id) DO NOTHING
                """,
                ids=list(comments),
                sessions=[v[0] for v in comments.values()],
                schemes=[v[1] for v in comments.values()],
                comments=[v[2] for v in comments.values()],
                at=[v[3] for v in comments.values()],
            )


class _History(Rebuild):
    """Past attendance: counts per (year, module, student), the last imported winning; session
    rows, each once; and module titles, the last set winning."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, str], int] = {}
        #: (year, module, student, day, session name or '')
        self.sessions: set[tuple[str, str, str, str, str]] = set()
        self.titles: dict[str, str] = {}

    def fold(self, events: Sequence[Recorded]) -> None:
        for e in events:
            d = e.data
            if e.type == TITLES:
                for r in d["rows"]:
                    self.titles[r["module"]] = r["title"]
                continue
            year = d["academic_year"]
            if e.type == HISTORY_SESSIONS:
                add = self.sessions.add
                for r in d["rows"]:
                    add(
                        (
                            year,
                            r["module"],
                            r["student_number"],
                            r["session_date"],
                            r.get("session_ref") or "",
                        )
                    )
                continue
            for r in d["rows"]:
                self.counts[(year, r["module"], r["student_number"])] = int(r["sessions_attended"])

    @property
    def size(self) -> int:
        return len(self.counts) + len(self.sessions) + len(self.titles)

    def listed(self) -> dict[tuple[str, str, str], int]:
        """Distinct sessions per (year, module, student)."""
        out: dict[tuple[str, str, str], int] = {}
        for year, module, student, _, _ in self.sessions:
            key = (year, module, student)
            out[key] = out.get(key, 0) + 1
        return out

    async def write(self, conn: AsyncConnection) -> None:
        listed = self.listed()
        counts = self.counts
        # in the table's order: year, module, student, sessions, counted, listed
        rows = [
            (*k, max(counts.get(k, 0), listed.get(k, 0)), counts.get(k), listed.get(k, 0))
            for k in {**counts, **listed}
        ]
        await copy_rows(conn, t.historical_attendance, rows)
        await copy_rows(
            conn,
            t.historical_sessions,
            [(y, m, s, date.fromisoformat(d), r) for y, m, s, d, r in self.sessions],
        )
        await copy_rows(conn, t.module_titles, list(self.titles.items()))


class HistoryAndTitles(Projection):
    """Historical attendance imported as counts or as session rows (never sign-ins: tables of
    their own, which a report joins to the year's recorded attendance), and module titles. A
    later count for the same student, module and year replaces the earlier one; a session row
    is held once however often it is imported; a student's sessions in a year are the larger
    of their count and their session rows (two records of the same sessions)."""

    name = "evaluation_history"
    tables = (t.historical_attendance, t.historical_sessions, t.module_titles)
    handles = frozenset({HISTORY, HISTORY_SESSIONS, TITLES})

    def rebuild(self) -> Rebuild:
        return _History()

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        batch = _History()
        batch.fold(events)
        if batch.counts:
            keys = list(batch.counts)
            await _run(
                conn,
                """
                INSERT INTO evaluation_historical_attendance AS h
                    (academic_year, module, student_number, sessions, counted, listed)
                SELECT y, m, s, n, n, 0
                FROM unnest(CAST(:years AS text[]), CAST(:modules AS text[]),
                            CAST(:students AS text[]), CAST(:sessions AS integer[]))
                     AS k(y, m, s, n)
                ON CONFLICT (academic_year, module, student_number)
                DO UPDATE SET counted = excluded.counted,
                              sessions = greatest(excluded.counted, h.listed)
                """,
                years=[k[0] for k in keys],
                modules=[k[1] for k in keys],
                students=[k[2] for k in keys],
                sessions=[batch.counts[k] for k in keys],
            )
        if batch.sessions:
            rows = list(batch.sessions)
            # the rows, each once; each student's count goes up by the rows that were new
            await _run(
                conn,
                """
                WITH added AS (
                    INSERT INTO evaluation_historical_sessions
                    SELECT * FROM unnest(CAST(:years AS text[]), CAST(:modules AS text[]),
                                         CAST(:students AS text[]), CAST(:dates AS date[]),
                                         CAST(:refs AS text[]))
                    ON CONFLICT DO NOTHING
                    RETURNING academic_year, module, student_number
                )
                INSERT INTO evaluation_historical_attendance AS h
                    (academic_year, module, student_number, sessions, counted, listed)
                SELECT academic_year, module, student_number, count(*), NULL, count(*)
                FROM added GROUP BY academic_year, module, student_number
                ON CONFLICT (academic_year, module, student_number)
                DO UPDATE SET listed = h.listed + excluded.listed,
                              sessions = greatest(coalesce(h.counted, 0),
                                                  h.listed + excluded.listed)
                """,
                years=[r[0] for r in rows],
                modules=[r[1] for r in rows],
                students=[r[2] for r in rows],
                dates=[date.fromisoformat(r[3]) for r in rows],
                refs=[r[4] for r in rows],
            )
        if batch.titles:
            await _run(
                conn,
                """
                INSERT INTO evaluation_module_titles (module, title)
                SELECT * FROM unnest(CAST(:modules AS text[]), CAST(:titles AS text[]))
                ON CONFLICT (module) DO UPDATE SET title = excluded.title
                """,
                modules=list(batch.titles),
                titles=list(batch.titles.values()),
            )


def evaluation_projections() -> list[Projection]:
    return [
        SchemeCatalogue(),
        ModuleParticipation(),
        EnrolmentsAndResults(),
        FeedbackTallies(),
        HistoryAndTitles(),
    ]
