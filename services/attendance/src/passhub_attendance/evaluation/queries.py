"""Reading the evaluation's tables and assembling the reports.

One query per report fetches every enrolment of the year with its session count and result
(three primary-key joins); the statistics then run in numpy/scipy.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_attendance.evaluation.projections import LIKERT_ITEMS
from passhub_attendance.evaluation.report import (
    Comment,
    FeedbackReport,
    ModuleData,
    OutcomeReport,
    SchemeInfo,
    Tally,
    TrendReport,
    build_feedback_report,
    build_outcome_report,
    build_trend_report,
)
from passhub_attendance.evaluation.settings import EvaluationSettings
from passhub_attendance.evaluation.stats import Cohort, Rules
from passhub_shared.web.errors import NotFound

#: memory for the report's joins and aggregation (per operation, for its transaction only)
REPORT_WORK_MEM = "64MB"


async def schemes_of_year(conn: AsyncConnection, year: str) -> list[SchemeInfo]:
    """Schemes of the year: launched ones, and those known only from sign-ins' modules."""
    rows = await conn.execute(
        text(
            """
            SELECT coalesce(s.scheme_id, m.scheme_id) AS scheme_id, s.code, s.title,
                   array_remove(array_agg(m.module ORDER BY m.module), NULL) AS modules
            FROM (SELECT * FROM evaluation_schemes WHERE academic_year = :year) s
            FULL JOIN (SELECT * FROM evaluation_scheme_modules WHERE academic_year = :year) m
              ON m.scheme_id = s.scheme_id
            GROUP BY 1, 2, 3
            ORDER BY 1
            """
        ),
        {"year": year},
    )
    return [
        SchemeInfo(
            scheme_id=r.scheme_id,
            code=r.code or r.scheme_id.removeprefix(f"{year}-"),
            title=r.title or r.scheme_id,
            academic_year=year,
            modules=tuple(r.modules or ()),
        )
        for r in rows
    ]


def resolve_scheme(schemes: Sequence[SchemeInfo], year: str, scheme: str) -> SchemeInfo:
    """By scheme id, or by code within the year (`PHYS` for `2026-27-PHYS`)."""
    for s in schemes:
        if scheme in (s.scheme_id, s.code):
            return s
    for s in schemes:
        if s.code.lower() == scheme.lower():
            return s
    raise NotFound(f"no scheme {scheme!r} in {year}")


