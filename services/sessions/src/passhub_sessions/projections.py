"""Projections: each folds a batch of events in memory (after one read of the rows it touches),
one method per event type (the kit's `on`/`Dispatch`), and writes every touched row with one
upsert, so replaying thousands of events is fast.

Each table's rows are written by events of one stream (a scheme, a session, a series, a
leader's availability) or, for `scheme_leaders`, by recruitment's events in the order this
service recorded them; nothing reads a clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

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
from passhub_shared.messages.events import Recorded
from passhub_shared.storage.projections import Dispatch, Projection, load_rows, on, upsert

Row = dict[str, Any]
Rows = dict[tuple[Any, ...], Row]


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


class SchemeLeadersProjection(Dispatch):
    """Appointed leaders and organisers per scheme, from recruitment's events."""

    name = "scheme_leaders"
    tables = (scheme_leaders,)

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        keys = [(scheme, e.data["student_number"]) for e in events for scheme in e.data["schemes"]]
        batch = _Batch(await load_rows(conn, scheme_leaders, keys))
        self.dispatch(batch, events)
        await upsert(conn, scheme_leaders, batch.touched_rows())

    @on(LeaderAppointed)
    def appointed(self, batch: _Batch, recorded: Recorded, event: LeaderAppointed) -> None:
        for scheme in event.schemes:
            key = (scheme, event.student_number)
            row = batch.rows.get(key)
            if row is None or row["stood_down_from"] is not None:
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
            batch.put(key, row)

    @on(LeaderStoodDown)
    def stood_down(self, batch: _Batch, recorded: Recorded, event: LeaderStoodDown) -> None:
        for scheme in event.schemes:
            key = (scheme, event.student_number)
            if key in batch.rows:
                batch.rows[key].update(
                    stood_down_from=event.effective_from, stood_down_reason=event.reason or None
                )
                batch.touched.add(key)


@dataclass
class _Batch:
    """Rows a batch reads and writes, by primary key, and the keys of those it changed."""

    rows: Rows
    touched: set[tuple[Any, ...]] = field(default_factory=set)

    def put(self, key: tuple[Any, ...], row: Row) -> None:
        self.rows[key] = row
        self.touched.add(key)

    def touched_rows(self) -> list[Row]:
        return [self.rows[k] for k in sorted(self.touched)]


@dataclass
class _SessionsBatch:
    sessions: _Batch
    #: session_leaders rows by session, then student number
    leaders: dict[str, dict[str, Row]]
    touched_leaders: set[tuple[str, str]] = field(default_factory=set)


