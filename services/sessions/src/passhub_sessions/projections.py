"""Projections: each folds a batch of events in memory (after one read of the rows it touches)
and writes every touched row with one upsert, so replaying thousands of events is fast.

Each table's rows are written by events of one stream (a scheme, a session, a series, a
leader's availability) or, for `scheme_leaders`, by recruitment's events in the order this
service recorded them; nothing reads a clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_sessions.domain.clashes import room_key
from passhub_sessions.domain.events import (
    AvailabilityStated,
    SchemeAmended,
    SeriesPlanned,
    SwapAnswered,
    SwapRequested,
)
from passhub_sessions.tables import (
    leader_availability,
    scheme_leaders,
    schemes,
    series,
    session_leaders,
    session_swaps,
    sessions,
)
from passhub_shared.contracts.recruitment import LeaderAppointed, LeaderStoodDown
from passhub_shared.contracts.sessions import (
    LeaderRostered,
    LeaderUnrostered,
    SchemeLaunched,
    SessionCancelled,
    SessionRescheduled,
    SessionScheduled,
)
from passhub_shared.events import Recorded
from passhub_shared.projections import Dispatch, Projection, load_rows, on, upsert

Row = dict[str, Any]
Rows = dict[tuple[Any, ...], Row]
SessionEvent = (
    SessionScheduled | SessionRescheduled | SessionCancelled | LeaderRostered | LeaderUnrostered
)


class SchemesProjection(Dispatch):
    name = "schemes"
    tables = (schemes,)

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        amended = SchemeAmended.type_name()
        rows = await load_rows(
            conn, schemes, ((e.data["scheme_id"],) for e in events if e.type == amended)
        )
        self.dispatch(rows, events)
        await upsert(conn, schemes, list(rows.values()))

    @on(SchemeLaunched)
    def launched(self, rows: Rows, recorded: Recorded, event: SchemeLaunched) -> None:
        rows[(event.scheme_id,)] = {
            "scheme_id": event.scheme_id,
            "code": event.code,
            "title": event.title,
            "school": event.school,
            "academic_year": event.academic_year,
            "modules": list(event.modules),
            "mode": event.mode,
            "coordinator": event.coordinator,
            "organisers": list(event.organisers),
            "min_leaders_per_session": event.min_leaders_per_session,
            "launched_at": recorded.occurred_at,
            "updated_at": recorded.occurred_at,
        }

    @on(SchemeAmended)
    def amended(self, rows: Rows, recorded: Recorded, event: SchemeAmended) -> None:
        if (event.scheme_id,) in rows:
            rows[(event.scheme_id,)].update(
                coordinator=event.coordinator,
                organisers=list(event.organisers),
                min_leaders_per_session=event.min_leaders_per_session,
                updated_at=recorded.occurred_at,
            )


class SchemeLeadersProjection(Projection):
    """Appointed leaders and organisers per scheme, from recruitment's events."""

    name = "scheme_leaders"
    tables = (scheme_leaders,)
    handles = frozenset({LeaderAppointed.type_name(), LeaderStoodDown.type_name()})

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        decoded = [r.decode() for r in events]
        keys = [
            (scheme, e.student_number)
            for e in decoded
            if isinstance(e, LeaderAppointed | LeaderStoodDown)
            for scheme in e.schemes
        ]
        rows = await load_rows(conn, scheme_leaders, keys)
        touched: set[tuple[Any, ...]] = set()
        for event in decoded:
            if isinstance(event, LeaderAppointed):
                for scheme in event.schemes:
                    key = (scheme, event.student_number)
                    row = rows.get(key)
                    fresh = row is None or row["stood_down_from"] is not None
                    if row is None or fresh:
                        row = {
                            "scheme_id": scheme,
                            "student_number": event.student_number,
                            "leader": False,
                            "organiser": False,
                            "appointed_on": event.appointed_on,
                        }
                    row.update(
                        name=event.name,
                        email=event.email,
                        academic_year=event.academic_year,
                        appointed_on=min(row["appointed_on"], event.appointed_on),
                        stood_down_from=None,
                        stood_down_reason=None,
                    )
                    row[event.role] = True
                    rows[key] = row
                    touched.add(key)
            elif isinstance(event, LeaderStoodDown):
                for scheme in event.schemes:
                    key = (scheme, event.student_number)
                    if key in rows:
                        rows[key].update(
                            stood_down_from=event.effective_from,
                            stood_down_reason=event.reason or None,
                        )
                        touched.add(key)
        await upsert(conn, scheme_leaders, [rows[k] for k in sorted(touched)])


