"""Reads of the read models (and of the log, for the audit trail)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, case, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_attendance.domain.model import SessionView
from passhub_attendance.evaluation.tables import enrolments
from passhub_attendance.tables import (
    attendances,
    feedback,
    rostered_leaders,
    scheduled_sessions,
    scheme_organisers,
    schemes,
)
from passhub_shared.contracts.attendance import FeedbackSubmitted
from passhub_shared.contracts.sessions import SessionReference, session_reference
from passhub_shared.personaldata.personal import Privacy
from passhub_shared.storage.schema import events

_FEEDBACK = FeedbackSubmitted.type_name()


def _gathered(column: Any, *where: Any) -> Any:
    """The values of `column` in the rows `where` picks, as an array (empty for none), for each
    row of scheduled sessions."""
    return (
        select(func.coalesce(func.array_agg(column), text("'{}'")))
        .where(*where)
        .correlate(scheduled_sessions)
        .scalar_subquery()
    )


_leaders = _gathered(
    rostered_leaders.c.student_number,
    rostered_leaders.c.session_id == scheduled_sessions.c.session_id,
)

_SESSION = select(
    scheduled_sessions,
    func.coalesce(schemes.c.modules, text("'{}'")).label("modules"),
    func.coalesce(schemes.c.title, "").label("scheme_title"),
    func.coalesce(schemes.c.code, "").label("scheme_code"),
    _leaders.label("leaders"),
).select_from(
    scheduled_sessions.outerjoin(schemes, schemes.c.scheme_id == scheduled_sessions.c.scheme_id)
)


def _view(row: Any) -> SessionView:
    return SessionView(
        session_id=row.session_id,
        scheme_id=row.scheme_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        room=row.room,
        cancelled=row.cancelled,
        leaders=frozenset(row.leaders or ()),
        modules=tuple(row.modules or ()),
        scheme_title=row.scheme_title,
        scheme_code=row.scheme_code,
    )


async def schemes_organised(conn: AsyncConnection, sub: str) -> frozenset[str]:
    """The schemes `sub` is named organiser of, or appointed student organiser to."""
    rows = await conn.execute(
        select(scheme_organisers.c.scheme_id).where(scheme_organisers.c.sub == sub).distinct()
    )
    return frozenset(r.scheme_id for r in rows)


async def session_view(conn: AsyncConnection, session_id: str) -> SessionView | None:
    row = (
        await conn.execute(_SESSION.where(scheduled_sessions.c.session_id == session_id))
    ).one_or_none()
    return None if row is None else _view(row)


async def sessions_to_write(
    conn: AsyncConnection, session_ids: Iterable[str]
) -> dict[str, SessionView | None]:
    """The sessions a transaction writes attendances to (None for one not scheduled). Each
    session row is read `FOR SHARE` (in session order), which writers do not contend for but a
    cancellation's update of the row waits for. A writer that comes after a cancellation waits
    for it instead, and then reads the row as the cancellation left it (PostgreSQL rereads a
    locked row that changed). So a cancellation sees every attendance committed before it, and
    none after."""
    wanted = sorted(set(session_ids))
    rows = await conn.execute(
        _SESSION.where(scheduled_sessions.c.session_id.in_(wanted))
        .order_by(scheduled_sessions.c.session_id)
        .with_for_update(read=True, of=scheduled_sessions)
    )
    found: dict[str, SessionView | None] = {r.session_id: _view(r) for r in rows}
    return {s: found.get(s) for s in wanted}


async def sessions_named(
    conn: AsyncConnection, references: Iterable[SessionReference], tz: tzinfo
) -> list[str]:
    """The ids of the sessions that may bear one of `references` (by the scheme's code or id
    and the minute they start); `imports.resolve_sessions` picks among them."""
    wanted = list(references)
    if not wanted:
        return []
    schemes_named = sorted({r.scheme for r in wanted})
    instants = sorted(
        {r.starts.replace(tzinfo=tz, fold=fold).astimezone(UTC) for r in wanted for fold in (0, 1)}
    )
    rows = await conn.execute(
        select(scheduled_sessions.c.session_id)
        .select_from(
            scheduled_sessions.join(schemes, schemes.c.scheme_id == scheduled_sessions.c.scheme_id)
        )
        .where(
            or_(
                func.upper(schemes.c.code).in_(schemes_named),
                func.upper(schemes.c.scheme_id).in_(schemes_named),
            ),
            func.date_trunc("minute", scheduled_sessions.c.starts_at).in_(instants),
        )
        .order_by(scheduled_sessions.c.session_id)
    )
    return [r.session_id for r in rows]


async def list_sessions(
    conn: AsyncConnection,
    *,
    scheme_id: str | None = None,
    room: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 500,
    tz: tzinfo = UTC,
) -> list[dict[str, Any]]:
    """Sessions with the reference people name them by (`tz`: the institution's zone)."""
    stmt = _SESSION
    if scheme_id:
        stmt = stmt.where(scheduled_sessions.c.scheme_id == scheme_id)
    if room:
        stmt = stmt.where(scheduled_sessions.c.room == room)
    if start:
        stmt = stmt.where(scheduled_sessions.c.ends_at >= start)
    if end:
        stmt = stmt.where(scheduled_sessions.c.starts_at <= end)
    rows = await conn.execute(stmt.order_by(scheduled_sessions.c.starts_at).limit(limit))
    return [
        {
            "session_id": r.session_id,
            "reference": session_reference(r.scheme_code or r.scheme_id, r.starts_at, tz),
            "scheme_id": r.scheme_id,
            "scheme_title": r.scheme_title,
            "starts_at": r.starts_at,
            "ends_at": r.ends_at,
            "room": r.room,
            "cancelled": r.cancelled,
            "leaders": sorted(r.leaders or ()),
        }
        for r in rows
    ]


async def headcount(conn: AsyncConnection, session_id: str) -> dict[str, int]:
    row = (
        await conn.execute(
            select(
                func.count().filter(attendances.c.role == "student").label("students"),
                func.count().filter(attendances.c.role == "leader").label("leaders"),
            ).where(and_(attendances.c.session_id == session_id, attendances.c.active))
        )
    ).one()
    return {"students": int(row.students), "leaders": int(row.leaders)}


async def session_attendances(conn: AsyncConnection, session_id: str) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(attendances)
        .where(attendances.c.session_id == session_id)
        .order_by(attendances.c.signed_in_at, attendances.c.student_number)
    )
    return [dict(r._mapping) for r in rows]


