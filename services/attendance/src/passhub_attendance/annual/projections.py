"""The annual report's projection: one fold over the events it handles, kept per key as the
last event leaves it (so a batch folded whole and the same events applied one at a time give the
same rows), written with a few set-based statements live and with `COPY` in a replay.

Event data are read as the plain dicts of the log, opened: student numbers as they are, an
erased person's as `erased-<key id>` (still one distinct person, so counts stay right).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_attendance.annual import tables as t
from passhub_attendance.annual.events import GraduateOutcomesImported
from passhub_attendance.evaluation.projections import scheme_year
from passhub_shared.contracts.attendance import AttendanceRevoked, LeaderSignedIn
from passhub_shared.contracts.recognition import AwardGranted, AwardWithdrawn, AwardWithheld
from passhub_shared.contracts.recruitment import (
    LeaderAppointed,
    LeaderStoodDown,
    TrainingCompleted,
)
from passhub_shared.contracts.sessions import (
    SchemeLaunched,
    SessionCancelled,
    SessionRescheduled,
    SessionScheduled,
)
from passhub_shared.messages.events import Recorded
from passhub_shared.storage.projections import Projection, Rebuild, copy_rows

SCHEME_LAUNCHED = SchemeLaunched.type_name()
SCHEDULED = SessionScheduled.type_name()
RESCHEDULED = SessionRescheduled.type_name()
CANCELLED = SessionCancelled.type_name()
LEADER_SIGNED_IN = LeaderSignedIn.type_name()
REVOKED = AttendanceRevoked.type_name()
APPOINTED = LeaderAppointed.type_name()
STOOD_DOWN = LeaderStoodDown.type_name()
TRAINED = TrainingCompleted.type_name()
GRANTED = AwardGranted.type_name()
WITHHELD = AwardWithheld.type_name()
WITHDRAWN = AwardWithdrawn.type_name()
OUTCOMES = GraduateOutcomesImported.type_name()

#: what the attendance service consumes of recruitment and recognition for this report
RECRUITMENT_EVENTS = frozenset({APPOINTED, STOOD_DOWN, TRAINED})
RECOGNITION_EVENTS = frozenset({GRANTED, WITHHELD, WITHDRAWN})

_AWARD_STATUS = {GRANTED: "granted", WITHHELD: "withheld", WITHDRAWN: "withdrawn"}


def _when(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


class _Annual(Rebuild):
    def __init__(self) -> None:
        self.schemes: dict[str, tuple[str, str, str]] = {}
        #: session -> [scheme, starts, week, timed (scheduled in this fold), cancelled]
        self.sessions: dict[str, list[Any]] = {}
        self.leaders: dict[tuple[str, str], tuple[str, bool]] = {}
        self.appointments: dict[tuple[str, str, str], set[str]] = {}
        self.stood_down: set[tuple[str, str]] = set()
        self.training: set[tuple[str, str]] = set()
        self.awards: dict[tuple[str, str, str], str] = {}
        self.outcomes: dict[tuple[str, str], str] = {}
        self._size = 0

    def fold(self, events: Sequence[Recorded]) -> None:
        for e in events:
            d, kind = e.data, e.type
            self._size += 1
            if kind == SCHEME_LAUNCHED:
                year = scheme_year(d["scheme_id"]) or d["academic_year"]
                self.schemes[d["scheme_id"]] = (year, d["code"], d.get("mode") or "opt_in")
            elif kind in (SCHEDULED, RESCHEDULED):
                entry = self.sessions.setdefault(d["session_id"], [None, None, None, False, False])
                entry[0], entry[1] = d["scheme_id"], _when(d["starts_at"])
                entry[2], entry[3] = d.get("teaching_week"), True
            elif kind == CANCELLED:
                entry = self.sessions.setdefault(d["session_id"], [None, None, None, False, False])
                entry[0] = entry[0] or d["scheme_id"]
                entry[4] = True
            elif kind == LEADER_SIGNED_IN:
                key = (d["session_id"], d["student_number"])
                now = self.leaders.get(key)
                if now is None or not now[1]:
                    self.leaders[key] = (d["scheme_id"], True)
            elif kind == REVOKED:
                if d["role"] == "leader":
                    self.leaders[(d["session_id"], d["student_number"])] = (d["scheme_id"], False)
            elif kind == APPOINTED:
                who = (d["academic_year"], d["student_number"], d["role"])
                self.appointments.setdefault(who, set()).update(d.get("schemes") or ())
            elif kind == STOOD_DOWN:
                self.stood_down.add((d["academic_year"], d["student_number"]))
            elif kind == TRAINED:
                self.training.add((d["academic_year"], d["student_number"]))
            elif kind in _AWARD_STATUS:
                award = (d["academic_year"], d["student_number"], d["kind"])
                self.awards[award] = _AWARD_STATUS[kind]
            elif kind == OUTCOMES:
                self._size += len(d["rows"])
                for r in d["rows"]:
                    self.outcomes[(d["academic_year"], r["student_number"])] = r["outcome"]

    @property
    def size(self) -> int:
        return self._size

    async def write(self, conn: AsyncConnection) -> None:
        await copy_rows(conn, t.schemes, [(k, *v) for k, v in self.schemes.items()])
        await copy_rows(
            conn, t.sessions, [(k, v[0], v[1], v[2], v[4]) for k, v in self.sessions.items()]
        )
        await copy_rows(
            conn, t.leader_sessions, [(*k, v[0]) for k, v in self.leaders.items() if v[1]]
        )
        await copy_rows(
            conn, t.appointments, [(*k, sorted(v)) for k, v in self.appointments.items()]
        )
        await copy_rows(conn, t.stood_down, sorted(self.stood_down))
        await copy_rows(conn, t.training, sorted(self.training))
        await copy_rows(conn, t.awards, [(*k, v) for k, v in self.awards.items()])
        await copy_rows(conn, t.graduate_outcomes, [(*k, v) for k, v in self.outcomes.items()])


async def _run(conn: AsyncConnection, sql: str, **params: Any) -> None:
    await conn.execute(text(sql), params)


class AnnualFacts(Projection):
    """Scheme modes, sessions run and cancelled, leaders' sessions, appointments, training,
    awards and graduate outcomes: the facts of the annual report that the evaluation's tables do
    not hold."""

    name = "annual_facts"
    tables = (
        t.schemes,
        t.sessions,
        t.leader_sessions,
        t.appointments,
        t.stood_down,
        t.training,
        t.awards,
        t.graduate_outcomes,
    )
    handles = frozenset(
        {SCHEME_LAUNCHED, SCHEDULED, RESCHEDULED, CANCELLED, LEADER_SIGNED_IN, REVOKED, OUTCOMES}
        | RECRUITMENT_EVENTS
        | RECOGNITION_EVENTS
    )

    def rebuild(self) -> Rebuild:
        return _Annual()

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        b = _Annual()
        b.fold(events)
        if b.schemes:
            await _run(
                conn,
                """
                INSERT INTO annual_schemes (scheme_id, academic_year, code, mode)
                SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:years AS text[]),
                                     CAST(:codes AS text[]), CAST(:modes AS text[]))
                ON CONFLICT (scheme_id) DO UPDATE SET academic_year = excluded.academic_year,
                    code = excluded.code, mode = excluded.mode
                """,
                ids=list(b.schemes),
                years=[v[0] for v in b.schemes.values()],
                codes=[v[1] for v in b.schemes.values()],
                modes=[v[2] for v in b.schemes.values()],
            )
        if b.sessions:
            s = b.sessions
            # a (re)schedule sets the time and week; a cancellation is kept whatever follows
            await _run(
                conn,
                """
                INSERT INTO annual_sessions AS a
                    (session_id, scheme_id, starts_at, teaching_week, cancelled)
                SELECT id, scheme, starts, week, cancelled
                FROM unnest(CAST(:ids AS text[]), CAST(:schemes AS text[]),
                            CAST(:starts AS timestamptz[]), CAST(:weeks AS text[]),
                            CAST(:timed AS boolean[]), CAST(:cancelled AS boolean[]))
                     AS u(id, scheme, starts, week, timed, cancelled)
                ON CONFLICT (session_id) DO UPDATE SET
                    scheme_id = coalesce(excluded.scheme_id, a.scheme_id),
                    starts_at = coalesce(excluded.starts_at, a.starts_at),
                    teaching_week = CASE WHEN excluded.starts_at IS NOT NULL
                                         THEN excluded.teaching_week ELSE a.teaching_week END,
                    cancelled = a.cancelled OR excluded.cancelled
                """,
                ids=list(s),
                schemes=[v[0] for v in s.values()],
                starts=[v[1] for v in s.values()],
                weeks=[v[2] for v in s.values()],
                timed=[v[3] for v in s.values()],
                cancelled=[v[4] for v in s.values()],
            )
        present = [(k, v[0]) for k, v in b.leaders.items() if v[1]]
        absent = [k for k, v in b.leaders.items() if not v[1]]
        if present:
            await _run(
                conn,
                """
                INSERT INTO annual_leader_sessions (session_id, student_number, scheme_id)
                SELECT * FROM unnest(CAST(:sessions AS text[]), CAST(:students AS text[]),
                                     CAST(:schemes AS text[]))
                ON CONFLICT DO NOTHING
                """,
                sessions=[k[0] for k, _ in present],
                students=[k[1] for k, _ in present],
                schemes=[v for _, v in present],
            )
        if absent:
            await _run(
                conn,
                """
                DELETE FROM annual_leader_sessions a
                USING unnest(CAST(:sessions AS text[]), CAST(:students AS text[]))
                      AS k(session_id, student_number)
                WHERE a.session_id = k.session_id AND a.student_number = k.student_number
                """,
                sessions=[k[0] for k in absent],
                students=[k[1] for k in absent],
            )
        for key, schemes in b.appointments.items():
            await _run(
                conn,
                """
                INSERT INTO annual_appointments AS a
                    (academic_year, student_number, role, schemes)
                VALUES (:year, :student, :role, CAST(:schemes AS text[]))
                ON CONFLICT (academic_year, student_number, role) DO UPDATE SET
                    schemes = ARRAY(SELECT DISTINCT x
                                    FROM unnest(a.schemes || excluded.schemes) AS x ORDER BY x)
                """,
                year=key[0],
                student=key[1],
                role=key[2],
                schemes=sorted(schemes),
            )
        for table, keys in (("annual_stood_down", b.stood_down), ("annual_training", b.training)):
            if keys:
                await _run(
                    conn,
                    f"""
                    INSERT INTO {table} (academic_year, student_number)
                    SELECT * FROM unnest(CAST(:years AS text[]), CAST(:students AS text[]))
                    ON CONFLICT DO NOTHING
                    """,
                    years=[k[0] for k in keys],
                    students=[k[1] for k in keys],
                )
        if b.awards:
            await _run(
                conn,
                """
                INSERT INTO annual_awards (academic_year, student_number, kind, status)
                SELECT * FROM unnest(CAST(:years AS text[]), CAST(:students AS text[]),
                                     CAST(:kinds AS text[]), CAST(:statuses AS text[]))
                ON CONFLICT (academic_year, student_number, kind)
                DO UPDATE SET status = excluded.status
                """,
                years=[k[0] for k in b.awards],
                students=[k[1] for k in b.awards],
                kinds=[k[2] for k in b.awards],
                statuses=list(b.awards.values()),
            )
        if b.outcomes:
            await _run(
                conn,
                """
                INSERT INTO annual_graduate_outcomes (academic_year, student_number, outcome)
                SELECT * FROM unnest(CAST(:years AS text[]), CAST(:students AS text[]),
                                     CAST(:outcomes AS text[]))
                ON CONFLICT (academic_year, student_number)
                DO UPDATE SET outcome = excluded.outcome
                """,
                years=[k[0] for k in b.outcomes],
                students=[k[1] for k in b.outcomes],
                outcomes=list(b.outcomes.values()),
            )