class SessionsProjection(Projection):
    """Sessions and who is rostered on them (the rota, the clash index and the feeds)."""

    name = "sessions"
    tables = (sessions, session_leaders)
    handles = frozenset(
        {
            SessionScheduled.type_name(),
            SessionRescheduled.type_name(),
            SessionCancelled.type_name(),
            LeaderRostered.type_name(),
            LeaderUnrostered.type_name(),
        }
    )

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        decoded = [(r, cast(SessionEvent, r.decode())) for r in events]
        ids = {e.session_id for _, e in decoded}
        rows = await load_rows(conn, sessions, ((i,) for i in ids))
        existing = await conn.execute(
            select(session_leaders).where(session_leaders.c.session_id.in_(sorted(ids)))
        )
        leaders: dict[str, dict[str, Row]] = {}
        for r in existing:
            leaders.setdefault(r.session_id, {})[r.student_number] = dict(r._mapping)
        touched_sessions: set[str] = set()
        touched_leaders: set[tuple[str, str]] = set()

        for recorded, event in decoded:
            when = recorded.occurred_at
            sequence = recorded.stream_version - 1
            if isinstance(event, SessionScheduled):
                rows[(event.session_id,)] = {
                    "session_id": event.session_id,
                    "scheme_id": event.scheme_id,
                    "series_id": event.series_id,
                    "teaching_week": event.teaching_week,
                    "starts_at": event.starts_at,
                    "ends_at": event.ends_at,
                    "room": event.room,
                    "room_key": room_key(event.room),
                    "capacity": event.capacity,
                    "cancelled": False,
                    "cancel_reason": None,
                    "sequence": sequence,
                    "scheduled_at": when,
                    "updated_at": when,
                }
                touched_sessions.add(event.session_id)
                continue
            row = rows.get((event.session_id,))
            if row is None:
                continue
            sid = row["session_id"]
            row.update(sequence=sequence, updated_at=when)
            touched_sessions.add(sid)
            on_session = leaders.setdefault(sid, {})
            if isinstance(event, SessionRescheduled):
                row.update(
                    starts_at=event.starts_at,
                    ends_at=event.ends_at,
                    room=event.room,
                    room_key=room_key(event.room),
                    capacity=event.capacity,
                    teaching_week=event.teaching_week,
                )
                for number, leader in on_session.items():
                    leader.update(starts_at=event.starts_at, ends_at=event.ends_at)
                    touched_leaders.add((sid, number))
            elif isinstance(event, SessionCancelled):
                row.update(cancelled=True, cancel_reason=event.reason)
                for number, leader in on_session.items():
                    leader.update(cancelled=True)
                    touched_leaders.add((sid, number))
            elif isinstance(event, LeaderRostered):
                on_session[event.student_number] = {
                    "session_id": sid,
                    "student_number": event.student_number,
                    "scheme_id": row["scheme_id"],
                    "starts_at": row["starts_at"],
                    "ends_at": row["ends_at"],
                    "cancelled": row["cancelled"],
                    "rostered": True,
                    "reason": None,
                    "updated_at": when,
                }
                touched_leaders.add((sid, event.student_number))
            elif isinstance(event, LeaderUnrostered) and event.student_number in on_session:
                on_session[event.student_number].update(
                    rostered=False, reason=event.reason, updated_at=when
                )
                touched_leaders.add((sid, event.student_number))

        await upsert(conn, sessions, [rows[(s,)] for s in sorted(touched_sessions)])
        await upsert(conn, session_leaders, [leaders[s][n] for s, n in sorted(touched_leaders)])


class SeriesProjection(Projection):
    name = "series"
    tables = (series,)
    handles = frozenset({SeriesPlanned.type_name()})

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        rows: dict[str, Row] = {}
        for recorded in events:
            e = recorded.as_(SeriesPlanned)
            rows[e.series_id] = {
                "series_id": e.series_id,
                "scheme_id": e.scheme_id,
                "rule": e.rule,
                "weekday": e.weekday,
                "starts": e.starts,
                "ends": e.ends,
                "timezone": e.timezone,
                "room": e.room,
                "capacity": e.capacity,
                "semesters": list(e.semesters),
                "skip_weeks": list(e.skip_weeks),
                "session_ids": list(e.session_ids),
                "planned_at": recorded.occurred_at,
            }
        await upsert(conn, series, list(rows.values()))


class AvailabilityProjection(Projection):
    name = "leader_availability"
    tables = (leader_availability,)
    handles = frozenset({AvailabilityStated.type_name()})

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        rows: dict[tuple[str, str], Row] = {}
        for recorded in events:
            e = recorded.as_(AvailabilityStated)
            rows[(e.academic_year, e.student_number)] = {
                "academic_year": e.academic_year,
                "student_number": e.student_number,
                "slots": [s.model_dump(mode="json") for s in e.slots],
                "unavailable_dates": [d.isoformat() for d in e.unavailable_dates],
                "stated_by": e.stated_by,
                "stated_at": recorded.occurred_at,
            }
        await upsert(conn, leader_availability, list(rows.values()))


class SwapsProjection(Projection):
    """Leaders' swap requests, open and answered (the swaps a leader is part of)."""

    name = "session_swaps"
    tables = (session_swaps,)
    handles = frozenset({SwapRequested.type_name(), SwapAnswered.type_name()})

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        decoded = [(r, cast(SwapRequested | SwapAnswered, r.decode())) for r in events]
        rows = await load_rows(conn, session_swaps, ((e.swap_id,) for _, e in decoded))
        for recorded, event in decoded:
            if isinstance(event, SwapRequested):
                rows[(event.swap_id,)] = {
                    "swap_id": event.swap_id,
                    "session_id": event.session_id,
                    "scheme_id": event.scheme_id,
                    "out_number": event.out,
                    "incoming_number": event.incoming.student_number,
                    "reason": event.reason,
                    "status": "open",
                    "requested_at": recorded.occurred_at,
                    "answered_at": None,
                }
            elif (event.swap_id,) in rows:
                rows[(event.swap_id,)].update(
                    status=event.outcome, answered_at=recorded.occurred_at
                )
        await upsert(conn, session_swaps, list(rows.values()))


PROJECTIONS: list[Projection] = [
    SchemesProjection(),
    SchemeLeadersProjection(),
    SessionsProjection(),
    SeriesProjection(),
    AvailabilityProjection(),
    SwapsProjection(),
]
