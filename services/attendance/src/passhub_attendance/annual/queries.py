"""Reading the facts of an annual report: a handful of aggregate queries (counts per scheme, per
session, per year), then the evaluation's own outcome and survey reports. Nothing here leaves
the database as a row per student: every query counts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from passhub_attendance.annual.facts import (
    AwardCount,
    CommentFacts,
    GraduateCount,
    LeaderFacts,
    ModeRow,
    SchemeFacts,
    SessionFacts,
    YearFacts,
    YearHeadline,
)
from passhub_attendance.annual.report import Audience, build_annual_report
from passhub_attendance.annual.settings import AnnualSettings
from passhub_attendance.evaluation import queries as evaluation
from passhub_attendance.evaluation.report import (
    ModuleData,
    SchemeInfo,
    TrendRow,
    build_outcome_report,
    build_trend_report,
)
from passhub_attendance.evaluation.settings import EvaluationSettings
from passhub_attendance.evaluation.stats import Cohort

#: the academic year of a scheme id (`2026-27-PHYS` -> `2026-27`)
_YEAR_OF = "substring({col} from '^[0-9]{{4}}-[0-9]{{2}}')"
#: whether a scheme id is of the scheme code $2 (NULL: every scheme)
_OF_CODE = "($2::text IS NULL OR substr({col}, 9) = $2::text)"


async def _fetch(conn: AsyncConnection, sql: str, *args: object) -> list[Any]:
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    rows: list[Any] = await driver.fetch(sql, *args)
    return rows


async def _count_attendances(conn: AsyncConnection) -> None:
    """One pass over the sign-ins, kept for the report's transaction (with the transaction's
    planner settings, below): distinct sessions per scheme and student (`kind` = 'student')
    and attendances per session (`kind` = 'session'). Every later query counts these few tens
    of thousands of rows instead of the year's hundreds of thousands of sign-ins."""
    if not conn.in_transaction():
        await conn.begin()  # the table lives until the report's transaction ends
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.execute(
        """
        SET LOCAL work_mem = '64MB';
        -- every join here is of thousands of rows to thousands: hashed, whatever the
        -- planner's statistics say (a table just replayed may not have been analysed yet,
        -- and a nested loop over two such sets takes minutes)
        SET LOCAL enable_nestloop = off;
        CREATE TEMP TABLE IF NOT EXISTS annual_counts (
            kind text NOT NULL, y text, scheme_id text, student_number text,
            session_id text, n integer NOT NULL
        ) ON COMMIT DROP;
        TRUNCATE annual_counts;
        INSERT INTO annual_counts (kind, y, scheme_id, student_number, session_id, n)
        SELECT CASE WHEN GROUPING(session_id) = 1 THEN 'student' ELSE 'session' END,
               substring(scheme_id from '^[0-9]{4}-[0-9]{2}'), scheme_id, student_number,
               session_id, count(*)
        FROM evaluation_attendances
        GROUP BY GROUPING SETS ((scheme_id, student_number), (scheme_id, session_id));
        ANALYZE annual_counts;
        """
    )


async def year_facts(
    conn: AsyncConnection,
    year: str,
    settings: EvaluationSettings,
    scheme: str | None,
    now: datetime,
    with_comments: bool,
) -> YearFacts:
    """Everything the report of `year` states, for one scheme (id or code) or every scheme."""
    every = await evaluation.schemes_of_year(conn, year)
    chosen = evaluation.resolve_scheme(every, year, scheme) if scheme is not None else None
    modules = sorted({m for s in ([chosen] if chosen is not None else every) for m in s.modules})
    # the outcome statistics (most of the report's computing) run meanwhile, on a connection
    # and a worker thread of their own: the event loop keeps answering sign-ins, and
    # PostgreSQL answers the other queries at the same time
    outcomes = asyncio.create_task(_outcome_rows_apart(conn.engine, year, settings, modules))
    try:
        return await _year_facts(
            conn, year, settings, every, chosen, modules, now, with_comments, outcomes
        )
    finally:
        if not outcomes.done():
            outcomes.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await outcomes


