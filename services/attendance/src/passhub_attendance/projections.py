"""Read models, updated in the transaction that appends or records their events.

Each `apply` folds its batch in memory and writes once, and gives the same rows as applying the
events one at a time. For a replay, the same folds take the whole log (`Rebuild`), and each
final row is written once, with `COPY`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import and_, bindparam, delete, select
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
from passhub_shared.events import Recorded
from passhub_shared.projections import Projection, Rebuild, copy_mappings, copy_rows

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
    """Schemes and sessions as last published, and each (session, leader) rostered or not.
    A reschedule or cancellation updates the session row it finds (`rows`, seeded by `apply`
    from the table); one for a session not seen is ignored, as in the table."""

    def __init__(self, rows: dict[str, dict[str, Any]] | None = None) -> None:
        self.schemes: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = rows or {}
        self.changed: set[str] = set()
        self.leaders: dict[tuple[str, str], bool] = {}

    def fold(self, events: Sequence[Recorded]) -> None:
        sessions, changed, leaders = self.sessions, self.changed, self.leaders
        for e in events:
            d = e.data
            if e.type == SchemeLaunched.type_name():
                self.schemes[d["scheme_id"]] = {
                    "scheme_id": d["scheme_id"],
                    "code": d["code"],
                    "title": d["title"],
                    "school": d["school"],
                    "academic_year": d["academic_year"],
                    "modules": list(d.get("modules", [])),
                    "mode": d.get("mode", "opt_in"),
                }
            elif e.type == SessionScheduled.type_name():
                sessions[d["session_id"]] = {
                    "session_id": d["session_id"],
                    "scheme_id": d["scheme_id"],
                    "starts_at": _when(d["starts_at"]),
                    "ends_at": _when(d["ends_at"]),
                    "room": d["room"],
                    "capacity": d["capacity"],
                    "teaching_week": d.get("teaching_week"),
                    "cancelled": False,
                    "cancel_reason": None,
                }
                changed.add(d["session_id"])
            elif e.type == SessionRescheduled.type_name():
                row = sessions.get(d["session_id"])
                if row is not None:
                    row.update(
                        starts_at=_when(d["starts_at"]),
                        ends_at=_when(d["ends_at"]),
                        room=d["room"],
                        capacity=d["capacity"],
                    )
                    changed.add(d["session_id"])
            elif e.type == SessionCancelled.type_name():
                row = sessions.get(d["session_id"])
                if row is not None:
                    row.update(cancelled=True, cancel_reason=d["reason"])
                    changed.add(d["session_id"])
            elif e.type == LeaderRostered.type_name():
                leaders[(d["session_id"], d["student_number"])] = True
            elif e.type == LeaderUnrostered.type_name():
                leaders[(d["session_id"], d["student_number"])] = False

    @property
    def size(self) -> int:
        return len(self.schemes) + len(self.sessions) + len(self.leaders)

    async def write(self, conn: AsyncConnection) -> None:
        await copy_mappings(conn, schemes, self.schemes.values())
        await copy_mappings(conn, scheduled_sessions, self.sessions.values())
        await copy_rows(conn, rostered_leaders, [k for k, on in self.leaders.items() if on])


class SessionsProjection(Projection):
    """Schemes, sessions and rosters, as the sessions service published them."""

    name = "scheduled_sessions"
    tables = (schemes, scheduled_sessions, rostered_leaders)
    handles = SESSIONS_EVENTS

    def rebuild(self) -> Rebuild:
        return _Sessions()

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        touched = {
            e.data["session_id"]
            for e in events
            if e.type in (SessionRescheduled.type_name(), SessionCancelled.type_name())
        }
        known: dict[str, dict[str, Any]] = {}
        if touched:
            rows = await conn.execute(
                select(scheduled_sessions).where(scheduled_sessions.c.session_id.in_(touched))
            )
            known = {r.session_id: dict(r._mapping) for r in rows}
        batch = _Sessions(known)
        batch.fold(events)
        scheme_rows, sessions, changed, leaders = (
            batch.schemes,
            batch.sessions,
            batch.changed,
            batch.leaders,
        )
        if scheme_rows:
            stmt = pg_insert(schemes)
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[schemes.c.scheme_id],
                    set_={
                        c.name: stmt.excluded[c.name] for c in schemes.c if c.name != "scheme_id"
                    },
                ),
                list(scheme_rows.values()),
            )
        if changed:
            stmt = pg_insert(scheduled_sessions)
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[scheduled_sessions.c.session_id],
                    set_={
                        c.name: stmt.excluded[c.name]
                        for c in scheduled_sessions.c
                        if c.name != "session_id"
                    },
                ),
                [sessions[s] for s in sorted(changed)],
            )
        added = [{"session_id": s, "student_number": n} for (s, n), on in leaders.items() if on]
        removed = [{"s": s, "n": n} for (s, n), on in leaders.items() if not on]
        if added:
            await conn.execute(pg_insert(rostered_leaders).on_conflict_do_nothing(), added)
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
        # The rows travel as one JSON parameter that PostgreSQL unpacks by column name: a
        # batch of thousands costs the client next to nothing.
        if batch.rows:
            rows = [dict(zip(_ATTENDANCE_COLUMNS, row, strict=True)) for row in batch.rows.values()]
            await conn.exec_driver_sql(_UPSERT_ATTENDANCES, (orjson.dumps(rows).decode(),))
        if batch.revoked_only:
            revoked = [{"s": s, "n": n, "r": r} for (s, n), r in batch.revoked_only.items()]
            await conn.exec_driver_sql(_REVOKE_ATTENDANCES, (orjson.dumps(revoked).decode(),))


_UPSERT_ATTENDANCES = f"""
INSERT INTO {attendances.name}
SELECT * FROM json_populate_recordset(NULL::{attendances.name}, $1::json)
ON CONFLICT (session_id, student_number) DO UPDATE SET
    scheme_id = excluded.scheme_id, role = excluded.role, method = excluded.method,
    signed_in_at = excluded.signed_in_at, active = excluded.active,
    revoked_reason = excluded.revoked_reason
