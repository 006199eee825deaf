"""What a coordinator watches across sessions: the live headcounts of the sessions on now or
next, and the students whose attendance has stopped (engagement). Reads of the read models,
paged and sorted in the database, so a year of 60,000 attendances stays quick."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, tzinfo
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import and_, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_attendance.api.deps import SettingsDep, now
from passhub_attendance.api.sign_ins import scoped
from passhub_attendance.domain import access
from passhub_attendance.tables import attendances, rostered_leaders, scheduled_sessions, schemes
from passhub_shared.app import RuntimeDep
from passhub_shared.auth import Principal, require
from passhub_shared.contracts.sessions import session_reference
from passhub_shared.errors import Rejected

router = APIRouter(tags=["overview"])

#: at least this many sessions makes a student a regular (the UK PASS convention)
REGULAR_SESSIONS = 4


class LiveSession(BaseModel):
    session_id: str
    reference: str
    scheme_id: str
    scheme_title: str
    starts_at: datetime
    ends_at: datetime
    room: str
    capacity: int
    cancelled: bool
    #: `now` (under way), `next` (not started yet) or `ended`
    state: Literal["now", "next", "ended"]
    #: students signed in (not revoked)
    students: int
    #: leaders rostered on it
    rostered_leaders: list[str]
    #: leaders signed in to it (as leaders)
    leaders_signed_in: list[str]


class LivePage(BaseModel):
    at: datetime
    total: int
    offset: int
    limit: int
    sessions: list[LiveSession]


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
) -> tuple[int, list[LiveSession]]:
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
    leaders_in = (
        select(func.coalesce(func.array_agg(attendances.c.student_number), text("'{}'")))
        .where(
            attendances.c.session_id == scheduled_sessions.c.session_id,
            attendances.c.active,
            attendances.c.role == "leader",
        )
        .correlate(scheduled_sessions)
        .scalar_subquery()
    )
    rostered = (
        select(func.coalesce(func.array_agg(rostered_leaders.c.student_number), text("'{}'")))
        .where(rostered_leaders.c.session_id == scheduled_sessions.c.session_id)
        .correlate(scheduled_sessions)
        .scalar_subquery()
    )
    stmt = (
        select(
            scheduled_sessions,
            func.coalesce(schemes.c.title, "").label("scheme_title"),
            func.coalesce(schemes.c.code, scheduled_sessions.c.scheme_id).label("scheme_code"),
            counted.label("students"),
            leaders_in.label("leaders_in"),
            rostered.label("rostered"),
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
        LiveSession(
            session_id=r.session_id,
            reference=session_reference(r.scheme_code, r.starts_at, tz),
            scheme_id=r.scheme_id,
            scheme_title=r.scheme_title,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            room=r.room,
            capacity=r.capacity,
            cancelled=r.cancelled,
            state=_live_state(r.starts_at, r.ends_at, at),
            students=int(r.students),
            rostered_leaders=sorted(r.rostered or ()),
            leaders_signed_in=sorted(r.leaders_in or ()),
        )
        for r in rows
    ]


@router.get("/headcounts", response_model=LivePage)
async def live_headcounts(
    runtime: RuntimeDep,
    settings: SettingsDep,
    start: Annotated[
        datetime | None, Query(description="ending at or after (default: now)")
    ] = None,
    end: Annotated[
        datetime | None, Query(description="starting before (default: the end of today, local)")
    ] = None,
    scheme_id: Annotated[str | None, Query(max_length=100)] = None,
    include_cancelled: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    principal: Principal = require("coordinator", "organiser", "academic", "integration"),
) -> LivePage:
    """The sessions on between `start` and `end` (by default those under way or still to come
    today), soonest first, each with its live headcount, its rostered leaders and which of them
    signed in. An organiser sees the schemes they organise only."""
    who = await scoped(runtime, principal)
    tz = settings.tz
    at = now()
    since = start or at
    if since.tzinfo is None:
        since = since.replace(tzinfo=tz)
    if end is None:
        local = since.astimezone(tz)
        until = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tz)
    else:
        until = end if end.tzinfo is not None else end.replace(tzinfo=tz)
    if until <= since:
        raise Rejected("`end` must be after `start`", code="invalid_range")
    organises = None
    if who.has("organiser") and not who.has("coordinator", "academic", "integration"):
        organises = who.organises
    async with runtime.engine.connect() as conn:
        total, sessions = await live_sessions(
            conn,
            since=since,
            until=until,
            at=at,
            tz=tz,
            scheme_id=scheme_id,
            include_cancelled=include_cancelled,
            organises=organises,
            offset=offset,
            limit=limit,
        )
    return LivePage(at=at, total=total, offset=offset, limit=limit, sessions=sessions)


# -- engagement --------------------------------------------------------------------------------

EngagementKind = Literal["stopped", "lapsed"]
EngagementSort = Literal["student_number", "sessions", "last_attended", "missed"]


class Disengaged(BaseModel):
    student_number: str
    #: `stopped`: came to 1 to 3 sessions, then no more; `lapsed`: a regular (4 or more)
    #: who has not come since
    kind: EngagementKind
    sessions: int
    first_attended: datetime
    last_attended: datetime
    #: the scheme's sessions held since their last one
    missed: int


class EngagementPage(BaseModel):
    scheme_id: str
    at: datetime
    #: no attendance for at least this many weeks
    weeks: int
    total: int
    offset: int
    limit: int
    students: list[Disengaged]


async def engagement_rows(
    conn: AsyncConnection,
    scheme_id: str,
    *,
    at: datetime,
    weeks: int,
    kind: EngagementKind | None,
    sort: EngagementSort,
    descending: bool,
    offset: int,
    limit: int | None,
) -> tuple[int, list[Disengaged]]:
    """Students of the scheme whose last attendance is `weeks` or more before `at`, and who
    missed at least one session of the scheme held since: those who came to 1 to 3 sessions
    (`stopped`) and regulars (`lapsed`). One grouped query over the scheme's attendances."""
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
        Disengaged(
            student_number=r.student_number,
            kind="lapsed" if r.sessions >= REGULAR_SESSIONS else "stopped",
            sessions=int(r.sessions),
            first_attended=r.first_attended,
            last_attended=r.last_attended,
            missed=int(r.missed),
        )
        for r in await conn.execute(stmt)
    ]
    return total, found


