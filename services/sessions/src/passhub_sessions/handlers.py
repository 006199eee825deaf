"""Application services: gather the facts a rule needs (under locks), run the decider, append.

Each function runs inside the caller's transaction. Clash checks read other sessions, so the
rooms and leaders involved are locked first (PostgreSQL transaction-level advisory locks, taken
in sorted order); two requests that could double-book the same room or leader run one after the
other, and the second sees the first's session.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_sessions import queries
from passhub_sessions.domain import leader_availability, scheme, session
from passhub_sessions.domain.availability import Slot
from passhub_sessions.domain.clashes import Booking, room_key
from passhub_sessions.domain.events import SeriesPlanned
from passhub_sessions.domain.recurrence import WeeklyPattern, weekly_series
from passhub_sessions.domain.rota import (
    RotaPlan,
    RotaRequest,
    RotaSession,
    first_moment,
    generate_rota,
)
from passhub_sessions.domain.session import LeaderFacts, session_decider
from passhub_sessions.domain.terms import semester_of_week
from passhub_sessions.settings import SessionsSettings, term_dates
from passhub_shared.contracts.recruitment import LeaderStoodDown
from passhub_shared.messages.events import Metadata, Recorded, new_event_id
from passhub_shared.storage import locks
from passhub_shared.storage.decider import Handled, handle
from passhub_shared.storage.store import EventStore
from passhub_shared.web.errors import NotFound


@dataclass(frozen=True)
class Context:
    """What every use case gets besides its connection: the store it appends through, the
    service's settings, the time it runs at, the metadata of the command (who, caused by what)
    and what leaders are called. Routes build it in `api/deps.py`, the reaction in
    `reactions.py`, the tests of the use cases in `tests/sessions/handlers/conftest.py`."""

    store: EventStore
    settings: SessionsSettings
    now: datetime
    metadata: Metadata
    leader_title: str = "PASS Leader"

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.tz


def new_id() -> str:
    return str(new_event_id())


def room_lock(room: str) -> str:
    return f"sessions:room:{room_key(room)}"


def leader_lock(student_number: str) -> str:
    return f"sessions:leader:{student_number}"


async def lock(conn: AsyncConnection, keys: Iterable[str]) -> None:
    await locks.hold(conn, *keys)


async def _decide(
    conn: AsyncConnection, ctx: Context, session_id: str, command: session.Command
) -> Handled[session.Session]:
    """Run `command` on the session's stream through the session decider."""
    return await handle(
        conn, ctx.store, session_decider, session.stream_id(session_id), command, ctx.metadata
    )


def teaching_week(ctx: Context, academic_year: str, starts_at: datetime) -> str | None:
    try:
        terms = term_dates(ctx.settings, academic_year)
    except NotFound:
        return None
    week = terms.week_of(starts_at.astimezone(ctx.tz).date())
    return week.label if week else None


# --- schemes ---------------------------------------------------------------------------------


async def launch_scheme(conn: AsyncConnection, ctx: Context, command: scheme.LaunchScheme) -> str:
    scheme_id = scheme.make_scheme_id(command.academic_year, command.code)
    await handle(
        conn, ctx.store, scheme.scheme_decider, scheme.stream_id(scheme_id), command, ctx.metadata
    )
    return scheme_id


async def amend_scheme(
    conn: AsyncConnection, ctx: Context, scheme_id: str, command: scheme.AmendScheme
) -> bool:
    decided = await handle(
        conn, ctx.store, scheme.scheme_decider, scheme.stream_id(scheme_id), command, ctx.metadata
    )
    return bool(decided)


# --- sessions --------------------------------------------------------------------------------


async def _schedule(
    conn: AsyncConnection,
    ctx: Context,
    scheme_row: queries.Row,
    bookings: Sequence[Booking],
    starts_at: datetime,
    ends_at: datetime,
    room: str,
    capacity: int,
    teaching_week: str | None,
    series_id: str | None = None,
) -> str:
    """One new session, checked against the room's `bookings`: its id."""
    session_id = new_id()
    await _decide(
        conn,
        ctx,
        session_id,
        session.ScheduleSession(
            session_id=session_id,
            scheme_id=scheme_row["scheme_id"],
            starts_at=starts_at,
            ends_at=ends_at,
            room=room,
            capacity=capacity,
            teaching_week=teaching_week,
            series_id=series_id,
            room_bookings=bookings,
            tz=ctx.tz,
            max_minutes=ctx.settings.max_session_minutes,
        ),
    )
    return session_id


