"""Reads of the projection tables, shaped for the rules (bookings, appointments, availability)
and for the API (rows as dicts; `api/schemas.py` makes the answers of them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_sessions.domain.availability import Availability, Slot
from passhub_sessions.domain.clashes import Booking, room_key
from passhub_sessions.domain.rota import Appointment, RotaSession
from passhub_sessions.tables import (
    leader_availability,
    scheme_leaders,
    schemes,
    series,
    session_leaders,
    session_swaps,
    sessions,
)
from passhub_shared.storage.projections import load_rows
from passhub_shared.web.errors import NotFound

Row = dict[str, Any]


async def _by_key(conn: AsyncConnection, table: Table, *key: Any) -> Row | None:
    """The row of `table` with this primary key, or None."""
    return (await load_rows(conn, table, [key])).get(key)


async def get_scheme(conn: AsyncConnection, scheme_id: str) -> Row | None:
    return await _by_key(conn, schemes, scheme_id)


async def require_scheme(conn: AsyncConnection, scheme_id: str) -> Row:
    row = await get_scheme(conn, scheme_id)
    if row is None:
        raise NotFound(f"no scheme {scheme_id}")
    return row


async def list_schemes(conn: AsyncConnection, academic_year: str | None = None) -> list[Row]:
    stmt = select(schemes).order_by(schemes.c.scheme_id)
    if academic_year:
        stmt = stmt.where(schemes.c.academic_year == academic_year)
    return [dict(r._mapping) for r in await conn.execute(stmt)]


async def leaders_of(conn: AsyncConnection, scheme_id: str) -> list[Row]:
    rows = await conn.execute(
        select(scheme_leaders)
        .where(scheme_leaders.c.scheme_id == scheme_id)
        .order_by(scheme_leaders.c.student_number)
    )
    return [dict(r._mapping) for r in rows]


def as_appointment(row: Row) -> Appointment:
    return Appointment(
        student_number=row["student_number"],
        leader=row["leader"],
        appointed_on=row["appointed_on"],
        stood_down_from=row["stood_down_from"],
    )


async def appointment(
    conn: AsyncConnection, scheme_id: str, student_number: str
) -> Appointment | None:
    row = await _by_key(conn, scheme_leaders, scheme_id, student_number)
    return as_appointment(row) if row else None


async def organises(conn: AsyncConnection, scheme: Row, sub: str) -> bool:
    """Named as an organiser of the scheme, or appointed its student organiser by recruitment."""
    if sub in scheme["organisers"]:
        return True
    row = (
        await conn.execute(
            select(scheme_leaders.c.student_number).where(
                scheme_leaders.c.scheme_id == scheme["scheme_id"],
                scheme_leaders.c.student_number == sub,
                scheme_leaders.c.organiser.is_(True),
                scheme_leaders.c.stood_down_from.is_(None),
            )
        )
    ).first()
    return row is not None


async def schemes_of_leader(
    conn: AsyncConnection, student_number: str, academic_year: str | None = None
) -> list[str]:
    stmt = select(scheme_leaders.c.scheme_id).where(
        scheme_leaders.c.student_number == student_number
    )
    if academic_year:
        stmt = stmt.where(scheme_leaders.c.academic_year == academic_year)
    return [r.scheme_id for r in await conn.execute(stmt.order_by(scheme_leaders.c.scheme_id))]


async def room_bookings(
    conn: AsyncConnection, room: str, starts_at: datetime, ends_at: datetime
) -> list[Booking]:
    rows = await conn.execute(
        select(
            sessions.c.session_id,
            sessions.c.scheme_id,
            sessions.c.starts_at,
            sessions.c.ends_at,
            sessions.c.room,
        ).where(
            sessions.c.room_key == room_key(room),
            sessions.c.cancelled.is_(False),
            sessions.c.starts_at < ends_at,
            sessions.c.ends_at > starts_at,
        )
    )
    return [Booking(r.session_id, r.scheme_id, r.starts_at, r.ends_at, r.room) for r in rows]


async def leader_bookings(
    conn: AsyncConnection,
    numbers: Iterable[str],
    starts_at: datetime,
    ends_at: datetime,
    exclude: Iterable[str] = (),
) -> dict[str, list[Booking]]:
    """Each leader's uncancelled sessions (any scheme) overlapping the window."""
    wanted = sorted(set(numbers))
    found: dict[str, list[Booking]] = {n: [] for n in wanted}
    if not wanted:
        return found
    stmt = select(
        session_leaders.c.student_number,
        session_leaders.c.session_id,
        session_leaders.c.scheme_id,
        session_leaders.c.starts_at,
        session_leaders.c.ends_at,
    ).where(
        session_leaders.c.student_number.in_(wanted),
        session_leaders.c.rostered.is_(True),
        session_leaders.c.cancelled.is_(False),
        session_leaders.c.starts_at < ends_at,
        session_leaders.c.ends_at > starts_at,
    )
    skip = sorted(set(exclude))
    if skip:
        stmt = stmt.where(session_leaders.c.session_id.not_in(skip))
    for r in await conn.execute(stmt):
        found[r.student_number].append(Booking(r.session_id, r.scheme_id, r.starts_at, r.ends_at))
    return found