async def student_history(conn: AsyncConnection, student_number: str) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(
            attendances,
            scheduled_sessions.c.starts_at,
            scheduled_sessions.c.ends_at,
            scheduled_sessions.c.room,
        )
        .select_from(
            attendances.outerjoin(
                scheduled_sessions, scheduled_sessions.c.session_id == attendances.c.session_id
            )
        )
        .where(attendances.c.student_number == student_number)
        .order_by(attendances.c.signed_in_at)
    )
    return [dict(r._mapping) for r in rows]


async def scheme_attendance(conn: AsyncConnection, scheme_id: str) -> dict[str, Any]:
    """Per session of the scheme: headcounts; and per student: sessions attended."""
    active = and_(attendances.c.active, attendances.c.session_id == scheduled_sessions.c.session_id)
    rows = await conn.execute(
        select(
            scheduled_sessions.c.session_id,
            scheduled_sessions.c.starts_at,
            scheduled_sessions.c.room,
            scheduled_sessions.c.cancelled,
            func.count(case((attendances.c.role == "student", 1))).label("students"),
            func.count(case((attendances.c.role == "leader", 1))).label("leaders"),
        )
        .select_from(scheduled_sessions.outerjoin(attendances, active))
        .where(scheduled_sessions.c.scheme_id == scheme_id)
        .group_by(scheduled_sessions.c.session_id)
        .order_by(scheduled_sessions.c.starts_at)
    )
    sessions = [dict(r._mapping) for r in rows]
    per_student = await conn.execute(
        select(attendances.c.student_number, func.count().label("sessions"))
        .where(
            and_(
                attendances.c.scheme_id == scheme_id,
                attendances.c.active,
                attendances.c.role == "student",
            )
        )
        .group_by(attendances.c.student_number)
        .order_by(attendances.c.student_number)
    )
    students = [{"student_number": r.student_number, "sessions": r.sessions} for r in per_student]
    return {
        "scheme_id": scheme_id,
        "sessions": sessions,
        "students": students,
        "total_attendances": sum(s["students"] for s in sessions),
        "distinct_students": len(students),
        "sessions_delivered": sum(1 for s in sessions if s["leaders"] > 0 and not s["cancelled"]),
    }


