"""Read models, updated in the transaction that appends or records their events.

Each `apply` folds its batch in memory and writes once (the kit's `upsert`), and gives the same
rows as applying the events one at a time. For a replay, the same folds take the whole log
(`Rebuild`), and each final row is written once, with `COPY`.

The sessions' and organisers' folds dispatch by event type (the kit's `on`/`Dispatch`). The
attendances' and feedback's folds read the events' data as recorded, without decoding them:
they are the bulk of the log and of every sign-in batch, where decoding each event would cost
more than the rest of the fold (about 14 microseconds an event).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import and_, bindparam, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_attendance.domain.events import FeedbackGuardTaken
from passhub_attendance.tables import (
    attendances,
    feedback,
    feedback_guards,
    rostered_leaders,
    scheduled_sessions,
    scheme_organisers,
    schemes,
)
from passhub_shared.contracts.attendance import (
    AttendanceRevoked,
    FeedbackSubmitted,
    LeaderSignedIn,
    StudentSignedIn,
)
from passhub_shared.contracts.recruitment import LeaderAppointed, LeaderStoodDown
from passhub_shared.contracts.sessions import (
    LeaderRostered,
    LeaderUnrostered,
    SchemeAmended,
    SchemeLaunched,
    SessionCancelled,
    SessionRescheduled,
    SessionScheduled,
)
from passhub_shared.messages.events import Recorded
from passhub_shared.storage.projections import (
    Dispatch,
    Projection,
    Rebuild,
    copy_mappings,
    copy_rows,
    load_rows,
    on,
    upsert,
)

SESSIONS_EVENTS = frozenset(
    cls.type_name()
    for cls in (
        SchemeLaunched,
        SessionScheduled,
        SessionRescheduled,
        SessionCancelled,
        LeaderRostered,
        LeaderUnrostered,
    )
)

#: who organises which scheme: named by sessions (launch, amendment), appointed by recruitment
ORGANISER_EVENTS = frozenset(
    cls.type_name() for cls in (SchemeLaunched, SchemeAmended, LeaderAppointed, LeaderStoodDown)
)
RECRUITMENT_EVENTS = frozenset({LeaderAppointed.type_name(), LeaderStoodDown.type_name()})


def _when(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


class _Sessions(Rebuild):
    """Schemes and sessions as last published, and each (session, leader) rostered or not,
    folded by `SessionsProjection`'s handlers. A reschedule or cancellation updates the session
    row it finds (`sessions`, seeded by `apply` from the table); one for a session not seen is
    ignored, as in the table."""

    def __init__(
        self, projection: SessionsProjection, rows: dict[str, dict[str, Any]] | None = None
    ) -> None:
        self.projection = projection
        self.schemes: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = rows or {}
        self.changed: set[str] = set()
        self.leaders: dict[tuple[str, str], bool] = {}

    def fold(self, events: Sequence[Recorded]) -> None:
        self.projection.dispatch(self, events)

    @property
    def size(self) -> int:
        return len(self.schemes) + len(self.sessions) + len(self.leaders)

    async def write(self, conn: AsyncConnection) -> None:
        await copy_mappings(conn, schemes, self.schemes.values())
        await copy_mappings(conn, scheduled_sessions, self.sessions.values())
        await copy_rows(conn, rostered_leaders, [k for k, on in self.leaders.items() if on])


class SessionsProjection(Dispatch):
    """Schemes, sessions and rosters, as the sessions service published them. Live batches and
    a replay's `Rebuild` fold through the same handlers; a replay writes each row once."""

    name = "scheduled_sessions"
    tables = (schemes, scheduled_sessions, rostered_leaders)
    handles = SESSIONS_EVENTS

    def rebuild(self) -> Rebuild:
        return _Sessions(self)

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        touched = [
            (e.data["session_id"],)
            for e in events
            if e.type in (SessionRescheduled.type_name(), SessionCancelled.type_name())
        ]
        known = await load_rows(conn, scheduled_sessions, touched)
        batch = _Sessions(self, {key[0]: row for key, row in known.items()})
        batch.fold(events)
        await upsert(conn, schemes, list(batch.schemes.values()))
        await upsert(conn, scheduled_sessions, [batch.sessions[s] for s in sorted(batch.changed)])
        leaders = batch.leaders
        added = [{"session_id": s, "student_number": n} for (s, n), on in leaders.items() if on]
        removed = [{"s": s, "n": n} for (s, n), on in leaders.items() if not on]
        await upsert(conn, rostered_leaders, added)
        if removed:
            await conn.execute(
                delete(rostered_leaders).where(
                    and_(
                        rostered_leaders.c.session_id == bindparam("s"),
                        rostered_leaders.c.student_number == bindparam("n"),
                    )
                ),
                removed,
            )

    @on(SchemeLaunched)
    def _launched(self, state: _Sessions, recorded: Recorded, event: SchemeLaunched) -> None:
        state.schemes[event.scheme_id] = {
            "scheme_id": event.scheme_id,
            "code": event.code,
            "title": event.title,
            "school": event.school,
            "academic_year": event.academic_year,
            "modules": list(event.modules),
            "mode": event.mode,
        }

    @on(SessionScheduled)
    def _scheduled(self, state: _Sessions, recorded: Recorded, event: SessionScheduled) -> None:
        state.sessions[event.session_id] = {
            "session_id": event.session_id,
            "scheme_id": event.scheme_id,
            "starts_at": event.starts_at,
            "ends_at": event.ends_at,
            "room": event.room,
            "capacity": event.capacity,
            "teaching_week": event.teaching_week,
            "cancelled": False,
            "cancel_reason": None,
        }
        state.changed.add(event.session_id)

    @on(SessionRescheduled)
    def _rescheduled(self, state: _Sessions, recorded: Recorded, event: SessionRescheduled) -> None:
        row = state.sessions.get(event.session_id)
        if row is not None:
            row.update(
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                room=event.room,
                capacity=event.capacity,
            )
            state.changed.add(event.session_id)

    @on(SessionCancelled)
    def _cancelled(self, state: _Sessions, recorded: Recorded, event: SessionCancelled) -> None:
        row = state.sessions.get(event.session_id)
        if row is not None:
            row.update(cancelled=True, cancel_reason=event.reason)
            state.changed.add(event.session_id)

    @on(LeaderRostered)
    def _rostered(self, state: _Sessions, recorded: Recorded, event: LeaderRostered) -> None:
        state.leaders[(event.session_id, event.student_number)] = True

    @on(LeaderUnrostered)
    def _unrostered(self, state: _Sessions, recorded: Recorded, event: LeaderUnrostered) -> None:
        state.leaders[(event.session_id, event.student_number)] = False


