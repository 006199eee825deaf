"""Awards as the documents show them: the award row, the leader's name, the scheme titles and
the policy version's wording, read together."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recognition import tables
from passhub_recognition.domain.codes import code_hash
from passhub_recognition.domain.policy import AwardRules, Policy, default_rules
from passhub_recognition.domain.wording import (
    KIND_TITLES,
    Fill,
    activity_title,
    criteria_narrative,
    description,
)
from passhub_shared.contracts.recognition import AwardKind
from passhub_shared.errors import NotFound


@dataclass(frozen=True)
class AwardView:
    award_id: str
    kind: AwardKind
    academic_year: str
    student_number: str
    name: str
    role: str
    scheme_ids: list[str]
    scheme_titles: list[str]
    sessions_delivered: int
    hours: float
    policy_version: int
    verification_code: str
    activity_start: date | None
    activity_end: date | None
    granted_at: datetime
    status: str
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    rules: AwardRules
    #: when a correction last re-issued the award with new figures, and why
    revised_at: datetime | None = None
    revised_reason: str | None = None

    @property
    def kind_title(self) -> str:
        return KIND_TITLES[self.kind]

    @property
    def standing(self) -> bool:
        return self.status == "granted"

    @property
    def fill(self) -> Fill:
        return Fill(
            role=self.role,
            schemes=self.scheme_titles,
            year=self.academic_year,
            sessions=self.sessions_delivered,
            hours=self.hours,
        )

    @property
    def activity_title(self) -> str:
        return activity_title(self.rules, self.fill)

    @property
    def description(self) -> str:
        return description(self.rules, self.fill)

    @property
    def criteria(self) -> str:
        return criteria_narrative(self.rules, self.role)


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