async def schedule_session(
    conn: AsyncConnection,
    ctx: Context,
    scheme_row: queries.Row,
    starts_at: datetime,
    ends_at: datetime,
    room: str,
    capacity: int,
) -> str:
    await lock(conn, [room_lock(room)])
    bookings = await queries.room_bookings(conn, room, starts_at, ends_at)
    week = teaching_week(ctx, scheme_row["academic_year"], starts_at)
    return await _schedule(
        conn, ctx, scheme_row, bookings, starts_at, ends_at, room, capacity, week
    )


@dataclass(frozen=True)
class PlannedSeries:
    series_id: str
    rule: str
    session_ids: list[str]


async def schedule_series(
    conn: AsyncConnection,
    ctx: Context,
    scheme_row: queries.Row,
    pattern: WeeklyPattern,
    room: str,
    capacity: int,
) -> PlannedSeries:
    """Every session of the series, or none: one clash rejects the whole series."""
    terms = term_dates(ctx.settings, scheme_row["academic_year"])
    plan = weekly_series(pattern, terms, ctx.tz)
    await lock(conn, [room_lock(room)])
    bookings = await queries.room_bookings(
        conn, room, plan.occurrences[0].starts_at, plan.occurrences[-1].ends_at
    )
    series_id = new_id()
    ids: list[str] = []
    for occurrence in plan.occurrences:
        session_id = await _schedule(
            conn,
            ctx,
            scheme_row,
            bookings,
            occurrence.starts_at,
            occurrence.ends_at,
            room,
            capacity,
            occurrence.teaching_week,
            series_id,
        )
        ids.append(session_id)
    await ctx.store.append(
        conn,
        f"series-{series_id}",
        0,
        [
            SeriesPlanned(
                series_id=series_id,
                scheme_id=scheme_row["scheme_id"],
                rule=plan.rule,
                weekday=pattern.weekday,
                starts=pattern.starts,
                ends=pattern.ends,
                timezone=ctx.settings.timezone,
                room=room.strip(),
                capacity=capacity,
                semesters=sorted(set(pattern.semesters)),
                skip_weeks=sorted(pattern.skip_weeks),
                session_ids=ids,
            )
        ],
        ctx.metadata,
    )
    return PlannedSeries(series_id, plan.rule, ids)


@dataclass(frozen=True)
class Rescheduled:
    changed: bool
    #: rostered leaders whose stated availability does not cover the new time
    leaders_not_available: list[str]


async def _lock_rostered(conn: AsyncConnection, session_id: str, extra: Sequence[str]) -> list[str]:
    """Lock `extra` and every leader on the session, until no one joined it meanwhile."""
    locked: set[str] = set()
    while True:
        current = [
            r["student_number"] for r in (await queries.rostered_on(conn, [session_id]))[session_id]
        ]
        wanted = {leader_lock(n) for n in current} | set(extra)
        if wanted <= locked:
            return current
        await lock(conn, wanted - locked)
        locked |= wanted


async def reschedule(
    conn: AsyncConnection,
    ctx: Context,
    session_id: str,
    *,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    room: str | None = None,
    capacity: int | None = None,
    reason: str = "",
) -> Rescheduled:
    """Move a session in time and/or to another room.

    Rostered leaders must be free at the new time (a clash is refused); their availability is
    not a reason to refuse a move, so the leaders it no longer suits are reported instead.
    """
    row = await queries.require_session(conn, session_id)
    new_start = starts_at or row["starts_at"]
    if ends_at is None:
        ends_at = new_start + (row["ends_at"] - row["starts_at"])
    new_room = room if room is not None else row["room"]
    rostered = await _lock_rostered(conn, session_id, [room_lock(new_room)])
    scheme_row = await queries.require_scheme(conn, row["scheme_id"])
    room_bookings = await queries.room_bookings(conn, new_room, new_start, ends_at)
    leader_bookings = await queries.leader_bookings(
        conn, rostered, new_start, ends_at, exclude=[session_id]
    )
    week = teaching_week(ctx, scheme_row["academic_year"], new_start)
    decided = await _decide(
        conn,
        ctx,
        session_id,
        session.RescheduleSession(
            starts_at=new_start,
            ends_at=ends_at,
            room=new_room,
            capacity=capacity if capacity is not None else row["capacity"],
            now=ctx.now,
            reason=reason,
            teaching_week=week,
            room_bookings=room_bookings,
            leader_bookings=leader_bookings,
            tz=ctx.tz,
            max_minutes=ctx.settings.max_session_minutes,
        ),
    )
    availability = await queries.availability_of(conn, scheme_row["academic_year"], rostered)
    unsuited = [
        n
        for n in rostered
        if n not in availability
        or not availability[n].allows(new_start, ends_at, ctx.tz, semester_of_week(week))
    ]
    return Rescheduled(bool(decided), unsuited if decided else [])