_SIGNED_IN = StudentSignedIn.type_name()
_LEADER_SIGNED_IN = LeaderSignedIn.type_name()
_REVOKED = AttendanceRevoked.type_name()
_ATTENDANCE_COLUMNS = tuple(str(c.name) for c in attendances.columns)
_ACTIVE, _REASON = _ATTENDANCE_COLUMNS.index("active"), _ATTENDANCE_COLUMNS.index("revoked_reason")


class _Attendances(Rebuild):
    """The last row of each (session, person) (a sign-in writes the whole row; a revocation
    clears `active` on it), and revocations of rows this fold has not seen (they were written
    earlier: `apply` updates them in place; a rebuild from empty tables has none)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], list[Any]] = {}
        self.revoked_only: dict[tuple[str, str], str] = {}

    def fold(self, events: Sequence[Recorded]) -> None:
        rows, revoked_only = self.rows, self.revoked_only
        for e in events:
            d = e.data
            key = (d["session_id"], d["student_number"])
            if e.type == _REVOKED:
                row = rows.get(key)
                if row is not None:
                    row[_ACTIVE], row[_REASON] = False, d["reason"]
                else:
                    revoked_only[key] = d["reason"]
            else:
                revoked_only.pop(key, None)
                # in the order of the table's columns
                rows[key] = [
                    key[0],
                    key[1],
                    d["scheme_id"],
                    "leader" if e.type == _LEADER_SIGNED_IN else "student",
                    d["method"],
                    _when(d["signed_in_at"]),
                    True,
                    None,
                ]

    @property
    def size(self) -> int:
        return len(self.rows) + len(self.revoked_only)

    async def write(self, conn: AsyncConnection) -> None:
        await copy_rows(conn, attendances, self.rows.values())


class AttendancesProjection(Projection):
    """Who signed in to what (a row per session and person; `active` false once revoked)."""

    name = "attendances"
    tables = (attendances,)
    handles = frozenset({_SIGNED_IN, _LEADER_SIGNED_IN, _REVOKED})

    def rebuild(self) -> Rebuild:
        return _Attendances()

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        batch = _Attendances()
        batch.fold(events)
        # `upsert`: the rows travel as one JSON parameter that PostgreSQL unpacks by column
        # name, so a batch of thousands costs the client next to nothing
        rows = [dict(zip(_ATTENDANCE_COLUMNS, row, strict=True)) for row in batch.rows.values()]
        await upsert(conn, attendances, rows)
        if batch.revoked_only:
            revoked = [{"s": s, "n": n, "r": r} for (s, n), r in batch.revoked_only.items()]
            await conn.exec_driver_sql(_REVOKE_ATTENDANCES, (orjson.dumps(revoked).decode(),))


_REVOKE_ATTENDANCES = f"""
UPDATE {attendances.name} a SET active = false, revoked_reason = r.r
FROM json_to_recordset($1::json) AS r(s text, n text, r text)
WHERE a.session_id = r.s AND a.student_number = r.n
"""


class _Feedback(Rebuild):
    """Feedback sheets and guards, each as first recorded (the tables keep the first)."""

    def __init__(self) -> None:
        self.sheets: dict[str, dict[str, Any]] = {}
        self.guards: dict[str, dict[str, Any]] = {}

    def fold(self, events: Sequence[Recorded]) -> None:
        for e in events:
            d = e.data
            if e.type == FeedbackSubmitted.type_name():
                self.sheets.setdefault(
                    d["feedback_id"],
                    {
                        "feedback_id": d["feedback_id"],
                        "session_id": d["session_id"],
                        "scheme_id": d["scheme_id"],
                        "student_number": d.get("student_number"),
                        "understanding": d["understanding"],
                        "enjoyable": d["enjoyable"],
                        "recommend": d["recommend"],
                        "comment": d.get("comment", ""),
                        "submitted_at": e.occurred_at,
                    },
                )
            else:
                self.guards.setdefault(
                    d["guard"], {"guard": d["guard"], "session_id": d["session_id"]}
                )

    @property
    def size(self) -> int:
        return len(self.sheets) + len(self.guards)

    async def write(self, conn: AsyncConnection) -> None:
        await copy_mappings(conn, feedback, self.sheets.values())
        await copy_mappings(conn, feedback_guards, self.guards.values())


class FeedbackProjection(Projection):
    """Feedback sheets, and apart from them the guards that keep one per student per session."""

    name = "feedback"
    tables = (feedback, feedback_guards)
    handles = frozenset({FeedbackSubmitted.type_name(), FeedbackGuardTaken.type_name()})

    def rebuild(self) -> Rebuild:
        return _Feedback()

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        batch = _Feedback()
        batch.fold(events)
        sheets, guards = list(batch.sheets.values()), list(batch.guards.values())
        if sheets:
            await conn.execute(pg_insert(feedback).on_conflict_do_nothing(), sheets)
        if guards:
            await conn.execute(pg_insert(feedback_guards).on_conflict_do_nothing(), guards)


class _Organisers(Rebuild):
    """Each scheme's named organisers as last published (a launch or an amendment names them
    all), and each (scheme, person) appointed student organiser by recruitment or not (a stand
    down ends an appointment, as in the sessions service), folded by `OrganisersProjection`'s
    handlers."""

    def __init__(self, projection: OrganisersProjection) -> None:
        self.projection = projection
        self.named: dict[str, set[str]] = {}
        self.appointed: dict[tuple[str, str], bool] = {}

    def fold(self, events: Sequence[Recorded]) -> None:
        self.projection.dispatch(self, events)

    @property
    def size(self) -> int:
        return sum(len(v) for v in self.named.values()) + len(self.appointed)

    def rows(self) -> list[tuple[str, str, str]]:
        named = [(s, sub, "scheme") for s, subs in self.named.items() for sub in sorted(subs)]
        appointed = [(s, sub, "appointment") for (s, sub), on in self.appointed.items() if on]
        return named + appointed

    async def write(self, conn: AsyncConnection) -> None:
        await copy_rows(conn, scheme_organisers, self.rows())


class OrganisersProjection(Dispatch):
    """Who organises each scheme, for the rule that an organiser acts on their schemes only."""

    name = "scheme_organisers"
    tables = (scheme_organisers,)
    handles = ORGANISER_EVENTS

    def rebuild(self) -> Rebuild:
        return _Organisers(self)

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        batch = _Organisers(self)
        batch.fold(events)
        o = scheme_organisers.c
        if batch.named:
            await conn.execute(
                delete(scheme_organisers).where(
                    and_(o.scheme_id.in_(list(batch.named)), o.source == "scheme")
                )
            )
        ended = [{"s": s, "n": n} for (s, n), on in batch.appointed.items() if not on]
        if ended:
            await conn.execute(
                delete(scheme_organisers).where(
                    and_(
                        o.scheme_id == bindparam("s"),
                        o.sub == bindparam("n"),
                        o.source == "appointment",
                    )
                ),
                ended,
            )
        rows = [{"scheme_id": s, "sub": sub, "source": source} for s, sub, source in batch.rows()]
        await upsert(conn, scheme_organisers, rows)

    @on(SchemeLaunched, SchemeAmended)
    def _named(
        self, state: _Organisers, recorded: Recorded, event: SchemeLaunched | SchemeAmended
    ) -> None:
        state.named[event.scheme_id] = set(event.organisers)

    @on(LeaderAppointed)
    def _appointed(self, state: _Organisers, recorded: Recorded, event: LeaderAppointed) -> None:
        if event.role == "organiser":
            for scheme_id in event.schemes:
                state.appointed[(scheme_id, event.student_number)] = True

    @on(LeaderStoodDown)
    def _stood_down(self, state: _Organisers, recorded: Recorded, event: LeaderStoodDown) -> None:
        for scheme_id in event.schemes:
            state.appointed[(scheme_id, event.student_number)] = False
