"""Projections: the read models, folded from the log a batch at a time.

Each batch loads the rows its events touch, folds the events into them in memory, and writes
them back with one upsert per table. Every row is written by the events of one stream only:
a campaign by its campaign stream, a student record and an import by the single
`student-records` stream, an application and its appointments by the application's stream,
a training session and its completions by the session's stream. So a replay in log order
rebuilds exactly the live tables. Schemes come from the sessions service's `scheme_launched`
and `scheme_amended` (consumed, both of the scheme's stream there); a row keeps the position of
the event it shows and only a later one changes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recruitment.domain.eligibility import SYSTEM
from passhub_recruitment.domain.events import (
    ApplicationDetailsDeclared,
    CampaignAmended,
    CampaignClosed,
    StandDownReasonGiven,
    StudentRecordsImported,
    TrainingSessionRecorded,
)
from passhub_recruitment.tables import (
    applications,
    appointments,
    campaigns,
    record_imports,
    schemes,
    student_records,
    training_completions,
    training_sessions,
)
from passhub_shared.contracts.recruitment import (
    ApplicationAssessed,
    ApplicationRejected,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CampaignOpened,
    LeaderAppointed,
    LeaderStoodDown,
    TrainingCompleted,
)
from passhub_shared.contracts.sessions import SchemeAmended, SchemeLaunched
from passhub_shared.messages.events import Recorded
from passhub_shared.storage.projections import Dispatch, Projection, load_rows, on, upsert

Row = dict[str, Any]
Rows = dict[tuple[Any, ...], Row]


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def application_key(event: Recorded) -> str:
    return event.stream_id.removeprefix("application-")


class CampaignsProjection(Dispatch):
    name = "campaigns"
    tables = (campaigns,)

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        rows = await load_rows(conn, campaigns, [(e.data["campaign_id"],) for e in events])
        self.dispatch(rows, events)
        await upsert(conn, campaigns, rows.values())

    @on(CampaignOpened)
    def opened(self, rows: Rows, e: Recorded, _: CampaignOpened) -> None:
        d = e.data
        rows[(d["campaign_id"],)] = {
            "campaign_id": d["campaign_id"],
            "academic_year": d["academic_year"],
            "leader_title": d["leader_title"],
            "organiser_title": d.get("organiser_title") or "",
            "participating_schools": d["participating_schools"],
            "criteria": d["criteria"],
            "min_exam_mark": Decimal(str(d["min_exam_mark"])),
            "core_training_hours": Decimal(str(d.get("core_training_hours") or 0)),
            "closes_on": _day(d.get("closes_on")),
            "status": "open",
            "opened_at": e.occurred_at,
            "closed_on": None,
        }

    @on(CampaignClosed)
    def closed(self, rows: Rows, e: Recorded, _: CampaignClosed) -> None:
        key = (e.data["campaign_id"],)
        if key in rows:
            rows[key] = {**rows[key], "status": "closed", "closed_on": _day(e.data["closed_on"])}

    @on(CampaignAmended)
    def amended(self, rows: Rows, e: Recorded, _: CampaignAmended) -> None:
        key = (e.data["campaign_id"],)
        if key in rows:
            d = e.data
            rows[key] = {
                **rows[key],
                "participating_schools": d["participating_schools"],
                "criteria": d["criteria"],
                "min_exam_mark": Decimal(str(d["min_exam_mark"])),
                "core_training_hours": Decimal(str(d["core_training_hours"])),
                "closes_on": _day(d.get("closes_on")),
            }


class StudentRecordsProjection(Projection):
    name = "student_records"
    tables = (student_records, record_imports)
    handles = frozenset({StudentRecordsImported.type_name()})

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        records: dict[str, Row] = {}
        imports: list[Row] = []
        for e in events:
            d = e.data
            if d["chunk"] == 1:
                imports.append(
                    {
                        "import_id": d["import_id"],
                        "source": d["source"],
                        "rows": d["total_rows"],
                        "imported_at": e.occurred_at,
                        "imported_by": e.actor,
                        "position": e.position,
                    }
                )
            for r in d["records"]:
                records[r["student_number"]] = {
                    "student_number": r["student_number"],
                    "name": r["name"],
                    "email": r["email"],
                    "school": r["school"],
                    "programme": r["programme"],
                    "level": r["level"],
                    "year_of_study": r["year_of_study"],
                    "marks": r["marks"],
                    "import_id": d["import_id"],
                    "line": r["line"],
                }
        await upsert(conn, record_imports, imports)
        await upsert(conn, student_records, records.values())


def _assessment_columns(d: dict[str, Any]) -> Row:
    outcomes = d["outcomes"]
    by_code = {o["code"]: o for o in outcomes}
    flagged = any(
        by_code.get(m["criterion"], {}).get("assessed_by", SYSTEM) == SYSTEM
        for m in d.get("mismatches", [])
    )
    return {
        "outcomes": outcomes,
        "mismatches": d.get("mismatches", []),
        "essentials_met": d["essentials_met"],
        "essentials_total": d["essentials_total"],
        "desirables_met": d["desirables_met"],
        "desirables_total": len(outcomes) - d["essentials_total"],
        "pending": sum(1 for o in outcomes if o["met"] is None),
        "unverified": sum(1 for o in outcomes if o["met"] is not None and not o["verified"]),
        "appointable": d["appointable"],
        "flagged": flagged,
    }


def _changed(rows: Rows, e: Recorded, **changes: Any) -> None:
    """The application's row with these columns changed, as of the event."""
    key = (application_key(e),)
    rows[key] = {**rows[key], **changes, "updated_at": e.occurred_at}