async def sessions_of_leader_from(
    conn: AsyncConnection, student_number: str, scheme_ids: Iterable[str], starting_at: datetime
) -> list[str]:
    """The uncancelled sessions of these schemes the leader is rostered on from `starting_at`,
    soonest first."""
    rows = await conn.execute(
        select(session_leaders.c.session_id)
        .where(
            session_leaders.c.student_number == student_number,
            session_leaders.c.scheme_id.in_(list(scheme_ids)),
            session_leaders.c.rostered.is_(True),
            session_leaders.c.cancelled.is_(False),
            session_leaders.c.starts_at >= starting_at,
        )
        .order_by(session_leaders.c.starts_at, session_leaders.c.session_id)
    )
    return [r.session_id for r in rows]


async def get_session(conn: AsyncConnection, session_id: str) -> Row | None:
    return await _by_key(conn, sessions, session_id)


async def require_session(conn: AsyncConnection, session_id: str) -> Row:
    row = await get_session(conn, session_id)
    if row is None:
        raise NotFound(f"no session {session_id}")
    return row


async def rostered_on(
    conn: AsyncConnection, session_ids: Sequence[str], include_past: bool = False
) -> dict[str, list[Row]]:
    """Leaders on each session (only those still rostered unless `include_past`)."""
    found: dict[str, list[Row]] = {s: [] for s in session_ids}
    if not session_ids:
        return found
    stmt = (
        select(
            session_leaders.c.session_id,
            session_leaders.c.student_number,
            session_leaders.c.rostered,
            session_leaders.c.reason,
            scheme_leaders.c.name,
        )
        .select_from(
            session_leaders.outerjoin(
                scheme_leaders,
                and_(
                    scheme_leaders.c.scheme_id == session_leaders.c.scheme_id,
                    scheme_leaders.c.student_number == session_leaders.c.student_number,
                ),
            )
        )
        .where(session_leaders.c.session_id.in_(list(session_ids)))
        .order_by(session_leaders.c.session_id, session_leaders.c.student_number)
    )
    if not include_past:
        stmt = stmt.where(session_leaders.c.rostered.is_(True))
    for r in await conn.execute(stmt):
        found[r.session_id].append(dict(r._mapping))
    return found


async def scheme_sessions(
    conn: AsyncConnection,
    scheme_id: str,
    *,
    series_id: str | None = None,
    starting_after: datetime | None = None,
    until: datetime | None = None,
    include_cancelled: bool = True,
) -> list[Row]:
    stmt = select(sessions).where(sessions.c.scheme_id == scheme_id)
    if series_id:
        stmt = stmt.where(sessions.c.series_id == series_id)
    if starting_after is not None:
        stmt = stmt.where(sessions.c.starts_at >= starting_after)
    if until is not None:
        stmt = stmt.where(sessions.c.starts_at < until)
    if not include_cancelled:
        stmt = stmt.where(sessions.c.cancelled.is_(False))
    rows = await conn.execute(stmt.order_by(sessions.c.starts_at, sessions.c.session_id))
    return [dict(r._mapping) for r in rows]