async def _fetch(conn: AsyncConnection, sql: str, *args: object) -> list[Any]:
    """Rows straight from asyncpg (positional `$n` parameters): the report reads its cohort as
    a few hundred rows of arrays, which asyncpg decodes in C."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    rows: list[Any] = await driver.fetch(sql, *args)
    return rows


async def load_modules(
    conn: AsyncConnection, year: str, modules: Sequence[str] | None, rules: Rules
) -> dict[str, ModuleData]:
    """Every enrolment of `year` (on `modules`, or on any module) as a cohort per module.

    Two round trips. The first joins each enrolment to its attendance and result and gathers
    them per module; it also counts the enrolments that attended, so that the students who
    attended without being enrolled are the module's attendees less those, and no anti-join
    of the attendance against the enrolments is needed. The second counts each module's
    attendees and lists its prior attainment measures (apart: a `DISTINCT` inside the first
    would sort all its rows). Each module's rows are gathered in student order, one sort that
    every aggregate shares, so that a replay, which writes the tables' rows in another physical
    order, gives the matching estimates the same ties in the same order, hence the same
    figures. `work_mem` is raised for the transaction so that the joins' hash tables and the
    aggregation stay in memory (the default spills them to disk)."""
    await conn.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))
    wanted = None if modules is None else list(modules)
    rows = await _fetch(
        conn,
        """
        SELECT e.module,
               array_agg(greatest(coalesce(c.sessions, 0), coalesce(h.sessions, 0))
                         ORDER BY e.student_number) AS sessions,
               array_agg(r.student_number IS NOT NULL ORDER BY e.student_number) AS has_result,
               array_agg(r.mark ORDER BY e.student_number) AS mark,
               array_agg(r.grade ORDER BY e.student_number) AS grade,
               array_agg(r.passed ORDER BY e.student_number) AS passed,
               array_agg(r.withdrawn ORDER BY e.student_number) AS withdrawn,
               array_agg(e.prior_attainment ORDER BY e.student_number) AS prior,
               count(*) FILTER (WHERE c.student_number IS NOT NULL OR h.sessions > 0)
                 AS attending
        FROM evaluation_enrolments e
        LEFT JOIN evaluation_module_attendance c
          ON c.academic_year = e.academic_year AND c.module = e.module
         AND c.student_number = e.student_number
        LEFT JOIN evaluation_historical_attendance h
          ON h.academic_year = e.academic_year AND h.module = e.module
         AND h.student_number = e.student_number
        LEFT JOIN evaluation_results r
          ON r.academic_year = e.academic_year AND r.module = e.module
         AND r.student_number = e.student_number
        WHERE e.academic_year = $1 AND ($2::text[] IS NULL OR e.module = ANY($2::text[]))
        GROUP BY e.module
        """,
        year,
        wanted,
    )
    out: dict[str, ModuleData] = {}
    attending: dict[str, int] = {}
    for row in rows:
        cohort = Cohort.from_columns(
            row["sessions"],
            row["has_result"],
            row["mark"],
            row["grade"],
            row["passed"],
            row["withdrawn"],
            row["prior"],
            rules,
        )
        out[row["module"]] = ModuleData(module=row["module"], cohort=cohort)
        attending[row["module"]] = int(row["attending"])
    # each module's attendees (live attendance, and history with sessions), and apart the
    # prior attainment measures its enrolments carry
    extra = await _fetch(
        conn,
        """
        SELECT module, count(*) AS attendees, NULL::text AS measure
        FROM (SELECT module, student_number FROM evaluation_module_attendance
              WHERE academic_year = $1 AND ($2::text[] IS NULL OR module = ANY($2::text[]))
              UNION
              SELECT module, student_number FROM evaluation_historical_attendance
              WHERE academic_year = $1 AND sessions > 0
                AND ($2::text[] IS NULL OR module = ANY($2::text[]))) a
        GROUP BY module
        UNION ALL
        SELECT DISTINCT module, NULL::bigint, prior_measure FROM evaluation_enrolments
        WHERE academic_year = $1 AND prior_measure IS NOT NULL
          AND ($2::text[] IS NULL OR module = ANY($2::text[]))
        """,
        year,
        wanted,
    )
    for row in extra:
        module = row["module"]
        if row["measure"] is not None:
            if module in out:
                out[module].prior_measures.add(row["measure"])
            continue
        not_enrolled = int(row["attendees"]) - attending.get(module, 0)
        if not_enrolled <= 0:
            continue
        data = out.get(module)
        if data is None:
            data = out[module] = ModuleData(module, Cohort.concat([]))
        data.not_enrolled = not_enrolled
    return out


async def outcome_report(
    conn: AsyncConnection,
    year: str,
    settings: EvaluationSettings,
    scheme: str | None = None,
    modules: Sequence[str] | None = None,
) -> OutcomeReport:
    """For one scheme (its modules) or for every module and scheme of the year; `modules`
    narrows either to those modules."""
    schemes = await schemes_of_year(conn, year)
    wanted: list[str] | None
    if scheme is not None:
        chosen = resolve_scheme(schemes, year, scheme)
        schemes = [chosen]
        wanted = expected = [m for m in chosen.modules if modules is None or m in modules]
    elif modules is not None:
        wanted = expected = list(modules)
    else:
        wanted = None
        expected = sorted({m for s in schemes for m in s.modules})
    data = await load_modules(conn, year, wanted, settings.rules())
    for m in expected:
        data.setdefault(m, ModuleData(m, Cohort.concat([])))
    chosen_id = schemes[0].scheme_id if scheme is not None else None
    titles = await module_titles(conn, sorted(data))
    return build_outcome_report(year, data, schemes, settings, scheme=chosen_id, titles=titles)


async def module_titles(conn: AsyncConnection, modules: Sequence[str]) -> dict[str, str]:
    rows = await conn.execute(
        text(
            "SELECT module, title FROM evaluation_module_titles"
            " WHERE module = ANY(CAST(:modules AS text[]))"
        ),
        {"modules": list(modules)},
    )
    return {r.module: r.title for r in rows}


async def report_years(conn: AsyncConnection) -> list[str]:
    """Academic years with enrolments imported, oldest first."""
    rows = await conn.execute(
        text("SELECT DISTINCT academic_year FROM evaluation_enrolments ORDER BY 1")
    )
    return [r.academic_year for r in rows]


async def trend_report(
    conn: AsyncConnection,
    settings: EvaluationSettings,
    modules: Sequence[str] | None = None,
    since: str | None = None,
    until: str | None = None,
) -> TrendReport:
    """Per module and year (every year with enrolments, or those from `since` to `until`):
    participation and the raw and adjusted differences, from each year's outcome report."""
    years = [
        y
        for y in await report_years(conn)
        if (since is None or y >= since) and (until is None or y <= until)
    ]
    reports = [await outcome_report(conn, y, settings, None, modules) for y in years]
    return build_trend_report(reports, settings)