async def _year_facts(
    conn: AsyncConnection,
    year: str,
    settings: EvaluationSettings,
    every: list[SchemeInfo],
    chosen: SchemeInfo | None,
    modules: list[str],
    now: datetime,
    with_comments: bool,
    outcomes: asyncio.Task[list[TrendRow]],
) -> YearFacts:
    schemes = [chosen] if chosen is not None else every
    ids = [s.scheme_id for s in schemes]
    code = chosen.code if chosen is not None else None
    regular_min = settings.regular_min
    await _count_attendances(conn)

    modes = {
        r["scheme_id"]: r["mode"]
        for r in await _fetch(
            conn, "SELECT scheme_id, mode FROM annual_schemes WHERE academic_year = $1", year
        )
    }
    per_scheme = {
        r["scheme_id"]: r
        for r in await _fetch(
            conn,
            """
            SELECT scheme_id, count(*) AS participants,
                   count(*) FILTER (WHERE n >= $2) AS regular, sum(n) AS attendances
            FROM annual_counts WHERE kind = 'student' AND scheme_id = ANY($1::text[])
            GROUP BY 1
            UNION ALL
            SELECT NULL, count(DISTINCT student_number),
                   count(DISTINCT student_number) FILTER (WHERE n >= $2), coalesce(sum(n), 0)
            FROM annual_counts WHERE kind = 'student' AND scheme_id = ANY($1::text[])
            """,
            ids,
            regular_min,
        )
    }
    sessions = [
        SessionFacts(
            session_id=r["session_id"],
            scheme_id=r["scheme_id"],
            starts_at=r["starts_at"],
            teaching_week=r["teaching_week"],
            cancelled=r["cancelled"],
            attendance=r["attendance"],
            leaders=r["leaders"],
        )
        for r in await _fetch(
            conn,
            """
            SELECT s.session_id, s.scheme_id, s.starts_at, s.teaching_week, s.cancelled,
                   coalesce(a.n, 0) AS attendance, coalesce(l.n, 0) AS leaders
            FROM annual_sessions s
            LEFT JOIN annual_counts a
              ON a.kind = 'session' AND a.session_id = s.session_id
            LEFT JOIN (SELECT session_id, count(*) AS n FROM annual_leader_sessions
                       WHERE scheme_id = ANY($1::text[]) GROUP BY 1) l
              ON l.session_id = s.session_id
            WHERE s.scheme_id = ANY($1::text[])
            ORDER BY s.starts_at NULLS LAST, s.scheme_id, s.session_id
            """,
            ids,
        )
    ]
    scheme_rows = []
    for s in schemes:
        row = per_scheme.get(s.scheme_id)
        scheme_rows.append(
            SchemeFacts(
                scheme_id=s.scheme_id,
                code=s.code,
                title=s.title,
                mode=modes.get(s.scheme_id),
                modules=list(s.modules),
                participants=int(row["participants"]) if row else 0,
                regular=int(row["regular"]) if row else 0,
                attendances=int(row["attendances"]) if row else 0,
            )
        )
    total = per_scheme.get(None)

    trend_rows = await outcomes
    survey = await survey_counts(conn, ids)
    comments = await feedback_comments(conn, ids) if with_comments else None

    return YearFacts(
        academic_year=year,
        scheme=scheme_rows[0] if chosen is not None else None,
        schemes=scheme_rows,
        modules=modules,
        participants=int(total["participants"]) if total else 0,
        regular=int(total["regular"]) if total else 0,
        attendances=int(total["attendances"]) if total else 0,
        sessions=sessions,
        outcomes=trend_rows,
        survey=survey,
        comments=comments,
        leaders=await leader_facts(conn, year, ids if chosen is not None else None),
        modes=await mode_rows(conn, year, code),
        headlines=await headlines(conn, year, code, modules if chosen else None, regular_min, now),
        graduates=await graduate_counts(conn, year, code),
        now=now,
    )


async def annual_report(
    conn: AsyncConnection,
    settings: EvaluationSettings,
    annual: AnnualSettings,
    tz: tzinfo,
    year: str,
    scheme: str | None,
    audience: Audience,
    generated_at: datetime,
) -> dict[str, Any]:
    """The annual report of `year` (one scheme, or every scheme) as `audience` may read it,
    as of `generated_at` (sessions after it are still to come)."""
    facts = await year_facts(conn, year, settings, scheme, generated_at, audience == "coordinator")
    return build_annual_report(facts, settings, annual, audience, tz, generated_at)