async def leader_delivered(conn: AsyncConnection, student_number: str) -> dict[str, Any]:
    """Sessions a leader signed in to (not revoked, not cancelled): sessions delivered."""
    rows = await conn.execute(
        select(
            attendances.c.session_id,
            attendances.c.scheme_id,
            attendances.c.signed_in_at,
            scheduled_sessions.c.starts_at,
            scheduled_sessions.c.room,
        )
        .select_from(
            attendances.join(
                scheduled_sessions, scheduled_sessions.c.session_id == attendances.c.session_id
            )
        )
        .where(
            and_(
                attendances.c.student_number == student_number,
                attendances.c.role == "leader",
                attendances.c.active,
                scheduled_sessions.c.cancelled.is_(False),
            )
        )
        .order_by(scheduled_sessions.c.starts_at)
    )
    sessions = [dict(r._mapping) for r in rows]
    by_scheme: dict[str, int] = {}
    for s in sessions:
        by_scheme[s["scheme_id"]] = by_scheme.get(s["scheme_id"], 0) + 1
    return {
        "student_number": student_number,
        "sessions_delivered": len(sessions),
        "by_scheme": by_scheme,
        "sessions": sessions,
    }


async def session_feedback(
    conn: AsyncConnection, session_id: str, *, named: bool
) -> dict[str, Any]:
    """The session's sheets and their summary; without student numbers unless `named`."""
    rows = (
        await conn.execute(
            select(feedback)
            .where(feedback.c.session_id == session_id)
            .order_by(feedback.c.submitted_at, feedback.c.feedback_id)
        )
    ).all()
    sheets = [dict(r._mapping) for r in rows]
    if not named:
        for sheet in sheets:
            del sheet["student_number"]
    summary: dict[str, Any] = {"responses": len(sheets)}
    for item in ("understanding", "enjoyable", "recommend"):
        values = [s[item] for s in sheets]
        summary[item] = {
            "mean": round(sum(values) / len(values), 2) if values else None,
            "agreed": sum(1 for v in values if v >= 4),
        }
    return {"session_id": session_id, "summary": summary, "feedback": sheets}


async def student_feedback(conn: AsyncConnection, student_number: str) -> list[dict[str, Any]]:
    """The named feedback sheets a student gave, newest first, with their session's scheme and
    start. Anonymous sheets carry no student number, so they are never among them."""
    rows = (
        await conn.execute(
            select(
                feedback.c.feedback_id,
                feedback.c.session_id,
                feedback.c.scheme_id,
                feedback.c.understanding,
                feedback.c.enjoyable,
                feedback.c.recommend,
                feedback.c.comment,
                feedback.c.submitted_at,
                schemes.c.title.label("scheme_title"),
                scheduled_sessions.c.starts_at,
                scheduled_sessions.c.room,
            )
            .select_from(
                feedback.outerjoin(
                    scheduled_sessions,
                    scheduled_sessions.c.session_id == feedback.c.session_id,
                ).outerjoin(schemes, schemes.c.scheme_id == feedback.c.scheme_id)
            )
            .where(feedback.c.student_number == student_number)
            .order_by(feedback.c.submitted_at.desc(), feedback.c.feedback_id)
        )
    ).all()
    return [dict(r._mapping) for r in rows]


