"""Reads of the read models, shaped for the API."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Row, Text, and_, any_, func, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recruitment.api.schemas import (
    ApplicationSummary,
    ApplicationView,
    Appointment,
    CampaignView,
    CriterionResult,
    LeaderView,
    RecordImportView,
    ShortlistEntry,
    StudentRecordView,
    TrainingDone,
    TrainingSessionView,
    TrainingStanding,
    TrainingSummary,
)
from passhub_recruitment.domain.events import StudentRecordRow
from passhub_recruitment.domain.records import StudentRecord, record_from_row
from passhub_recruitment.domain.shortlist import Candidate, rank
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
from passhub_shared.contracts.recruitment import Criterion, RecordMismatch, RecordOverride
from passhub_shared.web.errors import NotFound

#: statuses still in the running (on the shortlist)
OPEN_STATUSES = ("submitted",)


async def _row(conn: AsyncConnection, key: Column[Any], value: str) -> Row[Any] | None:
    """The row of `key`'s table whose primary key `key` is `value`, or None."""
    return (await conn.execute(select(key.table).where(key == value))).one_or_none()


def _campaign_view(row: Any) -> CampaignView:
    return CampaignView(
        campaign_id=row.campaign_id,
        academic_year=row.academic_year,
        leader_title=row.leader_title,
        organiser_title=row.organiser_title,
        participating_schools=row.participating_schools,
        criteria=[Criterion.model_validate(c) for c in row.criteria],
        min_exam_mark=row.min_exam_mark,
        core_training_hours=row.core_training_hours,
        closes_on=row.closes_on,
        status=row.status,
        opened_at=row.opened_at,
        closed_on=row.closed_on,
    )


async def list_campaigns(conn: AsyncConnection) -> list[CampaignView]:
    rows = await conn.execute(select(campaigns).order_by(campaigns.c.academic_year.desc()))
    return [_campaign_view(r) for r in rows]


async def get_campaign(conn: AsyncConnection, campaign_id: str) -> CampaignView:
    row = await _row(conn, campaigns.c.campaign_id, campaign_id)
    if row is None:
        raise NotFound(f"no campaign {campaign_id!r}")
    return _campaign_view(row)


def _summary(row: Any) -> ApplicationSummary:
    return ApplicationSummary.model_validate(dict(row._mapping))


async def list_applications(
    conn: AsyncConnection,
    campaign_id: str,
    status: str | None = None,
    *,
    school: str | None = None,
    scheme: str | None = None,
    essentials_missing: bool | None = None,
    appointable: bool | None = None,
    within: Collection[str] | None = None,
) -> list[ApplicationSummary]:
    """A campaign's applications in the order they came, narrowed by the filters given:
    `scheme` is a scheme the applicant prefers or is appointed to; `essentials_missing` true
    keeps those with an essential criterion not (yet) met; `within`, those to one of these
    schemes (preferred or appointed to; None: any)."""
    await get_campaign(conn, campaign_id)
    stmt = select(applications).where(applications.c.campaign_id == campaign_id)
    if status is not None:
        stmt = stmt.where(applications.c.status == status)
    stmt = _filtered(stmt, school, scheme, essentials_missing, appointable, within)
    rows = await conn.execute(stmt.order_by(applications.c.submitted_position))
    return [_summary(r) for r in rows]


def to_schemes(scheme_ids: Collection[str]) -> Any:
    """An application to one of these schemes: preferred by the applicant or appointed to."""
    wanted = literal(sorted(scheme_ids), ARRAY(Text))
    return or_(
        applications.c.preferred_schemes.has_any(wanted), applications.c.schemes.has_any(wanted)
    )


def in_post(as_of: date) -> Any:
    """An appointment in force on `as_of`: begun, and not stood down by then."""
    return and_(
        appointments.c.appointed_on <= as_of,
        or_(appointments.c.stood_down_from.is_(None), appointments.c.stood_down_from > as_of),
    )


async def organised_by(conn: AsyncConnection, person: str, as_of: date) -> frozenset[str]:
    """The schemes `person` organises: named its organiser in the sessions service (the
    consumed `scheme_launched` and `scheme_amended`), or appointed its student organiser here
    and in post on `as_of`."""
    named = select(schemes.c.scheme_id).where(schemes.c.organisers.contains([person]))
    appointed = select(appointments.c.scheme_id).where(
        appointments.c.student_number == person,
        appointments.c.role == "organiser",
        in_post(as_of),
    )
    rows = await conn.execute(named.union(appointed))
    return frozenset(r.scheme_id for r in rows)


