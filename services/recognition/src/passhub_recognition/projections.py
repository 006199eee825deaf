"""Read models, updated inline with the events and rebuilt by `passhub replay recognition`.

Award, policy and activity rows are written by events of one stream each (a leader's or a
year's policy stream). Names and scheme titles come from other services' events that may sit on
several of their streams, so those rows keep the position of the event they show and an update
only lands when it is newer: the result does not depend on the order the updates arrive in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recognition import tables
from passhub_recognition.domain.codes import code_hash
from passhub_recognition.domain.events import ActivityRecorded, ActivityStruck, PolicySet
from passhub_shared.contracts.recognition import AwardGranted, AwardRevised, AwardWithdrawn
from passhub_shared.contracts.recruitment import LeaderAppointed
from passhub_shared.contracts.sessions import SchemeLaunched
from passhub_shared.events import Recorded
from passhub_shared.projections import Projection


class AwardsProjection(Projection):
    name = "awards"
    tables = (tables.awards,)
    handles = frozenset(
        {AwardGranted.type_name(), AwardWithdrawn.type_name(), AwardRevised.type_name()}
    )

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        granted: dict[str, dict[str, Any]] = {}
        withdrawn: dict[str, dict[str, Any]] = {}
        revised: dict[str, dict[str, Any]] = {}
        for event in events:
            if event.type == AwardRevised.type_name():
                r = event.as_(AwardRevised)
                figures = {
                    "schemes": r.schemes,
                    "sessions_delivered": r.sessions_delivered,
                    "hours": r.hours,
                    "activity_start": r.activity_start,
                    "activity_end": r.activity_end,
                    "revised_at": event.occurred_at,
                    "revised_reason": r.reason,
                }
                if r.award_id in granted:
                    granted[r.award_id].update(figures)
                else:
                    revised[r.award_id] = {"key": r.award_id, **figures}
            elif event.type == AwardGranted.type_name():
                g = event.as_(AwardGranted)
                granted[g.award_id] = {
                    "award_id": g.award_id,
                    "kind": g.kind,
                    "academic_year": g.academic_year,
                    "student_number": g.student_number,
                    "role": g.role,
                    "schemes": g.schemes,
                    "sessions_delivered": g.sessions_delivered,
                    "hours": g.hours,
                    "policy_version": g.policy_version,
                    "verification_code": g.verification_code,
                    "code_hash": code_hash(g.verification_code),
                    "activity_start": g.activity_start,
                    "activity_end": g.activity_end,
                    "granted_at": event.occurred_at,
                    "status": "granted",
                    "withdrawn_reason": None,
                    "withdrawn_at": None,
                    "revised_at": None,
                    "revised_reason": None,
                }
            else:
                w = event.as_(AwardWithdrawn)
                change = {
                    "status": "withdrawn",
                    "withdrawn_reason": w.reason,
                    "withdrawn_at": event.occurred_at,
                }
                if w.award_id in granted:
                    granted[w.award_id].update(change)
                else:
                    withdrawn[w.award_id] = {"key": w.award_id, **change}
        if granted:
            await conn.execute(pg_insert(tables.awards), list(granted.values()))
        if withdrawn:
            t = tables.awards
            # the SET clause comes from the parameters named like columns
            await conn.execute(
                update(t).where(t.c.award_id == bindparam("key")), list(withdrawn.values())
            )
        if revised:
            # a revision and a withdrawal set different columns, so their order does not matter
            t = tables.awards
            await conn.execute(
                update(t).where(t.c.award_id == bindparam("key")), list(revised.values())
            )


class PoliciesProjection(Projection):
    name = "policies"
    tables = (tables.policies,)
    handles = frozenset({PolicySet.type_name()})

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        rows = []
        for event in events:
            p = event.as_(PolicySet)
            rows.append(
                {
                    "academic_year": p.academic_year,
                    "version": p.version,
                    "policy": p.policy.model_dump(mode="json"),
                    "set_at": event.occurred_at,
                    "set_by": event.actor,
                }
            )
        await conn.execute(pg_insert(tables.policies), rows)


class ActivitiesProjection(Projection):
    name = "activities"
    tables = (tables.activities,)
    handles = frozenset({ActivityRecorded.type_name(), ActivityStruck.type_name()})

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        recorded: dict[str, dict[str, Any]] = {}
        struck: dict[str, dict[str, Any]] = {}
        for event in events:
            if event.type == ActivityRecorded.type_name():
                a = event.as_(ActivityRecorded)
                recorded[a.activity_id] = {
                    "activity_id": a.activity_id,
                    "academic_year": a.academic_year,
                    "student_number": a.student_number,
                    "kind": a.kind,
                    "held_on": a.held_on,
                    "hours": a.hours,
                    "note": a.note,
                    "recorded_by": event.actor,
                    "struck": False,
                    "struck_reason": None,
                }
            else:
                s = event.as_(ActivityStruck)
                if s.activity_id in recorded:
                    recorded[s.activity_id].update(struck=True, struck_reason=s.reason)
                else:
                    struck[s.activity_id] = {
                        "key": s.activity_id,
                        "struck": True,
                        "struck_reason": s.reason,
                    }
        if recorded:
            await conn.execute(pg_insert(tables.activities), list(recorded.values()))
        if struck:
            t = tables.activities
            await conn.execute(
                update(t).where(t.c.activity_id == bindparam("key")), list(struck.values())
            )


class DirectoryProjection(Projection):
    """Names of leaders and titles of schemes, as the other services last told us."""

    name = "directory"
    tables = (tables.people, tables.schemes)
    handles = frozenset({LeaderAppointed.type_name(), SchemeLaunched.type_name()})

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        people: dict[tuple[str, str], dict[str, Any]] = {}
        schemes: dict[str, dict[str, Any]] = {}
        for event in events:
            if event.type == LeaderAppointed.type_name():
                a = event.as_(LeaderAppointed)
                key = (a.academic_year, a.student_number)
                if key not in people or people[key]["position"] < event.position:
                    people[key] = {
                        "academic_year": a.academic_year,
                        "student_number": a.student_number,
                        "name": a.name,
                        "position": event.position,
                    }
            else:
                s = event.as_(SchemeLaunched)
                if s.scheme_id not in schemes or schemes[s.scheme_id]["position"] < event.position:
                    schemes[s.scheme_id] = {
                        "scheme_id": s.scheme_id,
                        "code": s.code,
                        "title": s.title,
                        "school": s.school,
                        "academic_year": s.academic_year,
                        "position": event.position,
                    }
        if people:
            t = tables.people
            stmt = pg_insert(t)
            stmt = stmt.on_conflict_do_update(
                index_elements=[t.c.academic_year, t.c.student_number],
                set_={"name": stmt.excluded.name, "position": stmt.excluded.position},
                where=t.c.position < stmt.excluded.position,
            )
            await conn.execute(stmt, list(people.values()))
        if schemes:
            s_t = tables.schemes
            s_stmt = pg_insert(s_t)
            s_stmt = s_stmt.on_conflict_do_update(
                index_elements=[s_t.c.scheme_id],
                set_={
                    c: s_stmt.excluded[c]
                    for c in ("code", "title", "school", "academic_year", "position")
                },
                where=s_t.c.position < s_stmt.excluded.position,
            )
            await conn.execute(s_stmt, list(schemes.values()))


PROJECTIONS: list[Projection] = [
    AwardsProjection(),
    PoliciesProjection(),
    ActivitiesProjection(),
    DirectoryProjection(),
]