def as_rota_session(row: Row, rostered: Sequence[str]) -> RotaSession:
    return RotaSession(
        session_id=row["session_id"],
        scheme_id=row["scheme_id"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        teaching_week=row["teaching_week"],
        rostered=tuple(rostered),
    )


async def scheme_load(
    conn: AsyncConnection, scheme_id: str, exclude: Iterable[str] = ()
) -> Counter[str]:
    """Uncancelled sessions of the scheme each leader is rostered on (besides `exclude`)."""
    stmt = (
        select(session_leaders.c.student_number, func.count())
        .where(
            session_leaders.c.scheme_id == scheme_id,
            session_leaders.c.rostered.is_(True),
            session_leaders.c.cancelled.is_(False),
        )
        .group_by(session_leaders.c.student_number)
    )
    skip = sorted(set(exclude))
    if skip:
        stmt = stmt.where(session_leaders.c.session_id.not_in(skip))
    return Counter({r[0]: int(r[1]) for r in await conn.execute(stmt)})


def as_availability(row: Row) -> Availability:
    return Availability(
        slots=tuple(Slot.model_validate(s) for s in row["slots"]),
        unavailable_dates=frozenset(date.fromisoformat(d) for d in row["unavailable_dates"]),
    )


async def availability_rows(
    conn: AsyncConnection, academic_year: str, numbers: Iterable[str]
) -> dict[str, Row]:
    wanted = sorted(set(numbers))
    if not wanted:
        return {}
    rows = await conn.execute(
        select(leader_availability).where(
            leader_availability.c.academic_year == academic_year,
            leader_availability.c.student_number.in_(wanted),
        )
    )
    return {r.student_number: dict(r._mapping) for r in rows}


async def availability_of(
    conn: AsyncConnection, academic_year: str, numbers: Iterable[str]
) -> dict[str, Availability]:
    rows = await availability_rows(conn, academic_year, numbers)
    return {n: as_availability(r) for n, r in rows.items()}


async def series_of(conn: AsyncConnection, scheme_id: str) -> list[Row]:
    rows = await conn.execute(
        select(series).where(series.c.scheme_id == scheme_id).order_by(series.c.planned_at)
    )
    return [dict(r._mapping) for r in rows]


async def get_series(conn: AsyncConnection, series_id: str) -> Row | None:
    return await _by_key(conn, series, series_id)


async def leader_sessions(
    conn: AsyncConnection, student_number: str, include_past: bool = True
) -> list[Row]:
    """Sessions a leader is or was rostered on, with the session's details."""
    stmt = (
        select(
            sessions,
            session_leaders.c.rostered,
            session_leaders.c.reason.label("unrostered_reason"),
            session_leaders.c.updated_at.label("leader_updated_at"),
            schemes.c.title.label("scheme_title"),
        )
        .select_from(
            session_leaders.join(
                sessions, sessions.c.session_id == session_leaders.c.session_id
            ).outerjoin(schemes, schemes.c.scheme_id == sessions.c.scheme_id)
        )
        .where(session_leaders.c.student_number == student_number)
        .order_by(sessions.c.starts_at, sessions.c.session_id)
    )
    if not include_past:
        stmt = stmt.where(session_leaders.c.rostered.is_(True))
    return [dict(r._mapping) for r in await conn.execute(stmt)]


async def swap(conn: AsyncConnection, swap_id: str) -> Row:
    found = await _by_key(conn, session_swaps, swap_id)
    if found is None:
        raise NotFound(f"no swap request {swap_id}")
    return found


async def swaps_of_leader(conn: AsyncConnection, student_number: str) -> list[Row]:
    """Swap requests a leader made or was asked, with their session, soonest session first."""
    stmt = (
        select(
            session_swaps,
            sessions.c.starts_at,
            sessions.c.ends_at,
            sessions.c.room,
            sessions.c.cancelled,
            schemes.c.title.label("scheme_title"),
        )
        .select_from(
            session_swaps.join(
                sessions, sessions.c.session_id == session_swaps.c.session_id
            ).outerjoin(schemes, schemes.c.scheme_id == session_swaps.c.scheme_id)
        )
        .where(
            (session_swaps.c.out_number == student_number)
            | (session_swaps.c.incoming_number == student_number)
        )
        .order_by(sessions.c.starts_at, session_swaps.c.requested_at)
    )
    return [dict(r._mapping) for r in await conn.execute(stmt)]