# --------------------------------------------------------------------------- feedback


async def feedback_report(
    conn: AsyncConnection,
    year: str,
    settings: EvaluationSettings,
    scheme: str | None = None,
    with_comments: bool = False,
) -> FeedbackReport:
    schemes = await schemes_of_year(conn, year)
    if scheme is not None:
        schemes = [resolve_scheme(schemes, year, scheme)]
        ids = [schemes[0].scheme_id]
        prefix = None
    else:
        ids = [s.scheme_id for s in schemes]
        prefix = f"{year}-%"
    rows = await conn.execute(
        text(
            """
            SELECT t.session_id, t.scheme_id, t.item, t.score, t.responses
            FROM evaluation_feedback_tallies t
            WHERE t.scheme_id = ANY(CAST(:ids AS text[]))
               OR (CAST(:prefix AS text) IS NOT NULL AND t.scheme_id LIKE CAST(:prefix AS text))
            """
        ),
        {"ids": ids, "prefix": prefix},
    )
    tallies = [Tally(r.session_id, r.scheme_id, r.item, r.score, r.responses) for r in rows]
    starts = await _session_starts(conn, {t.session_id for t in tallies})
    comments = await _comments(conn, ids, prefix) if with_comments else None
    titles = {s.scheme_id: s.title for s in schemes}
    return build_feedback_report(
        year,
        tallies,
        titles,
        starts,
        settings,
        LIKERT_ITEMS,
        scheme=schemes[0].scheme_id if scheme is not None else None,
        comments=comments,
    )


async def _session_starts(conn: AsyncConnection, session_ids: set[str]) -> dict[str, datetime]:
    if not session_ids:
        return {}
    rows = await conn.execute(
        text(
            "SELECT session_id, starts_at FROM evaluation_sessions"
            " WHERE session_id = ANY(CAST(:ids AS text[]))"
        ),
        {"ids": sorted(session_ids)},
    )
    return {r.session_id: r.starts_at for r in rows}


async def _comments(conn: AsyncConnection, ids: list[str], prefix: str | None) -> list[Comment]:
    rows = await conn.execute(
        text(
            """
            SELECT c.scheme_id, c.session_id, s.starts_at, c.submitted_at, c.comment
            FROM evaluation_feedback_comments c
            LEFT JOIN evaluation_sessions s ON s.session_id = c.session_id
            WHERE c.scheme_id = ANY(CAST(:ids AS text[]))
               OR (CAST(:prefix AS text) IS NOT NULL AND c.scheme_id LIKE CAST(:prefix AS text))
            ORDER BY c.scheme_id, s.starts_at NULLS LAST, c.submitted_at, c.feedback_id
            """
        ),
        {"ids": ids, "prefix": prefix},
    )
    return [
        Comment(
            scheme_id=r.scheme_id,
            session_id=r.session_id,
            starts_at=r.starts_at,
            submitted_at=r.submitted_at,
            comment=r.comment,
        )
        for r in rows
    ]