async def audit(
    conn: AsyncConnection,
    *,
    session_id: str | None = None,
    actor: str | None = None,
    origin: str = "attendance",
    limit: int = 1000,
    schemes: frozenset[str] | None = None,
    named_feedback: bool = True,
    privacy: Privacy | None = None,
) -> list[dict[str, Any]]:
    """Our own events with who caused them (the actor is kept locally, never published),
    opened with `privacy` (the actor is sealed in the log like a personal field).
    `schemes` limits them to those schemes' sessions; without `named_feedback` a feedback
    sheet's author (actor and student number) is left out, and with `actor` (whose feedback
    that would name) the feedback events are."""
    stmt = select(
        events.c.position,
        events.c.id,
        events.c.stream_id,
        events.c.stream_version,
        events.c.type,
        events.c.data,
        events.c.occurred_at,
        events.c.actor,
        events.c.correlation_id,
        events.c.causation_id,
    ).where(events.c.origin == origin, ~events.c.stream_id.startswith("feedback-guard-"))
    if session_id is not None:
        stmt = stmt.where(events.c.data["session_id"].astext == session_id)
    if actor is not None:
        sealed = actor if privacy is None else await privacy.sealed(conn, actor)
        if sealed is None:
            return []
        stmt = stmt.where(events.c.actor == sealed)
        if not named_feedback:
            stmt = stmt.where(events.c.type != _FEEDBACK)
    if schemes is not None:
        stmt = stmt.where(events.c.data["scheme_id"].astext.in_(sorted(schemes)))
    rows = await conn.execute(stmt.order_by(events.c.position).limit(limit))
    found = [
        {
            "position": r.position,
            "event_id": str(r.id),
            "stream_id": r.stream_id,
            "stream_version": r.stream_version,
            "type": r.type,
            "data": r.data,
            "occurred_at": r.occurred_at,
            "actor": r.actor,
            "correlation_id": r.correlation_id,
            "causation_id": r.causation_id,
        }
        for r in rows
    ]
    if privacy is not None:
        found = await privacy.open_rows(conn, found)
    if not named_feedback:
        for row in found:
            if row["type"] == _FEEDBACK:
                row["data"] = {k: v for k, v in row["data"].items() if k != "student_number"}
                row["actor"] = None
    return found


async def session_capacity(conn: AsyncConnection, session_id: str) -> int:
    found = (
        await conn.execute(
            select(scheduled_sessions.c.capacity).where(
                scheduled_sessions.c.session_id == session_id
            )
        )
    ).scalar_one_or_none()
    return int(found or 0)


async def signed_in(conn: AsyncConnection, session_id: str) -> list[str]:
    """Who is signed in to the session now (not revoked), by student number."""
    rows = await conn.execute(
        select(attendances.c.student_number)
        .where(and_(attendances.c.session_id == session_id, attendances.c.active))
        .order_by(attendances.c.student_number)
    )
    return [r.student_number for r in rows]


# -- what a coordinator watches across sessions ------------------------------------------------
# Paged and sorted in the database, so a year of 60,000 attendances stays quick.

#: at least this many sessions makes a student a regular (the UK PASS convention)
REGULAR_SESSIONS = 4


def _live_state(starts_at: datetime, ends_at: datetime, at: datetime) -> str:
    if starts_at <= at < ends_at:
        return "now"
    return "next" if at < starts_at else "ended"