async def application_schemes(conn: AsyncConnection, application_id: str) -> frozenset[str]:
    """The schemes an application is to: those the applicant prefers and those they hold."""
    row = (
        await conn.execute(
            select(applications.c.preferred_schemes, applications.c.schemes).where(
                applications.c.application_id == application_id
            )
        )
    ).one_or_none()
    if row is None:
        return frozenset()
    return frozenset(row.preferred_schemes) | frozenset(row.schemes)


def _filtered(
    stmt: Any,
    school: str | None,
    scheme: str | None,
    essentials_missing: bool | None = None,
    appointable: bool | None = None,
    within: Collection[str] | None = None,
) -> Any:
    if within is not None:
        stmt = stmt.where(to_schemes(within))
    if school is not None:
        stmt = stmt.where(func.lower(applications.c.school) == school.lower())
    if scheme is not None:
        stmt = stmt.where(
            or_(
                applications.c.preferred_schemes.contains([scheme]),
                applications.c.schemes.has_key(scheme),
            )
        )
    if essentials_missing is True:
        stmt = stmt.where(applications.c.essentials_met < applications.c.essentials_total)
    elif essentials_missing is False:
        stmt = stmt.where(applications.c.essentials_met >= applications.c.essentials_total)
    if appointable is not None:
        stmt = stmt.where(applications.c.appointable.is_(appointable))
    return stmt


async def shortlist(
    conn: AsyncConnection,
    campaign_id: str,
    scheme: str | None = None,
    within: Collection[str] | None = None,
) -> list[ShortlistEntry]:
    """Open applications, most essentials met first, then most desirables met (those who
    cannot be appointed after those who can); `scheme`: those who prefer that scheme;
    `within`: those to one of these schemes (None: any)."""
    await get_campaign(conn, campaign_id)
    stmt = _filtered(
        select(applications).where(
            applications.c.campaign_id == campaign_id,
            applications.c.status.in_(OPEN_STATUSES),
        ),
        None,
        scheme,
        within=within,
    )
    rows = (await conn.execute(stmt)).all()
    by_id = {r.application_id: r for r in rows}
    ranked = rank(
        Candidate(
            application_id=r.application_id,
            student_number=r.student_number,
            essentials_met=r.essentials_met,
            desirables_met=r.desirables_met,
            appointable=r.appointable,
            submitted_position=r.submitted_position,
        )
        for r in rows
    )
    return [
        ShortlistEntry(rank=r.rank, application=_summary(by_id[r.candidate.application_id]))
        for r in ranked
    ]


async def training_standings(conn: AsyncConnection, campaign_id: str) -> list[TrainingStanding]:
    """The core training of every applicant still in the running or appointed, against the
    campaign's required hours, least trained first."""
    campaign = await get_campaign(conn, campaign_id)
    hours = (
        select(
            training_completions.c.student_number,
            func.sum(training_completions.c.hours).label("hours"),
        )
        .where(
            training_completions.c.academic_year == campaign.academic_year,
            training_completions.c.core.is_(True),
        )
        .group_by(training_completions.c.student_number)
        .subquery()
    )
    rows = await conn.execute(
        select(
            applications.c.application_id,
            applications.c.student_number,
            applications.c.name,
            applications.c.status,
            func.coalesce(hours.c.hours, 0).label("core_hours"),
        )
        .select_from(
            applications.outerjoin(hours, hours.c.student_number == applications.c.student_number)
        )
        .where(
            applications.c.campaign_id == campaign_id,
            applications.c.status.in_(("submitted", "appointed")),
        )
        .order_by("core_hours", applications.c.name)
    )
    required = campaign.core_training_hours
    return [
        TrainingStanding(
            application_id=r.application_id,
            student_number=r.student_number,
            name=r.name,
            status=r.status,
            core_hours=Decimal(r.core_hours),
            required_hours=required,
            complete=Decimal(r.core_hours) >= required,
        )
        for r in rows
    ]


async def application_count(conn: AsyncConnection, campaign_id: str) -> int:
    """Applications ever submitted to the campaign (withdrawn and decided ones too)."""
    return int(
        (
            await conn.execute(
                select(func.count()).where(applications.c.campaign_id == campaign_id)
            )
        ).scalar_one()
    )


async def open_applications_of(conn: AsyncConnection, student_numbers: Sequence[str]) -> int:
    """How many open applications these students have."""
    if not student_numbers:
        return 0
    found = 0
    numbers = list(student_numbers)
    for start in range(0, len(numbers), 10_000):
        found += (
            await conn.execute(
                select(func.count()).where(
                    applications.c.status.in_(OPEN_STATUSES),
                    applications.c.student_number.in_(numbers[start : start + 10_000]),
                )
            )
        ).scalar_one()
    return int(found)