def engagement_csv(students: list[Disengaged], tz: tzinfo) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["student_number", "kind", "sessions", "first_attended", "last_attended", "missed"]
    )
    for s in students:
        writer.writerow(
            [
                s.student_number,
                s.kind,
                s.sessions,
                s.first_attended.astimezone(tz).date().isoformat(),
                s.last_attended.astimezone(tz).date().isoformat(),
                s.missed,
            ]
        )
    return out.getvalue().encode()


@router.get(
    "/schemes/{scheme_id}/engagement",
    response_model=EngagementPage,
    responses={200: {"content": {"text/csv": {}}}},
)
async def engagement(
    scheme_id: str,
    runtime: RuntimeDep,
    settings: SettingsDep,
    weeks: Annotated[int, Query(ge=1, le=52, description="no attendance for this many weeks")] = 3,
    kind: EngagementKind | None = None,
    sort: EngagementSort = "last_attended",
    order: Literal["asc", "desc"] = "asc",
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    format: Literal["json", "csv"] = "json",
    principal: Principal = require("coordinator", "organiser"),
) -> Any:
    """Students who came to 1 to 3 sessions and stopped, and regulars who have not come for
    `weeks` weeks (3 by default), with the sessions they missed since; `format=csv` exports the
    whole list (paging ignored). For coordinators and the scheme's organisers."""
    access.may_read_scheme(await scoped(runtime, principal), scheme_id)
    at = now()
    async with runtime.engine.connect() as conn:
        total, students = await engagement_rows(
            conn,
            scheme_id,
            at=at,
            weeks=weeks,
            kind=kind,
            sort=sort,
            descending=order == "desc",
            offset=0 if format == "csv" else offset,
            limit=None if format == "csv" else limit,
        )
    if format == "csv":
        safe = "".join(ch for ch in scheme_id if ch.isalnum() or ch in "-_")
        return Response(
            engagement_csv(students, settings.tz),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="engagement-{safe}.csv"'},
        )
    return EngagementPage(
        scheme_id=scheme_id,
        at=at,
        weeks=weeks,
        total=total,
        offset=offset,
        limit=limit,
        students=students,
    )
