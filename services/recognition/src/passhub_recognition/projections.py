"""Read models, updated inline with the events and rebuilt by `passhub replay recognition`.

Award, policy and activity rows are written by events of one stream each (a leader's or a
year's policy stream). Names and scheme titles come from other services' events that may sit on
several of their streams, so those rows keep the position of the event they show and an update
only lands when it is newer: the result does not depend on the order the updates arrive in.

Each projection reads the rows its batch touches (`load_rows`), folds the batch into them in
memory, one method per event type (`Dispatch`), and writes them back in one statement
(`upsert`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recognition import tables
from passhub_recognition.domain.codes import code_hash
from passhub_recognition.domain.events import ActivityRecorded, ActivityStruck, PolicySet
from passhub_shared.contracts.recognition import AwardGranted, AwardRevised, AwardWithdrawn
from passhub_shared.contracts.recruitment import LeaderAppointed
from passhub_shared.contracts.sessions import SchemeLaunched
from passhub_shared.messages.events import Event, Recorded
from passhub_shared.storage.projections import Dispatch, Projection, load_rows, on, upsert

Row = dict[str, Any]
Rows = dict[tuple[Any, ...], Row]


def _keys(
    events: Sequence[Recorded], types: Sequence[type[Event]], key: str
) -> list[tuple[Any, ...]]:
    """The keys (`data[key]`) of the rows that events of `types` change after they were made."""
    names = {t.type_name() for t in types}
    return [(e.data[key],) for e in events if e.type in names]


class AwardsProjection(Dispatch):
    name = "awards"
    tables = (tables.awards,)

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        t = tables.awards
        rows = await load_rows(conn, t, _keys(events, [AwardWithdrawn, AwardRevised], "award_id"))
        self.dispatch(rows, events)
        await upsert(conn, t, list(rows.values()))

    @on(AwardGranted)
    def granted(self, rows: Rows, recorded: Recorded, g: AwardGranted) -> None:
        rows[(g.award_id,)] = {
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
            "granted_at": recorded.occurred_at,
            "status": "granted",
            "withdrawn_reason": None,
            "withdrawn_at": None,
            "revised_at": None,
            "revised_reason": None,
        }

    @on(AwardWithdrawn)
    def withdrawn(self, rows: Rows, recorded: Recorded, w: AwardWithdrawn) -> None:
        if (row := rows.get((w.award_id,))) is not None:
            row.update(
                status="withdrawn", withdrawn_reason=w.reason, withdrawn_at=recorded.occurred_at
            )

    @on(AwardRevised)
    def revised(self, rows: Rows, recorded: Recorded, r: AwardRevised) -> None:
        # a revision and a withdrawal set different columns, so their order does not matter
        if (row := rows.get((r.award_id,))) is not None:
            row.update(
                schemes=r.schemes,
                sessions_delivered=r.sessions_delivered,
                hours=r.hours,
                activity_start=r.activity_start,
                activity_end=r.activity_end,
                revised_at=recorded.occurred_at,
                revised_reason=r.reason,
            )


class PoliciesProjection(Dispatch):
    name = "policies"
    tables = (tables.policies,)

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        rows: Rows = {}
        self.dispatch(rows, events)
        await upsert(conn, tables.policies, list(rows.values()))

    @on(PolicySet)
    def policy_set(self, rows: Rows, recorded: Recorded, p: PolicySet) -> None:
        rows[(p.academic_year, p.version)] = {
            "academic_year": p.academic_year,
            "version": p.version,
            "policy": p.policy.model_dump(mode="json"),
            "set_at": recorded.occurred_at,
            "set_by": recorded.actor,
        }


class ActivitiesProjection(Dispatch):
    name = "activities"
    tables = (tables.activities,)

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        t = tables.activities
        rows = await load_rows(conn, t, _keys(events, [ActivityStruck], "activity_id"))
        self.dispatch(rows, events)
        await upsert(conn, t, list(rows.values()))

    @on(ActivityRecorded)
    def recorded(self, rows: Rows, recorded: Recorded, a: ActivityRecorded) -> None:
        rows[(a.activity_id,)] = {
            "activity_id": a.activity_id,
            "academic_year": a.academic_year,
            "student_number": a.student_number,
            "kind": a.kind,
            "held_on": a.held_on,
            "hours": a.hours,
            "note": a.note,
            "recorded_by": recorded.actor,
            "struck": False,
            "struck_reason": None,
        }

    @on(ActivityStruck)
    def struck(self, rows: Rows, recorded: Recorded, s: ActivityStruck) -> None:
        if (row := rows.get((s.activity_id,))) is not None:
            row.update(struck=True, struck_reason=s.reason)


@dataclass
class Directory:
    people: Rows = field(default_factory=dict)
    schemes: Rows = field(default_factory=dict)


def _newer(rows: Rows, key: tuple[Any, ...], recorded: Recorded) -> bool:
    """Whether `recorded` is newer than what the row shows (or there is no row)."""
    row = rows.get(key)
    return row is None or row["position"] < recorded.position


class DirectoryProjection(Dispatch):
    """Names of leaders and titles of schemes, as the other services last told us."""

    name = "directory"
    tables = (tables.people, tables.schemes)

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        appointed, launched = LeaderAppointed.type_name(), SchemeLaunched.type_name()
        directory = Directory(
            people=await load_rows(
                conn,
                tables.people,
                (
                    (a.academic_year, a.student_number)
                    for e in events
                    if e.type == appointed and isinstance(a := e.decode(), LeaderAppointed)
                ),
            ),
            schemes=await load_rows(
                conn, tables.schemes, ((e.data["scheme_id"],) for e in events if e.type == launched)
            ),
        )
        self.dispatch(directory, events)
        await upsert(conn, tables.people, list(directory.people.values()))
        await upsert(conn, tables.schemes, list(directory.schemes.values()))

    @on(LeaderAppointed)
    def appointed(self, directory: Directory, recorded: Recorded, a: LeaderAppointed) -> None:
        key = (a.academic_year, a.student_number)
        if _newer(directory.people, key, recorded):
            directory.people[key] = {
                "academic_year": a.academic_year,
                "student_number": a.student_number,
                "name": a.name,
                "position": recorded.position,
            }

    @on(SchemeLaunched)
    def launched(self, directory: Directory, recorded: Recorded, s: SchemeLaunched) -> None:
        key = (s.scheme_id,)
        if _newer(directory.schemes, key, recorded):
            directory.schemes[key] = {
                "scheme_id": s.scheme_id,
                "code": s.code,
                "title": s.title,
                "school": s.school,
                "academic_year": s.academic_year,
                "position": recorded.position,
            }


PROJECTIONS: list[Projection] = [
    AwardsProjection(),
    PoliciesProjection(),
    ActivitiesProjection(),
    DirectoryProjection(),
]