async def cancel(conn: AsyncConnection, ctx: Context, session_id: str, reason: str) -> None:
    await queries.require_session(conn, session_id)
    await _decide(conn, ctx, session_id, session.CancelSession(reason=reason, now=ctx.now))


async def _leader_facts(
    conn: AsyncConnection, session_id: str, student_number: str, *, locked: bool = True
) -> LeaderFacts:
    """What rostering `student_number` on the session checks: their appointment to its
    scheme, their availability for the year and their other sessions then (under the
    leader's lock unless `locked` is false)."""
    row = await queries.require_session(conn, session_id)
    scheme_row = await queries.require_scheme(conn, row["scheme_id"])
    if locked:
        await lock(conn, [leader_lock(student_number)])
    bookings = await queries.leader_bookings(
        conn, [student_number], row["starts_at"], row["ends_at"], exclude=[session_id]
    )
    availability = await queries.availability_of(
        conn, scheme_row["academic_year"], [student_number]
    )
    return LeaderFacts(
        student_number=student_number,
        appointment=await queries.appointment(conn, row["scheme_id"], student_number),
        availability=availability.get(student_number),
        commitments=bookings[student_number],
    )


async def roster(conn: AsyncConnection, ctx: Context, session_id: str, student_number: str) -> None:
    facts = await _leader_facts(conn, session_id, student_number)
    await _decide(conn, ctx, session_id, session.RosterLeader(facts, ctx.tz, ctx.leader_title))


async def unroster(
    conn: AsyncConnection, ctx: Context, session_id: str, student_number: str, reason: str
) -> None:
    await queries.require_session(conn, session_id)
    await _decide(conn, ctx, session_id, session.UnrosterLeader(student_number, reason))


async def swap(
    conn: AsyncConnection,
    ctx: Context,
    session_id: str,
    out: str,
    incoming: str,
    reason: str,
) -> None:
    facts = await _leader_facts(conn, session_id, incoming)
    await _decide(
        conn, ctx, session_id, session.SwapLeader(out, facts, reason, ctx.tz, ctx.leader_title)
    )


async def request_swap(
    conn: AsyncConnection, ctx: Context, session_id: str, out: str, incoming: str, reason: str
) -> str:
    """`out` asks `incoming` to take their place on the session: the new request's id."""
    facts = await _leader_facts(conn, session_id, incoming, locked=False)
    swap_id = new_id()
    await _decide(
        conn,
        ctx,
        session_id,
        session.RequestSwap(swap_id, out, facts, ctx.now, reason, ctx.tz, ctx.leader_title),
    )
    return swap_id


async def answer_swap(
    conn: AsyncConnection,
    ctx: Context,
    swap: queries.Row,
    by: str,
    answer: session.SwapAnswer,
) -> None:
    """Accept, decline or withdraw a swap request; accepting checks the leader asked again, as
    rostering would, under their lock."""
    facts = None
    if answer == "accept":
        facts = await _leader_facts(conn, swap["session_id"], swap["incoming_number"])
    await _decide(
        conn,
        ctx,
        swap["session_id"],
        session.AnswerSwap(swap["swap_id"], by, answer, ctx.now, facts, ctx.tz, ctx.leader_title),
    )


# --- availability and rota -------------------------------------------------------------------


async def state_availability(
    conn: AsyncConnection,
    ctx: Context,
    student_number: str,
    academic_year: str,
    slots: Sequence[Slot],
    unavailable_dates: Sequence[date],
    stated_by: str,
) -> bool:
    decided = await handle(
        conn,
        ctx.store,
        leader_availability.availability_decider,
        leader_availability.stream_id(
            academic_year, await ctx.store.pseudonym(conn, student_number)
        ),
        leader_availability.StateAvailability(
            student_number=student_number,
            academic_year=academic_year,
            slots=tuple(slots),
            unavailable_dates=tuple(unavailable_dates),
            stated_by=stated_by,
        ),
        ctx.metadata,
    )
    return bool(decided)


@dataclass(frozen=True)
class GeneratedRota:
    plan: RotaPlan
    sessions_considered: int
    leaders_without_availability: list[str]
    #: uncancelled sessions from `skipped_since` that started before `starting_after`, left
    #: as they are
    skipped: tuple[RotaSession, ...] = ()