async def application_owner(conn: AsyncConnection, application_id: str) -> str | None:
    return (
        await conn.execute(
            select(applications.c.student_number).where(
                applications.c.application_id == application_id
            )
        )
    ).scalar_one_or_none()


async def get_application(conn: AsyncConnection, application_id: str) -> ApplicationView:
    row = await _row(conn, applications.c.application_id, application_id)
    if row is None:
        raise NotFound(f"no application {application_id!r}")
    campaign = await get_campaign(conn, row.campaign_id)
    by_code = {o["code"]: o for o in row.outcomes}
    criteria = []
    for c in campaign.criteria:
        outcome = by_code.get(c.code, {})
        mark = outcome.get("mark_used")
        criteria.append(
            CriterionResult(
                code=c.code,
                description=c.description,
                importance=c.importance,
                how_assessed=c.assessed_by,
                check=c.check,
                met=outcome.get("met"),
                verified=outcome.get("verified", False),
                evidence=outcome.get("evidence", ""),
                assessed_by=outcome.get("assessed_by", "system"),
                mark_used=Decimal(mark) if mark is not None else None,
                override=(
                    RecordOverride.model_validate(outcome["override"])
                    if outcome.get("override")
                    else None
                ),
            )
        )
    data = dict(row._mapping)
    return ApplicationView(
        **ApplicationSummary.model_validate(data).model_dump(),
        declared=row.declared,
        criteria=criteria,
        mismatches=[RecordMismatch.model_validate(m) for m in row.mismatches],
        rejection_reasons=row.rejection_reasons,
        appointments=[
            Appointment(
                scheme_id=scheme,
                role=held["role"],
                appointed_on=date.fromisoformat(held["appointed_on"]),
            )
            for scheme, held in sorted(row.schemes.items())
        ],
    )


async def applications_of(conn: AsyncConnection, student_number: str) -> list[ApplicationView]:
    ids = (
        await conn.execute(
            select(applications.c.application_id)
            .where(applications.c.student_number == student_number)
            .order_by(applications.c.submitted_position)
        )
    ).scalars()
    return [await get_application(conn, i) for i in list(ids)]


async def open_applications(conn: AsyncConnection) -> list[tuple[str, str, str]]:
    """(application id, campaign id, student number) of every application still open."""
    rows = await conn.execute(
        select(
            applications.c.application_id,
            applications.c.campaign_id,
            applications.c.student_number,
        )
        .where(applications.c.status.in_(OPEN_STATUSES))
        .order_by(applications.c.submitted_position)
    )
    return [(r.application_id, r.campaign_id, r.student_number) for r in rows]


async def student_record(conn: AsyncConnection, student_number: str) -> StudentRecord | None:
    row = await _row(conn, student_records.c.student_number, student_number)
    if row is None:
        return None
    held = dict(row._mapping)
    import_id = held.pop("import_id")
    return record_from_row(StudentRecordRow.model_validate(held), import_id)


async def student_record_view(conn: AsyncConnection, student_number: str) -> StudentRecordView:
    row = await _row(conn, student_records.c.student_number, student_number)
    if row is None:
        raise NotFound(f"no student record for {student_number!r}")
    return StudentRecordView.model_validate(dict(row._mapping))


async def student_names(conn: AsyncConnection, student_numbers: Collection[str]) -> dict[str, str]:
    """number -> name of those of these students whose record is held, in one query."""
    if not student_numbers:
        return {}
    rows = await conn.execute(
        select(student_records.c.student_number, student_records.c.name).where(
            student_records.c.student_number
            == any_(literal(sorted(set(student_numbers)), ARRAY(Text)))
        )
    )
    return {str(r.student_number): str(r.name) for r in rows}