async def survey_counts(
    conn: AsyncConnection, ids: Sequence[str]
) -> dict[str, dict[str, tuple[int, int]]]:
    """Per scheme and item: (agreeing, responses), agreeing being 4 or 5 of 5 as in the
    evaluation's survey report."""
    rows = await _fetch(
        conn,
        """
        SELECT scheme_id, item, sum(responses) AS responses,
               coalesce(sum(responses) FILTER (WHERE score >= 4), 0) AS agree
        FROM evaluation_feedback_tallies WHERE scheme_id = ANY($1::text[])
        GROUP BY 1, 2
        """,
        list(ids),
    )
    out: dict[str, dict[str, tuple[int, int]]] = {}
    for r in rows:
        out.setdefault(r["scheme_id"], {})[r["item"]] = (int(r["agree"]), int(r["responses"]))
    return out


async def feedback_comments(conn: AsyncConnection, ids: Sequence[str]) -> list[CommentFacts]:
    """The comments of the schemes' feedback sheets, by session start (never who wrote)."""
    rows = await _fetch(
        conn,
        """
        SELECT c.scheme_id, s.starts_at, c.comment
        FROM evaluation_feedback_comments c
        LEFT JOIN evaluation_sessions s ON s.session_id = c.session_id
        WHERE c.scheme_id = ANY($1::text[])
        ORDER BY c.scheme_id, s.starts_at NULLS LAST, c.submitted_at, c.feedback_id
        """,
        list(ids),
    )
    return [CommentFacts(r["scheme_id"], r["starts_at"], r["comment"]) for r in rows]


async def _outcome_rows_apart(
    engine: AsyncEngine, year: str, settings: EvaluationSettings, modules: list[str]
) -> list[TrendRow]:
    """Per module of the report and all of them pooled: the evaluation's raw and adjusted
    figures, as its outcome report computes them (the same functions), without the schemes'
    pooled rows the annual report does not show."""
    async with engine.connect() as conn:
        data = await evaluation.load_modules(conn, year, modules, settings.rules())
        titles = await evaluation.module_titles(conn, sorted({*data, *modules}))
    for m in modules:
        data.setdefault(m, ModuleData(m, Cohort.concat([])))

    def compute() -> list[TrendRow]:
        report = build_outcome_report(year, data, [], settings, titles=titles)
        return build_trend_report([report], settings).rows

    return await asyncio.to_thread(compute)