async def generate(
    conn: AsyncConnection,
    ctx: Context,
    scheme_row: queries.Row,
    *,
    series_id: str | None = None,
    starting_after: datetime,
    skipped_since: datetime | None = None,
) -> GeneratedRota:
    """Fill the scheme's (or one series') uncancelled sessions from `starting_after` on. The
    sessions from `skipped_since` up to `starting_after` are not filled but reported (a
    request from a date in the past without back-filling)."""
    scheme_id = scheme_row["scheme_id"]
    if series_id is not None:
        found = await queries.get_series(conn, series_id)
        if found is None or found["scheme_id"] != scheme_id:
            raise NotFound(f"no series {series_id} in {scheme_id}")
    skipped: tuple[RotaSession, ...] = ()
    if skipped_since is not None and skipped_since < starting_after:
        past = await queries.scheme_sessions(
            conn,
            scheme_id,
            series_id=series_id,
            starting_after=skipped_since,
            until=starting_after,
            include_cancelled=False,
        )
        on_past = await queries.rostered_on(conn, [r["session_id"] for r in past])
        skipped = tuple(
            queries.as_rota_session(r, [x["student_number"] for x in on_past[r["session_id"]]])
            for r in past
        )
    appointments = {
        r["student_number"]: queries.as_appointment(r)
        for r in await queries.leaders_of(conn, scheme_id)
    }
    await lock(conn, [leader_lock(n) for n in appointments])
    rows = await queries.scheme_sessions(
        conn,
        scheme_id,
        series_id=series_id,
        starting_after=starting_after,
        include_cancelled=False,
    )
    ids = [r["session_id"] for r in rows]
    on = await queries.rostered_on(conn, ids)
    sessions = [
        queries.as_rota_session(r, [x["student_number"] for x in on[r["session_id"]]]) for r in rows
    ]
    numbers = sorted(appointments)
    commitments: dict[str, list[Booking]] = {n: [] for n in numbers}
    if sessions:
        commitments = await queries.leader_bookings(
            conn,
            numbers,
            min(s.starts_at for s in sessions),
            max(s.ends_at for s in sessions),
            exclude=ids,
        )
    availability = await queries.availability_of(conn, scheme_row["academic_year"], numbers)
    prior = await queries.scheme_load(conn, scheme_id, exclude=ids)
    plan = generate_rota(
        RotaRequest(
            sessions=sessions,
            leaders=list(appointments.values()),
            availability=availability,
            commitments=commitments,
            minimum=scheme_row["min_leaders_per_session"],
            tz=ctx.tz,
            prior_load=prior,
        )
    )

    # Record the plan, each session's additions checked once more by the session's own rules.
    busy: dict[str, list[Booking]] = defaultdict(list)
    for number, booked in commitments.items():
        busy[number].extend(booked)
    by_id = {s.session_id: s for s in sessions}
    for s in sessions:
        for number in s.rostered:
            busy[number].append(s.as_booking())
    added: dict[str, list[str]] = defaultdict(list)
    for a in plan.assignments:
        added[a.session_id].append(a.student_number)
        busy[a.student_number].append(by_id[a.session_id].as_booking())
    for session_id, chosen in added.items():
        facts = tuple(
            LeaderFacts(n, appointments[n], availability.get(n), tuple(busy[n])) for n in chosen
        )
        await _decide(conn, ctx, session_id, session.RosterLeaders(facts, ctx.tz, ctx.leader_title))
    missing = sorted(
        n
        for n, a in appointments.items()
        if a.leader and a.stood_down_from is None and n not in availability
    )
    return GeneratedRota(plan, len(sessions), missing, skipped)


# --- reactions to recruitment ----------------------------------------------------------------


async def unroster_stood_down(
    conn: AsyncConnection, ctx: Context, stood_down: Sequence[Recorded]
) -> int:
    """Take leaders who stood down off every session from their `effective_from` date on; each
    `leader_unrostered` is caused by the stand-down it follows from."""
    events = [(r, r.as_(LeaderStoodDown)) for r in stood_down]
    await lock(conn, [leader_lock(e.student_number) for _, e in events])
    count = 0
    for recorded, event in events:
        reason = f"stood down from {event.effective_from.isoformat()}"
        if event.reason.strip():
            reason += f": {event.reason.strip()}"
        caused = replace(ctx, metadata=ctx.metadata.caused_by(recorded))
        for session_id in await queries.sessions_of_leader_from(
            conn, event.student_number, event.schemes, first_moment(event.effective_from, ctx.tz)
        ):
            await _decide(
                conn, caused, session_id, session.UnrosterLeader(event.student_number, reason)
            )
            count += 1
    return count