class SessionsProjection(Dispatch):
    """Sessions and who is rostered on them (the rota, the clash index and the feeds)."""

    name = "sessions"
    tables = (sessions, session_leaders)

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        ids = sorted({e.data["session_id"] for e in events})
        rows = await load_rows(conn, sessions, ((i,) for i in ids))
        existing = await conn.execute(
            select(session_leaders).where(session_leaders.c.session_id.in_(ids))
        )
        leaders: dict[str, dict[str, Row]] = {}
        for r in existing:
            leaders.setdefault(r.session_id, {})[r.student_number] = dict(r._mapping)
        batch = _SessionsBatch(_Batch(rows), leaders)
        self.dispatch(batch, events)
        await upsert(conn, sessions, batch.sessions.touched_rows())
        await upsert(
            conn,
            session_leaders,
            [batch.leaders[s][n] for s, n in sorted(batch.touched_leaders)],
        )

    @on(SessionScheduled)
    def scheduled(self, batch: _SessionsBatch, recorded: Recorded, event: SessionScheduled) -> None:
        batch.sessions.put(
            (event.session_id,),
            {
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
                "sequence": recorded.stream_version - 1,
                "scheduled_at": recorded.occurred_at,
                "updated_at": recorded.occurred_at,
            },
        )

    @staticmethod
    def _changed(batch: _SessionsBatch, recorded: Recorded, session_id: str) -> Row | None:
        """The session's row, its sequence and time of change moved on (None if unknown)."""
        row = batch.sessions.rows.get((session_id,))
        if row is not None:
            row.update(sequence=recorded.stream_version - 1, updated_at=recorded.occurred_at)
            batch.sessions.touched.add((session_id,))
        return row

    @staticmethod
    def _every_leader(batch: _SessionsBatch, session_id: str, **changes: Any) -> None:
        for number, leader in batch.leaders.get(session_id, {}).items():
            leader.update(changes)
            batch.touched_leaders.add((session_id, number))

    @on(SessionRescheduled)
    def rescheduled(
        self, batch: _SessionsBatch, recorded: Recorded, event: SessionRescheduled
    ) -> None:
        row = self._changed(batch, recorded, event.session_id)
        if row is None:
            return
        row.update(
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            room=event.room,
            room_key=room_key(event.room),
            capacity=event.capacity,
            teaching_week=event.teaching_week,
        )
        self._every_leader(
            batch, event.session_id, starts_at=event.starts_at, ends_at=event.ends_at
        )

    @on(SessionCancelled)
    def cancelled(self, batch: _SessionsBatch, recorded: Recorded, event: SessionCancelled) -> None:
        row = self._changed(batch, recorded, event.session_id)
        if row is None:
            return
        row.update(cancelled=True, cancel_reason=event.reason)
        self._every_leader(batch, event.session_id, cancelled=True)

    @on(LeaderRostered)
    def rostered(self, batch: _SessionsBatch, recorded: Recorded, event: LeaderRostered) -> None:
        row = self._changed(batch, recorded, event.session_id)
        if row is None:
            return
        batch.leaders.setdefault(event.session_id, {})[event.student_number] = {
            "session_id": event.session_id,
            "student_number": event.student_number,
            "scheme_id": row["scheme_id"],
            "starts_at": row["starts_at"],
            "ends_at": row["ends_at"],
            "cancelled": row["cancelled"],
            "rostered": True,
            "reason": None,
            "updated_at": recorded.occurred_at,
        }
        batch.touched_leaders.add((event.session_id, event.student_number))

    @on(LeaderUnrostered)
    def unrostered(
        self, batch: _SessionsBatch, recorded: Recorded, event: LeaderUnrostered
    ) -> None:
        row = self._changed(batch, recorded, event.session_id)
        on_session = batch.leaders.get(event.session_id, {})
        if row is None or event.student_number not in on_session:
            return
        on_session[event.student_number].update(
            rostered=False, reason=event.reason, updated_at=recorded.occurred_at
        )
        batch.touched_leaders.add((event.session_id, event.student_number))


class SeriesProjection(Dispatch):
    name = "series"
    tables = (series,)

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        rows: Rows = {}
        self.dispatch(rows, events)
        await upsert(conn, series, list(rows.values()))

    @on(SeriesPlanned)
    def planned(self, rows: Rows, recorded: Recorded, e: SeriesPlanned) -> None:
        rows[(e.series_id,)] = {
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


class AvailabilityProjection(Dispatch):
    name = "leader_availability"
    tables = (leader_availability,)

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        rows: Rows = {}
        self.dispatch(rows, events)
        await upsert(conn, leader_availability, list(rows.values()))

    @on(AvailabilityStated)
    def stated(self, rows: Rows, recorded: Recorded, e: AvailabilityStated) -> None:
        rows[(e.academic_year, e.student_number)] = {
            "academic_year": e.academic_year,
            "student_number": e.student_number,
            "slots": [s.model_dump(mode="json") for s in e.slots],
            "unavailable_dates": [d.isoformat() for d in e.unavailable_dates],
            "stated_by": e.stated_by,
            "stated_at": recorded.occurred_at,
        }


class SwapsProjection(Dispatch):
    """Leaders' swap requests, open and answered (the swaps a leader is part of)."""

    name = "session_swaps"
    tables = (session_swaps,)

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        rows = await load_rows(conn, session_swaps, ((e.data["swap_id"],) for e in events))
        self.dispatch(rows, events)
        await upsert(conn, session_swaps, list(rows.values()))

    @on(SwapRequested)
    def requested(self, rows: Rows, recorded: Recorded, event: SwapRequested) -> None:
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

    @on(SwapAnswered)
    def answered(self, rows: Rows, recorded: Recorded, event: SwapAnswered) -> None:
        if (event.swap_id,) in rows:
            rows[(event.swap_id,)].update(status=event.outcome, answered_at=recorded.occurred_at)


PROJECTIONS: list[Projection] = [
    SchemesProjection(),
    SchemeLeadersProjection(),
    SessionsProjection(),
    SeriesProjection(),
    AvailabilityProjection(),
    SwapsProjection(),
]