async def live_sessions(
    conn: AsyncConnection,
    *,
    since: datetime,
    until: datetime,
    at: datetime,
    tz: tzinfo,
    scheme_id: str | None = None,
    include_cancelled: bool = False,
    organises: frozenset[str] | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[int, list[dict[str, Any]]]:
    """The sessions on between `since` and `until` (of `organises` only, when given), soonest
    first, with their headcounts and leaders: one query for the page, one for the total."""
    conditions = [scheduled_sessions.c.ends_at >= since, scheduled_sessions.c.starts_at < until]
    if scheme_id:
        conditions.append(scheduled_sessions.c.scheme_id == scheme_id)
    if not include_cancelled:
        conditions.append(scheduled_sessions.c.cancelled.is_(False))
    if organises is not None:
        conditions.append(scheduled_sessions.c.scheme_id.in_(sorted(organises)))
    where = and_(*conditions)
    counted = (
        select(func.count())
        .where(
            attendances.c.session_id == scheduled_sessions.c.session_id,
            attendances.c.active,
            attendances.c.role == "student",
        )
        .correlate(scheduled_sessions)
        .scalar_subquery()
    )
    leaders_in = _gathered(
        attendances.c.student_number,
        attendances.c.session_id == scheduled_sessions.c.session_id,
        attendances.c.active,
        attendances.c.role == "leader",
    )
    stmt = (
        select(
            scheduled_sessions,
            func.coalesce(schemes.c.title, "").label("scheme_title"),
            func.coalesce(schemes.c.code, scheduled_sessions.c.scheme_id).label("scheme_code"),
            counted.label("students"),
            leaders_in.label("leaders_in"),
            _leaders.label("rostered"),
        )
        .select_from(
            scheduled_sessions.outerjoin(
                schemes, schemes.c.scheme_id == scheduled_sessions.c.scheme_id
            )
        )
        .where(where)
        .order_by(scheduled_sessions.c.starts_at, scheduled_sessions.c.session_id)
        .offset(offset)
        .limit(limit)
    )
    counting = select(func.count()).select_from(scheduled_sessions).where(where)
    total = int((await conn.execute(counting)).scalar_one())
    rows = list(await conn.execute(stmt))
    return total, [
        {
            "session_id": r.session_id,
            "reference": session_reference(r.scheme_code, r.starts_at, tz),
            "scheme_id": r.scheme_id,
            "scheme_title": r.scheme_title,
            "starts_at": r.starts_at,
            "ends_at": r.ends_at,
            "room": r.room,
            "capacity": r.capacity,
            "cancelled": r.cancelled,
            "state": _live_state(r.starts_at, r.ends_at, at),
            "students": int(r.students),
            "rostered_leaders": sorted(r.rostered or ()),
            "leaders_signed_in": sorted(r.leaders_in or ()),
        }
        for r in rows
    ]


async def engagement_rows(
    conn: AsyncConnection,
    scheme_id: str,
    *,
    at: datetime,
    weeks: int,
    kind: str | None,
    sort: str,
    descending: bool,
    offset: int,
    limit: int | None,
) -> tuple[int, list[dict[str, Any]]]:
    """Students of the scheme whose last attendance is `weeks` or more before `at`, and who
    missed at least one session of the scheme held since: those who came to 1 to 3 sessions
    (`stopped`) and regulars (`lapsed`), `kind` one of them or both (None),
    sorted by the column `sort`. One grouped query over the scheme's attendances."""
    cutoff = at - timedelta(weeks=weeks)
    per_student = (
        select(
            attendances.c.student_number,
            func.count().label("sessions"),
            func.min(scheduled_sessions.c.starts_at).label("first_attended"),
            func.max(scheduled_sessions.c.starts_at).label("last_attended"),
        )
        .select_from(
            attendances.join(
                scheduled_sessions, scheduled_sessions.c.session_id == attendances.c.session_id
            )
        )
        .where(
            attendances.c.scheme_id == scheme_id,
            attendances.c.active,
            attendances.c.role == "student",
            scheduled_sessions.c.cancelled.is_(False),
        )
        .group_by(attendances.c.student_number)
        .subquery()
    )
    held = scheduled_sessions.alias("held")
    missed = (
        select(func.count())
        .where(
            held.c.scheme_id == scheme_id,
            held.c.cancelled.is_(False),
            held.c.starts_at > per_student.c.last_attended,
            held.c.starts_at <= at,
        )
        .correlate(per_student)
        .scalar_subquery()
    )
    listed = (
        select(
            per_student.c.student_number,
            per_student.c.sessions,
            per_student.c.first_attended,
            per_student.c.last_attended,
            missed.label("missed"),
        )
        .where(per_student.c.last_attended <= cutoff)
        .subquery()
    )
    conditions = [listed.c.missed > 0]
    if kind == "stopped":
        conditions.append(listed.c.sessions < REGULAR_SESSIONS)
    elif kind == "lapsed":
        conditions.append(listed.c.sessions >= REGULAR_SESSIONS)
    column = listed.c[sort]
    order = [column.desc() if descending else column.asc(), listed.c.student_number.asc()]
    stmt = select(listed).where(*conditions).order_by(*order).offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    total = int(
        (
            await conn.execute(select(func.count()).select_from(listed).where(*conditions))
        ).scalar_one()
    )
    found = [
        {
            "student_number": r.student_number,
            "kind": "lapsed" if r.sessions >= REGULAR_SESSIONS else "stopped",
            "sessions": int(r.sessions),
            "first_attended": r.first_attended,
            "last_attended": r.last_attended,
            "missed": int(r.missed),
        }
        for r in await conn.execute(stmt)
    ]
    return total, found


# -- the UDD exports (`udd.py`) ---------------------------------------------------------------


def _udd_sessions(year: str, scheme: str | None) -> Any:
    query = (
        select(
            scheduled_sessions.c.session_id,
            scheduled_sessions.c.starts_at,
            scheduled_sessions.c.ends_at,
            scheduled_sessions.c.room,
            schemes.c.scheme_id,
            schemes.c.code,
            schemes.c.title,
            schemes.c.modules,
        )
        .select_from(
            scheduled_sessions.join(schemes, schemes.c.scheme_id == scheduled_sessions.c.scheme_id)
        )
        .where(schemes.c.academic_year == year, scheduled_sessions.c.cancelled.is_(False))
        .order_by(scheduled_sessions.c.starts_at, scheduled_sessions.c.session_id)
    )
    if scheme:
        query = query.where(
            (schemes.c.scheme_id == scheme) | (func.upper(schemes.c.code) == scheme.upper())
        )
    return query


async def udd_sessions(conn: AsyncConnection, year: str, scheme: str | None) -> list[Any]:
    """The year's sessions (not cancelled), of one scheme (by id or code) or all, soonest
    first, with their scheme's code, title and modules."""
    return list((await conn.execute(_udd_sessions(year, scheme))).all())


async def udd_expected(conn: AsyncConnection, year: str, scheme: str | None) -> list[Any]:
    """Who was expected at each of those sessions: the students enrolled on one of its
    scheme's modules (the first such module), by session and student."""
    sessions = _udd_sessions(year, scheme).subquery()
    module = func.unnest(sessions.c.modules).table_valued("module").render_derived()
    expected = (
        select(
            sessions.c.session_id,
            enrolments.c.student_number,
            func.min(enrolments.c.module).label("module"),
        )
        .select_from(
            sessions.join(module, module.c.module.isnot(None)).join(
                enrolments,
                and_(
                    enrolments.c.academic_year == year,
                    enrolments.c.module == module.c.module,
                ),
            )
        )
        .group_by(sessions.c.session_id, sessions.c.starts_at, enrolments.c.student_number)
        .order_by(sessions.c.starts_at, sessions.c.session_id, enrolments.c.student_number)
    )
    return list((await conn.execute(expected)).all())