class ApplicationsProjection(Dispatch):
    name = "applications"
    tables = (applications,)

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        rows = await load_rows(conn, applications, [(application_key(e),) for e in events])
        self.dispatch(rows, events)
        await upsert(conn, applications, rows.values())

    @on(ApplicationSubmitted)
    def submitted(self, rows: Rows, e: Recorded, _: ApplicationSubmitted) -> None:
        d = e.data
        rows[(application_key(e),)] = {
            "application_id": d["application_id"],
            "campaign_id": d["campaign_id"],
            "academic_year": d["academic_year"],
            "student_number": d["student_number"],
            "name": d["name"],
            "email": d["email"],
            "school": d["school"],
            "role_sought": d["role_sought"],
            "preferred_schemes": d["preferred_schemes"],
            "declared": {},
            "status": "submitted",
            "submitted_at": e.occurred_at,
            "submitted_position": e.position,
            "outcomes": [],
            "mismatches": [],
            "essentials_met": 0,
            "essentials_total": 0,
            "desirables_met": 0,
            "desirables_total": 0,
            "pending": 0,
            "unverified": 0,
            "appointable": False,
            "flagged": False,
            "rejection_reasons": [],
            "schemes": {},
            "updated_at": e.occurred_at,
        }

    @on(ApplicationDetailsDeclared)
    def declared(self, rows: Rows, e: Recorded, _: ApplicationDetailsDeclared) -> None:
        declared = {k: v for k, v in e.data.items() if k != "application_id"}
        _changed(rows, e, declared=declared)

    @on(ApplicationAssessed)
    def assessed(self, rows: Rows, e: Recorded, _: ApplicationAssessed) -> None:
        _changed(rows, e, **_assessment_columns(e.data))

    @on(ApplicationRejected)
    def rejected(self, rows: Rows, e: Recorded, _: ApplicationRejected) -> None:
        _changed(rows, e, status="rejected", rejection_reasons=e.data["reasons"], appointable=False)

    @on(ApplicationWithdrawn)
    def withdrawn(self, rows: Rows, e: Recorded, _: ApplicationWithdrawn) -> None:
        _changed(rows, e, status="withdrawn")

    @on(LeaderAppointed)
    def appointed(self, rows: Rows, e: Recorded, _: LeaderAppointed) -> None:
        d = e.data
        held = dict(rows[(application_key(e),)]["schemes"])
        for scheme in d["schemes"]:
            held[scheme] = {"role": d["role"], "appointed_on": d["appointed_on"]}
        _changed(rows, e, status="appointed", schemes=held)

    @on(LeaderStoodDown)
    def stood_down(self, rows: Rows, e: Recorded, _: LeaderStoodDown) -> None:
        schemes = rows[(application_key(e),)]["schemes"]
        held = {s: h for s, h in schemes.items() if s not in e.data["schemes"]}
        _changed(rows, e, status="appointed" if held else "stood_down", schemes=held)