async def leader_facts(conn: AsyncConnection, year: str, ids: Sequence[str] | None) -> LeaderFacts:
    """Leaders and organisers appointed in `year` (to one of `ids`, or to any scheme), trained,
    stood down, delivering sessions, and recognition's decisions for them."""
    rows = await _fetch(
        conn,
        """
        WITH appointed AS (
            SELECT student_number, role FROM annual_appointments
            WHERE academic_year = $1 AND ($2::text[] IS NULL OR schemes && $2::text[])
        ), leaders AS (SELECT student_number FROM appointed WHERE role = 'leader')
        SELECT
          (SELECT count(*) FROM leaders) AS leaders,
          (SELECT count(*) FROM appointed WHERE role = 'organiser') AS organisers,
          (SELECT count(*) FROM leaders l JOIN annual_training t
             ON t.academic_year = $1 AND t.student_number = l.student_number) AS trained,
          (SELECT count(*) FROM leaders l JOIN annual_stood_down d
             ON d.academic_year = $1 AND d.student_number = l.student_number) AS stood_down,
          (SELECT count(DISTINCT ls.student_number) FROM annual_leader_sessions ls
             JOIN annual_sessions s ON s.session_id = ls.session_id AND NOT s.cancelled
             WHERE ls.scheme_id LIKE $1 || '-%'
               AND ($2::text[] IS NULL OR ls.scheme_id = ANY($2::text[]))) AS delivering,
          (SELECT count(DISTINCT ls.session_id) FROM annual_leader_sessions ls
             JOIN annual_sessions s ON s.session_id = ls.session_id AND NOT s.cancelled
             WHERE ls.scheme_id LIKE $1 || '-%'
               AND ($2::text[] IS NULL OR ls.scheme_id = ANY($2::text[]))) AS sessions_led,
          (SELECT count(*) FROM annual_leader_sessions ls
             JOIN annual_sessions s ON s.session_id = ls.session_id AND NOT s.cancelled
             WHERE ls.scheme_id LIKE $1 || '-%'
               AND ($2::text[] IS NULL OR ls.scheme_id = ANY($2::text[]))) AS sign_ins
        """,
        year,
        None if ids is None else list(ids),
    )
    r = rows[0]
    awards = await _fetch(
        conn,
        """
        SELECT a.kind, a.status, count(*) AS n FROM annual_awards a
        WHERE a.academic_year = $1
          AND ($2::text[] IS NULL OR EXISTS (
                SELECT 1 FROM annual_appointments p
                WHERE p.academic_year = $1 AND p.student_number = a.student_number
                  AND p.schemes && $2::text[]))
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
        year,
        None if ids is None else list(ids),
    )
    return LeaderFacts(
        appointed=int(r["leaders"]),
        organisers=int(r["organisers"]),
        trained=int(r["trained"]),
        stood_down=int(r["stood_down"]),
        delivering=int(r["delivering"]),
        sessions_delivered=int(r["sessions_led"]),
        leader_sign_ins=int(r["sign_ins"]),
        awards=[AwardCount(a["kind"], a["status"], int(a["n"])) for a in awards],
    )


async def mode_rows(conn: AsyncConnection, year: str, code: str | None) -> list[ModeRow]:
    """Per scheme and year up to `year`: its mode, the students enrolled on its modules, those
    of them who attended, and their attendances."""
    rows = await _fetch(
        conn,
        f"""
        WITH enrolled AS (
            SELECT DISTINCT m.scheme_id, m.academic_year, e.student_number
            FROM evaluation_scheme_modules m
            JOIN evaluation_enrolments e
              ON e.academic_year = m.academic_year AND e.module = m.module
            WHERE m.academic_year <= $1 AND {_OF_CODE.format(col="m.scheme_id")}
        ), came AS (
            SELECT scheme_id, student_number, n FROM annual_counts
            WHERE kind = 'student' AND y <= $1 AND {_OF_CODE.format(col="scheme_id")}
        )
        SELECT e.academic_year, e.scheme_id, s.mode, count(*) AS enrolled,
               count(c.n) AS participants, coalesce(sum(c.n), 0) AS attendances
        FROM enrolled e
        JOIN annual_schemes s ON s.scheme_id = e.scheme_id
        LEFT JOIN came c ON c.scheme_id = e.scheme_id AND c.student_number = e.student_number
        GROUP BY 1, 2, 3 ORDER BY 1, 2
        """,
        year,
        code,
    )
    return [
        ModeRow(
            academic_year=r["academic_year"],
            scheme_id=r["scheme_id"],
            mode=r["mode"],
            enrolled=int(r["enrolled"]),
            participants=int(r["participants"]),
            attendances=int(r["attendances"]),
        )
        for r in rows
    ]


async def headlines(
    conn: AsyncConnection,
    year: str,
    code: str | None,
    modules: Sequence[str] | None,
    regular_min: int,
    now: datetime,
) -> list[YearHeadline]:
    """The headline counts of every year up to `year` that has any: participants (sign-ins and
    imported past attendance), new and cumulative, regular participants, sessions run and
    cancelled, attendance per session, survey agreement, leaders appointed and awards granted."""
    people = await _fetch(
        conn,
        f"""
        WITH seen AS (
            SELECT y, scheme_id AS k, student_number, n
            FROM annual_counts
            WHERE kind = 'student' AND {_OF_CODE.format(col="scheme_id")}
            UNION ALL
            SELECT academic_year, module, student_number, sessions
            FROM evaluation_historical_attendance
            WHERE sessions > 0 AND ($3::text[] IS NULL OR module = ANY($3::text[]))
        ), per AS (
            SELECT y, student_number, max(n) AS n FROM seen WHERE y <= $1 GROUP BY 1, 2
        ), first AS (SELECT student_number, min(y) AS fy FROM per GROUP BY 1)
        SELECT p.y, count(*) AS participants,
               count(*) FILTER (WHERE f.fy = p.y) AS new,
               count(*) FILTER (WHERE p.n >= $4) AS regular
        FROM per p JOIN first f ON f.student_number = p.student_number
        GROUP BY 1 ORDER BY 1
        """,
        year,
        code,
        None if modules is None else list(modules),
        regular_min,
    )
    sessions = await _fetch(
        conn,
        f"""
        SELECT {_YEAR_OF.format(col="s.scheme_id")} AS y,
               count(*) FILTER (WHERE NOT s.cancelled AND s.starts_at <= $3) AS run,
               count(*) FILTER (WHERE s.cancelled) AS cancelled,
               coalesce(sum(a.n) FILTER (WHERE NOT s.cancelled AND s.starts_at <= $3), 0)
                   AS attendances
        FROM annual_sessions s
        LEFT JOIN annual_counts a ON a.kind = 'session' AND a.session_id = s.session_id
        WHERE {_OF_CODE.format(col="s.scheme_id")}
          AND {_YEAR_OF.format(col="s.scheme_id")} <= $1
        GROUP BY 1
        """,
        year,
        code,
        now,
    )
    survey = await _fetch(
        conn,
        f"""
        SELECT {_YEAR_OF.format(col="scheme_id")} AS y, item,
               sum(responses) AS responses,
               coalesce(sum(responses) FILTER (WHERE score >= 4), 0) AS agree
        FROM evaluation_feedback_tallies
        WHERE {_OF_CODE.format(col="scheme_id")}
          AND {_YEAR_OF.format(col="scheme_id")} <= $1
        GROUP BY 1, 2
        """,
        year,
        code,
    )
    leaders = await _fetch(
        conn,
        """
        SELECT academic_year AS y, count(*) AS n FROM annual_appointments
        WHERE role = 'leader' AND academic_year <= $1
          AND ($2::text IS NULL
               OR EXISTS (SELECT 1 FROM unnest(schemes) x WHERE substr(x, 9) = $2::text))
        GROUP BY 1
        """,
        year,
        code,
    )
    granted = await _fetch(
        conn,
        """
        SELECT a.academic_year AS y, count(DISTINCT a.student_number) AS n FROM annual_awards a
        WHERE a.status = 'granted' AND a.academic_year <= $1
          AND ($2::text IS NULL OR EXISTS (
                SELECT 1 FROM annual_appointments p, unnest(p.schemes) x
                WHERE p.academic_year = a.academic_year AND p.student_number = a.student_number
                  AND substr(x, 9) = $2::text))
        GROUP BY 1
        """,
        year,
        code,
    )
    out: dict[str, YearHeadline] = {}

    def at(y: str) -> YearHeadline:
        return out.setdefault(y, YearHeadline(academic_year=y))

    for r in people:
        h = at(r["y"])
        h.participants, h.new, h.regular = int(r["participants"]), int(r["new"]), int(r["regular"])
    for r in sessions:
        h = at(r["y"])
        h.sessions_run, h.sessions_cancelled = int(r["run"]), int(r["cancelled"])
        h.attendances_at_sessions = int(r["attendances"])
    for r in survey:
        at(r["y"]).survey[r["item"]] = (int(r["agree"]), int(r["responses"]))
    for r in leaders:
        at(r["y"]).leaders_appointed = int(r["n"])
    for r in granted:
        at(r["y"]).leaders_awarded = int(r["n"])
    ordered = [out[y] for y in sorted(out) if y is not None]
    running = 0
    for h in ordered:
        running += h.new or 0
        h.cumulative = running if h.participants is not None else None
    return ordered


async def graduate_counts(
    conn: AsyncConnection, year: str, code: str | None
) -> list[GraduateCount]:
    """Graduates per year of graduation up to `year`, outcome category, and whether they were a
    leader (appointed as one in that year or before; of the scheme `code`, when given)."""
    rows = await _fetch(
        conn,
        """
        WITH leaders AS (
            SELECT student_number, min(academic_year) AS first FROM annual_appointments
            WHERE role = 'leader'
              AND ($2::text IS NULL
                   OR EXISTS (SELECT 1 FROM unnest(schemes) x WHERE substr(x, 9) = $2::text))
            GROUP BY 1
        )
        SELECT g.academic_year, g.outcome,
               coalesce(l.first <= g.academic_year, false) AS leader, count(*) AS n
        FROM annual_graduate_outcomes g
        LEFT JOIN leaders l ON l.student_number = g.student_number
        WHERE g.academic_year <= $1
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        """,
        year,
        code,
    )
    return [
        GraduateCount(r["academic_year"], r["outcome"], bool(r["leader"]), int(r["n"]))
        for r in rows
    ]
