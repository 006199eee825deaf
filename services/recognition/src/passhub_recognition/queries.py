"""Reading the local log and the read models.

The facts behind a decision are read from the events themselves (our copies of the other
services' events, plus our own), not from a read model: the same fold that the given/when/then
tests exercise then decides live, and nothing can drift between them.

The read models answer the rest: awards as their documents show them (the award row with the
leader's name, the scheme titles and the policy version's wording), the activities, the
policy's versions, and what an award or activity belongs to.
"""

from __future__ import annotations

import hmac
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recognition import tables
from passhub_recognition.domain.awards import LeaderState, evolve, leader_stream
from passhub_recognition.domain.codes import code_hash
from passhub_recognition.domain.documents import AwardView
from passhub_recognition.domain.facts import LEADER_EVENTS, SESSION_EVENTS, SessionBook
from passhub_recognition.domain.policy import Policy, default_rules
from passhub_recognition.domain.policy_stream import PolicyState, policy_decider, policy_stream
from passhub_shared.contracts.attendance import LeaderSignedIn
from passhub_shared.contracts.recruitment import LeaderAppointed
from passhub_shared.contracts.sessions import SchemeLaunched
from passhub_shared.messages.events import Event, event_class
from passhub_shared.personaldata.personal import Privacy
from passhub_shared.storage.schema import events
from passhub_shared.storage.store import EventStore
from passhub_shared.web.errors import NotFound

SERVICE = "recognition"

_RECRUITMENT_TYPES = [t.type_name() for t in LEADER_EVENTS if t.service == "recruitment"]
_ATTENDANCE_TYPES = [t.type_name() for t in LEADER_EVENTS if t.service == "attendance"]
_SESSION_TYPES = [t.type_name() for t in SESSION_EVENTS if t is not SchemeLaunched]
#: every type the facts are folded from
FACT_TYPES = frozenset(
    [*_RECRUITMENT_TYPES, *_ATTENDANCE_TYPES, *_SESSION_TYPES, SchemeLaunched.type_name()]
)

_YEAR_PREFIX = re.compile(r"^(\d{4}-\d{2})-")


def _decode(type_name: str, data: dict[str, Any]) -> Event:
    return event_class(type_name).model_validate(data)


@dataclass
class YearLog:
    """A year's events, split for folding: the sessions once, each leader's apart."""

    year: str
    book: SessionBook = field(default_factory=SessionBook)
    foreign: dict[str, list[Event]] = field(default_factory=lambda: defaultdict(list))
    own: dict[str, list[Event]] = field(default_factory=lambda: defaultdict(list))

    def version(self, student_number: str) -> int:
        """How many events the leader's stream holds (the version to append at)."""
        return len(self.own.get(student_number, []))

    def state(self, student_number: str) -> LeaderState:
        state = LeaderState(book=self.book)
        for event in self.foreign.get(student_number, []):
            state.facts.apply(event)
        for event in self.own.get(student_number, []):
            state = evolve(state, event)
        return state

    def leaders(self) -> list[str]:
        """Everyone appointed in the year, in student number order."""
        return sorted(
            s for s, evs in self.foreign.items() if any(isinstance(e, LeaderAppointed) for e in evs)
        )


def _text(key: str) -> ColumnElement[str]:
    return events.c.data[key].astext


async def _opened(
    conn: AsyncConnection, privacy: Privacy | None, rows: Iterable[Any]
) -> list[tuple[str, dict[str, Any]]]:
    """(type, data) of rows read from the log, their sealed fields opened."""
    found = [{"type": r.type, "data": r.data} for r in rows]
    if privacy is not None:
        await privacy.open_rows(conn, found)
    return [(r["type"], r["data"]) for r in found]


async def _sealed(
    conn: AsyncConnection, privacy: Privacy | None, people: Collection[str]
) -> list[str]:
    """`people` as their student numbers are sealed in the log (tokens are deterministic), to
    find their events by equality."""
    if privacy is None:
        return list(people)
    found = [await privacy.sealed(conn, p) for p in people]
    return [t for t in found if t is not None]