"""

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


_LAUNCHED, _AMENDED = SchemeLaunched.type_name(), SchemeAmended.type_name()
_APPOINTED, _STOOD_DOWN = LeaderAppointed.type_name(), LeaderStoodDown.type_name()


class _Organisers(Rebuild):
    """Each scheme's named organisers as last published (a launch or an amendment names them
    all), and each (scheme, person) appointed student organiser by recruitment or not (a stand
    down ends an appointment, as in the sessions service)."""

    def __init__(self) -> None:
        self.named: dict[str, set[str]] = {}
        self.appointed: dict[tuple[str, str], bool] = {}

    def fold(self, events: Sequence[Recorded]) -> None:
        for e in events:
            d = e.data
            if e.type in (_LAUNCHED, _AMENDED):
                self.named[d["scheme_id"]] = set(d.get("organisers") or ())
            elif e.type == _APPOINTED:
                if d.get("role") == "organiser":
                    for scheme_id in d["schemes"]:
                        self.appointed[(scheme_id, d["student_number"])] = True
            elif e.type == _STOOD_DOWN:
                for scheme_id in d["schemes"]:
                    self.appointed[(scheme_id, d["student_number"])] = False

    @property
    def size(self) -> int:
        return sum(len(v) for v in self.named.values()) + len(self.appointed)

    def rows(self) -> list[tuple[str, str, str]]:
        named = [(s, sub, "scheme") for s, subs in self.named.items() for sub in sorted(subs)]
        appointed = [(s, sub, "appointment") for (s, sub), on in self.appointed.items() if on]
        return named + appointed

    async def write(self, conn: AsyncConnection) -> None:
        await copy_rows(conn, scheme_organisers, self.rows())


class OrganisersProjection(Projection):
    """Who organises each scheme, for the rule that an organiser acts on their schemes only."""

    name = "scheme_organisers"
    tables = (scheme_organisers,)
    handles = ORGANISER_EVENTS

    def rebuild(self) -> Rebuild:
        return _Organisers()

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        batch = _Organisers()
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
        if rows:
            await conn.execute(pg_insert(scheme_organisers).on_conflict_do_nothing(), rows)