class AppointmentsProjection(Dispatch):
    name = "appointments"
    tables = (appointments,)

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        keys = [(s, e.data["student_number"]) for e in events for s in e.data["schemes"]]
        rows = await load_rows(conn, appointments, keys)
        self.dispatch(rows, events)
        await upsert(conn, appointments, rows.values())

    @on(LeaderAppointed)
    def appointed(self, rows: Rows, e: Recorded, _: LeaderAppointed) -> None:
        d = e.data
        for scheme in d["schemes"]:
            rows[(scheme, d["student_number"])] = {
                "scheme_id": scheme,
                "student_number": d["student_number"],
                "academic_year": d["academic_year"],
                "application_id": d.get("application_id") or application_key(e),
                "role": d["role"],
                "name": d["name"],
                "email": d["email"],
                "appointed_on": _day(d["appointed_on"]),
                "stood_down_from": None,
                "stand_down_reason": None,
            }

    @on(LeaderStoodDown)
    def stood_down(self, rows: Rows, e: Recorded, _: LeaderStoodDown) -> None:
        d = e.data
        self._held(
            rows,
            e,
            stood_down_from=_day(d["effective_from"]),
            # events from before the reason was kept apart carry it
            stand_down_reason=d.get("reason") or None,
        )

    @on(StandDownReasonGiven)
    def reason_given(self, rows: Rows, e: Recorded, _: StandDownReasonGiven) -> None:
        self._held(rows, e, stand_down_reason=e.data["reason"])

    @staticmethod
    def _held(rows: Rows, e: Recorded, **changes: Any) -> None:
        """The appointments the event names (those held) with these columns changed."""
        for scheme in e.data["schemes"]:
            key = (scheme, e.data["student_number"])
            if key in rows:
                rows[key] = {**rows[key], **changes}


@dataclass
class _Training:
    sessions: Rows
    completions: list[Row] = field(default_factory=list)


class TrainingProjection(Dispatch):
    name = "training"
    tables = (training_sessions, training_completions)

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        sessions = await load_rows(
            conn, training_sessions, [(e.data["training_id"],) for e in events]
        )
        state = _Training(sessions)
        self.dispatch(state, events)
        await upsert(conn, training_sessions, state.sessions.values())
        await upsert(conn, training_completions, state.completions)

    @on(TrainingSessionRecorded)
    def recorded(self, state: _Training, e: Recorded, _: TrainingSessionRecorded) -> None:
        d = e.data
        state.sessions[(d["training_id"],)] = {
            "training_id": d["training_id"],
            "academic_year": d["academic_year"],
            "title": d["title"],
            "held_on": _day(d["held_on"]),
            "hours": Decimal(str(d["hours"])),
            "core": d["core"],
            "completions": 0,
        }

    @on(TrainingCompleted)
    def completed(self, state: _Training, e: Recorded, _: TrainingCompleted) -> None:
        d = e.data
        key = (d["training_id"],)
        session = state.sessions[key]
        state.sessions[key] = {**session, "completions": session["completions"] + 1}
        state.completions.append(
            {
                "training_id": d["training_id"],
                "student_number": d["student_number"],
                "academic_year": d["academic_year"],
                "hours": Decimal(str(d["hours"])),
                "core": session["core"],
                "completed_on": _day(d["completed_on"]),
            }
        )


class SchemesProjection(Dispatch):
    """The schemes launched in the sessions service and who organises them (consumed
    `scheme_launched` and `scheme_amended`). A row keeps the position of the event it shows:
    a launch published again replaces it only if it came later."""

    name = "schemes"
    tables = (schemes,)

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        rows = await load_rows(conn, schemes, [(e.data["scheme_id"],) for e in events])
        self.dispatch(rows, events)
        await upsert(conn, schemes, rows.values())

    @on(SchemeLaunched)
    def launched(self, rows: Rows, e: Recorded, event: SchemeLaunched) -> None:
        key = (event.scheme_id,)
        if key in rows and rows[key]["position"] >= e.position:
            return
        rows[key] = {
            "scheme_id": event.scheme_id,
            "academic_year": event.academic_year,
            "code": event.code,
            "title": event.title,
            "school": event.school,
            "organisers": list(event.organisers),
            "position": e.position,
        }

    @on(SchemeAmended)
    def amended(self, rows: Rows, e: Recorded, event: SchemeAmended) -> None:
        key = (event.scheme_id,)
        if key in rows and rows[key]["position"] < e.position:
            rows[key] = {**rows[key], "organisers": list(event.organisers), "position": e.position}


PROJECTIONS: list[Projection] = [
    CampaignsProjection(),
    StudentRecordsProjection(),
    ApplicationsProjection(),
    AppointmentsProjection(),
    TrainingProjection(),
    SchemesProjection(),
]