async def load_year(
    conn: AsyncConnection,
    year: str,
    students: Collection[str] | None = None,
    privacy: Privacy | None = None,
) -> YearLog:
    """The events behind the decisions of `year`, for every leader or only `students`."""
    year_schemes = select(_text("scheme_id")).where(
        events.c.type == SchemeLaunched.type_name(), _text("academic_year") == year
    )
    in_year = or_(
        _text("scheme_id").in_(year_schemes.scalar_subquery()),
        func.starts_with(_text("scheme_id"), f"{year}-"),
    )
    recruitment = and_(events.c.type.in_(_RECRUITMENT_TYPES), _text("academic_year") == year)
    attendance = and_(events.c.type.in_(_ATTENDANCE_TYPES), in_year)
    sessions = and_(events.c.type.in_(_SESSION_TYPES), in_year)
    if students is not None:
        people = await _sealed(conn, privacy, students)
        recruitment = and_(recruitment, _text("student_number").in_(people))
        attendance = and_(attendance, _text("student_number").in_(people))
        their_sessions = select(_text("session_id")).where(
            events.c.type == LeaderSignedIn.type_name(), _text("student_number").in_(people)
        )
        sessions = and_(sessions, _text("session_id").in_(their_sessions.scalar_subquery()))
    launched = and_(events.c.type == SchemeLaunched.type_name(), _text("academic_year") == year)
    rows = await conn.execute(
        select(events.c.type, events.c.data)
        .where(
            events.c.origin != SERVICE,
            or_(recruitment, attendance, sessions, launched),
        )
        .order_by(events.c.position)
    )
    log = YearLog(year)
    for type_name, data in await _opened(conn, privacy, rows):
        event = _decode(type_name, data)
        if not log.book.apply(event):
            log.foreign[data["student_number"]].append(event)

    prefix = leader_stream(year, "")
    own = select(events.c.type, events.c.data).where(events.c.origin == SERVICE)
    if students is None:
        own = own.where(func.starts_with(events.c.stream_id, prefix))
    else:
        names = (
            {s: s for s in students}
            if privacy is None
            else await privacy.pseudonyms(conn, students)
        )
        own = own.where(events.c.stream_id.in_([leader_stream(year, n) for n in names.values()]))
    ordered = await conn.execute(own.order_by(events.c.stream_id, events.c.stream_version))
    for type_name, data in await _opened(conn, privacy, ordered):
        log.own[data["student_number"]].append(_decode(type_name, data))
    return log


async def policy_state(conn: AsyncConnection, store: EventStore, year: str) -> PolicyState:
    history = await store.load(conn, policy_stream(year))
    return policy_decider.fold(r.decode() for r in history)