def _like(text: str) -> str:
    """`text` as a LIKE pattern that matches it anywhere, its own `%`, `_` and `\\` literal."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def students_named(
    conn: AsyncConnection, scheme_id: str, name: str, limit: int
) -> list[tuple[str, str]]:
    """(number, name) of the students of the scheme's school whose name holds `name` (any
    case), by name; an unknown scheme has none."""
    rows = await conn.execute(
        select(student_records.c.student_number, student_records.c.name)
        .join(schemes, schemes.c.school == student_records.c.school)
        .where(
            schemes.c.scheme_id == scheme_id,
            student_records.c.name.ilike(_like(name), escape="\\"),
        )
        .order_by(student_records.c.name, student_records.c.student_number)
        .limit(limit)
    )
    return [(str(r.student_number), str(r.name)) for r in rows]


async def list_imports(conn: AsyncConnection) -> list[RecordImportView]:
    rows = await conn.execute(select(record_imports).order_by(record_imports.c.position.desc()))
    return [RecordImportView.model_validate(dict(r._mapping)) for r in rows]


async def leaders(
    conn: AsyncConnection,
    *,
    scheme_id: str | None = None,
    academic_year: str | None = None,
    student_number: str | None = None,
    as_of: date | None = None,
    not_stood_down_on: date | None = None,
) -> list[LeaderView]:
    """Appointments of one scheme or one year. With `as_of`: those in force that day; with
    `not_stood_down_on`: those not stood down by that day (including appointments that start
    later); with neither: every appointment ever made."""
    stmt = select(appointments, campaigns.c.leader_title, campaigns.c.organiser_title).join(
        campaigns, campaigns.c.academic_year == appointments.c.academic_year
    )
    if scheme_id is not None:
        stmt = stmt.where(appointments.c.scheme_id == scheme_id)
    if academic_year is not None:
        stmt = stmt.where(appointments.c.academic_year == academic_year)
    if student_number is not None:
        stmt = stmt.where(appointments.c.student_number == student_number)
    if as_of is not None:
        stmt = stmt.where(in_post(as_of))
    if not_stood_down_on is not None:
        stmt = stmt.where(
            or_(
                appointments.c.stood_down_from.is_(None),
                appointments.c.stood_down_from > not_stood_down_on,
            )
        )
    rows = await conn.execute(
        stmt.order_by(appointments.c.scheme_id, appointments.c.role, appointments.c.name)
    )
    return [
        LeaderView(
            scheme_id=r.scheme_id,
            student_number=r.student_number,
            name=r.name,
            email=r.email,
            role=r.role,
            title=r.leader_title if r.role == "leader" else r.organiser_title,
            appointed_on=r.appointed_on,
            stood_down_from=r.stood_down_from,
            stand_down_reason=r.stand_down_reason,
        )
        for r in rows
    ]


async def core_training_hours(
    conn: AsyncConnection, student_number: str, academic_year: str
) -> Decimal:
    total = (
        await conn.execute(
            select(func.coalesce(func.sum(training_completions.c.hours), 0)).where(
                training_completions.c.student_number == student_number,
                training_completions.c.academic_year == academic_year,
                training_completions.c.core.is_(True),
            )
        )
    ).scalar_one()
    return Decimal(total)


async def launched_schemes(conn: AsyncConnection, scheme_ids: Sequence[str]) -> frozenset[str]:
    """Which of `scheme_ids` the sessions service has launched, as far as recruitment knows."""
    if not scheme_ids:
        return frozenset()
    rows = await conn.execute(
        select(schemes.c.scheme_id).where(schemes.c.scheme_id.in_(list(scheme_ids)))
    )
    return frozenset(str(r.scheme_id) for r in rows)


async def training_sessions_of(
    conn: AsyncConnection, academic_year: str | None = None
) -> list[TrainingSessionView]:
    stmt = select(training_sessions)
    if academic_year is not None:
        stmt = stmt.where(training_sessions.c.academic_year == academic_year)
    rows = await conn.execute(
        stmt.order_by(training_sessions.c.held_on, training_sessions.c.training_id)
    )
    return [TrainingSessionView.model_validate(dict(r._mapping)) for r in rows]


async def training_session(conn: AsyncConnection, training_id: str) -> TrainingSessionView:
    row = await _row(conn, training_sessions.c.training_id, training_id)
    if row is None:
        raise NotFound(f"no training session {training_id!r}")
    return TrainingSessionView.model_validate(dict(row._mapping))


async def training_summary(
    conn: AsyncConnection, student_number: str, academic_year: str
) -> TrainingSummary:
    rows = (
        await conn.execute(
            select(training_completions)
            .where(
                training_completions.c.student_number == student_number,
                training_completions.c.academic_year == academic_year,
            )
            .order_by(training_completions.c.completed_on, training_completions.c.training_id)
        )
    ).all()
    required = (
        await conn.execute(
            select(campaigns.c.core_training_hours).where(
                campaigns.c.academic_year == academic_year
            )
        )
    ).scalar_one_or_none()
    core = sum((r.hours for r in rows if r.core), Decimal(0))
    return TrainingSummary(
        student_number=student_number,
        academic_year=academic_year,
        core_hours=core,
        required_hours=required,
        complete=None if required is None else core >= required,
        sessions=[
            TrainingDone(
                training_id=r.training_id, hours=r.hours, core=r.core, completed_on=r.completed_on
            )
            for r in rows
        ],
    )