async def scheme_year(conn: AsyncConnection, scheme_id: str) -> str | None:
    """The academic year of a scheme: from its launch, else from its id (`2026-27-PHYS`)."""
    launched = (
        await conn.execute(
            select(_text("academic_year"))
            .where(events.c.type == SchemeLaunched.type_name(), _text("scheme_id") == scheme_id)
            .order_by(events.c.position.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if launched:
        return str(launched)
    match = _YEAR_PREFIX.match(scheme_id)
    return match.group(1) if match else None


async def leaders_signed_in_at(
    conn: AsyncConnection, session_id: str, privacy: Privacy | None = None
) -> list[str]:
    rows = await conn.execute(
        select(events.c.type, events.c.data).where(
            events.c.type == LeaderSignedIn.type_name(), _text("session_id") == session_id
        )
    )
    return sorted({str(data["student_number"]) for _, data in await _opened(conn, privacy, rows)})


async def students_with_standing_awards(
    conn: AsyncConnection, year: str, students: Collection[str]
) -> set[str]:
    t = tables.awards
    rows = await conn.execute(
        select(t.c.student_number)
        .where(
            t.c.academic_year == year,
            t.c.status == "granted",
            t.c.student_number.in_(list(students)),
        )
        .distinct()
    )
    return {str(r[0]) for r in rows}


# --- awards as the documents show them -----------------------------------------------------


def _query() -> Select[Any]:
    a, p, pol = tables.awards, tables.people, tables.policies
    return select(a, p.c.name, pol.c.policy).select_from(
        a.outerjoin(
            p,
            and_(p.c.academic_year == a.c.academic_year, p.c.student_number == a.c.student_number),
        ).outerjoin(
            pol, and_(pol.c.academic_year == a.c.academic_year, pol.c.version == a.c.policy_version)
        )
    )


async def _views(conn: AsyncConnection, stmt: Select[Any]) -> list[AwardView]:
    rows = (await conn.execute(stmt)).all()
    scheme_ids = sorted({s for r in rows for s in r.schemes})
    titles: dict[str, str] = {}
    if scheme_ids:
        s = tables.schemes
        for row in await conn.execute(
            select(s.c.scheme_id, s.c.title).where(s.c.scheme_id.in_(scheme_ids))
        ):
            titles[row.scheme_id] = row.title
    out = []
    for r in rows:
        rules = (
            Policy.model_validate(r.policy).rules(r.kind)
            if r.policy is not None
            else default_rules(r.kind)
        )
        out.append(
            AwardView(
                award_id=r.award_id,
                kind=r.kind,
                academic_year=r.academic_year,
                student_number=r.student_number,
                name=r.name or r.student_number,
                role=r.role,
                scheme_ids=list(r.schemes),
                scheme_titles=[titles.get(s, s) for s in r.schemes],
                sessions_delivered=r.sessions_delivered,
                hours=r.hours,
                policy_version=r.policy_version,
                verification_code=r.verification_code,
                activity_start=r.activity_start,
                activity_end=r.activity_end,
                granted_at=r.granted_at,
                status=r.status,
                withdrawn_at=r.withdrawn_at,
                withdrawn_reason=r.withdrawn_reason,
                rules=rules,
                revised_at=r.revised_at,
                revised_reason=r.revised_reason,
            )
        )
    return out


async def award_by_id(conn: AsyncConnection, award_id: str) -> AwardView:
    found = await _views(conn, _query().where(tables.awards.c.award_id == award_id))
    if not found:
        raise NotFound(f"no award {award_id}")
    return found[0]


async def award_by_code(conn: AsyncConnection, code: str) -> AwardView | None:
    """The award a verification code belongs to. Looked up by the code's hash (an index
    probe, the same path for any input) and compared in constant time."""
    wanted = code_hash(code)
    found = await _views(conn, _query().where(tables.awards.c.code_hash == wanted))
    if not found or not hmac.compare_digest(code_hash(found[0].verification_code), wanted):
        return None
    return found[0]


async def awards_of_year(
    conn: AsyncConnection,
    year: str,
    kinds: Sequence[str] | None = None,
    status: str | None = None,
) -> list[AwardView]:
    a = tables.awards
    stmt = _query().where(a.c.academic_year == year)
    if kinds:
        stmt = stmt.where(a.c.kind.in_(list(kinds)))
    if status:
        stmt = stmt.where(a.c.status == status)
    views = await _views(conn, stmt.order_by(a.c.student_number, a.c.kind, a.c.granted_at))
    return sorted(views, key=lambda v: (v.name.casefold(), v.student_number, v.kind))


async def awards_of_student(conn: AsyncConnection, student_number: str) -> list[AwardView]:
    a = tables.awards
    return await _views(
        conn,
        _query()
        .where(a.c.student_number == student_number)
        .order_by(a.c.academic_year, a.c.kind, a.c.granted_at),
    )


# --- lookups for commands addressed by id ---------------------------------------------------


async def _owner(conn: AsyncConnection, table: Table, key: str, value: str) -> tuple[str, str]:
    row = (
        await conn.execute(
            select(table.c.academic_year, table.c.student_number).where(table.c[key] == value)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"no {key.removesuffix('_id')} {value}")
    return str(row.academic_year), str(row.student_number)


async def award_owner(conn: AsyncConnection, award_id: str) -> tuple[str, str]:
    """The academic year and student number of an award."""
    return await _owner(conn, tables.awards, "award_id", award_id)


async def activity_owner(conn: AsyncConnection, activity_id: str) -> tuple[str, str]:
    """The academic year and student number of an activity."""
    return await _owner(conn, tables.activities, "activity_id", activity_id)


async def standing_awards_of(
    conn: AsyncConnection, people: Collection[str]
) -> list[tuple[str, str, str]]:
    """(award id, academic year, student number) of the people's awards that stand."""
    t = tables.awards
    rows = await conn.execute(
        select(t.c.award_id, t.c.academic_year, t.c.student_number)
        .where(t.c.student_number.in_(list(people)), t.c.status != "withdrawn")
        .order_by(t.c.academic_year, t.c.award_id)
    )
    return [(str(a), str(y), str(s)) for a, y, s in rows.all()]


# --- listings -------------------------------------------------------------------------------


async def activities(
    conn: AsyncConnection, year: str, student_number: str | None = None
) -> list[dict[str, Any]]:
    """The activities recorded in `year` (of one leader, or everyone's)."""
    t = tables.activities
    stmt = select(t).where(t.c.academic_year == year)
    if student_number:
        stmt = stmt.where(t.c.student_number == student_number)
    rows = await conn.execute(stmt.order_by(t.c.student_number, t.c.held_on, t.c.activity_id))
    return [dict(r._mapping) for r in rows]


async def policy_versions(conn: AsyncConnection, year: str) -> list[dict[str, Any]]:
    """Every version of `year`'s policy, oldest first."""
    t = tables.policies
    rows = await conn.execute(
        select(t.c.version, t.c.set_at, t.c.set_by, t.c.policy)
        .where(t.c.academic_year == year)
        .order_by(t.c.version)
    )
    return [dict(r._mapping) for r in rows]


# --- the jobs: awards runs and certificate batches ---------------------------------------------
# Not read models: each job writes its own row as it goes (`handlers`, `jobs.py`).

#: a job's states; queued and running are "under way" (one of each kind per year at a time)
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
UNDER_WAY = (QUEUED, RUNNING)


async def award_run(conn: AsyncConnection, run_id: str, *, lock: bool = False) -> dict[str, Any]:
    stmt = select(tables.award_runs).where(tables.award_runs.c.run_id == run_id)
    row = (await conn.execute(stmt.with_for_update() if lock else stmt)).mappings().first()
    if row is None:
        raise NotFound(f"no awards run {run_id}")
    return dict(row)


async def award_runs_of_year(conn: AsyncConnection, year: str) -> list[dict[str, Any]]:
    """The year's runs, the latest first."""
    r = tables.award_runs
    rows = await conn.execute(
        select(r).where(r.c.academic_year == year).order_by(r.c.requested_at.desc(), r.c.run_id)
    )
    return [dict(row) for row in rows.mappings()]


async def run_under_way(conn: AsyncConnection, year: str) -> str | None:
    r = tables.award_runs
    return await conn.scalar(
        select(r.c.run_id).where(r.c.academic_year == year, r.c.state.in_(UNDER_WAY))
    )


async def runs_under_way(conn: AsyncConnection) -> list[str]:
    r = tables.award_runs
    rows = await conn.execute(
        select(r.c.run_id).where(r.c.state.in_(UNDER_WAY)).order_by(r.c.requested_at)
    )
    return list(rows.scalars())


async def certificate_batch(
    conn: AsyncConnection, batch_id: str, *, pdf: bool = False
) -> dict[str, Any]:
    b = tables.certificate_batches
    columns = [c for c in b.c if pdf or c.name != "pdf"]
    row = (await conn.execute(select(*columns).where(b.c.batch_id == batch_id))).mappings().first()
    if row is None:
        raise NotFound(f"no certificate batch {batch_id}")
    return dict(row)


async def certificate_batches_of_year(conn: AsyncConnection, year: str) -> list[dict[str, Any]]:
    """The year's batches (without their PDFs), the latest first."""
    b = tables.certificate_batches
    rows = await conn.execute(
        select(*[c for c in b.c if c.name != "pdf"])
        .where(b.c.academic_year == year)
        .order_by(b.c.requested_at.desc(), b.c.batch_id)
    )
    return [dict(row) for row in rows.mappings()]


async def batch_under_way(conn: AsyncConnection, year: str) -> str | None:
    b = tables.certificate_batches
    return await conn.scalar(
        select(b.c.batch_id).where(b.c.academic_year == year, b.c.state.in_(UNDER_WAY))
    )


async def batches_under_way(conn: AsyncConnection) -> list[str]:
    b = tables.certificate_batches
    rows = await conn.execute(
        select(b.c.batch_id).where(b.c.state.in_(UNDER_WAY)).order_by(b.c.requested_at)
    )
    return list(rows.scalars())
