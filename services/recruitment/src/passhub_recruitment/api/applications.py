"""Applications: submit, withdraw, assess, shortlist, reject, appoint, stand down."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from passhub_recruitment import handlers, queries
from passhub_recruitment.api.deps import (
    ANYONE,
    APPLICANTS,
    STAFF,
    ensure_may_see_application,
    ensure_organises,
    organiser_scope,
    require_self,
    run,
    settings,
)
from passhub_recruitment.api.schemas import ApplicationSummary, ApplicationView, ShortlistEntry
from passhub_recruitment.domain.application import AssessorOutcome
from passhub_shared.app import RuntimeDep
from passhub_shared.auth import Principal, require
from passhub_shared.contracts.recruitment import Role

router = APIRouter(tags=["applications"])

Status = Literal["submitted", "withdrawn", "rejected", "appointed", "stood_down"]


class ApplicationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: optional; when given it must be the caller's own (the token's subject)
    student_number: str | None = None
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=320)
    school: str = Field(min_length=1, max_length=200)
    programme: str = Field(default="", max_length=200)
    level: str = Field(default="", max_length=100, examples=["undergraduate"])
    year_of_study: int | None = Field(default=None, ge=1, le=7)
    #: self-declared exam mark per year of study, e.g. {"1": "64.5"}; checked against the record
    exam_marks: dict[int, Decimal] = Field(default_factory=dict)
    role_sought: Role = "leader"
    preferred_schemes: list[str] = Field(default_factory=list, max_length=20)
    statement: str = Field(default="", max_length=5000)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValueError(f"not an email address: {exc}") from None


class OutcomeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    met: bool
    note: str = Field(max_length=2000)
    #: required to overrule a criterion the student record decides (met or failed on the
    #: record, or pending because the record and the application disagree), and refused
    #: otherwise; recorded with the assessor's name and time, the record's value kept beside it
    override_reason: str | None = Field(default=None, max_length=2000)


class AssessmentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcomes: list[OutcomeBody] = Field(min_length=1)


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: shown to the applicant
    reasons: list[str] = Field(min_length=1)


class AppointBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role = "leader"
    schemes: list[str] = Field(min_length=1, examples=[["2026-27-PHYS"]])
    #: omitted: today
    appointed_on: date | None = None


class StandDownBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    effective_from: date
    reason: str = Field(max_length=2000)
    #: omitted or empty: every scheme the applicant holds
    schemes: list[str] = Field(default_factory=list)


async def _view(runtime: RuntimeDep, application_id: str) -> ApplicationView:
    async with runtime.engine.connect() as conn:
        return await queries.get_application(conn, application_id)


@router.post(
    "/campaigns/{campaign_id}/applications",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationView,
)
async def submit(
    campaign_id: str,
    body: ApplicationBody,
    runtime: RuntimeDep,
    principal: Principal = require(*APPLICANTS),
) -> ApplicationView:
    """A student applies, as themself only; the machine-checkable criteria are assessed at
    once from the student records."""
    if body.student_number is not None:
        require_self(body.student_number, principal.sub)
    form = handlers.ApplicationForm(
        name=body.name,
        email=body.email,
        school=body.school,
        programme=body.programme,
        level=body.level,
        year_of_study=body.year_of_study,
        exam_marks=body.exam_marks,
        role_sought=body.role_sought,
        preferred_schemes=body.preferred_schemes,
        statement=body.statement,
    )
    application_id = await run(
        runtime,
        principal,
        lambda conn, ctx: handlers.submit_application(conn, ctx, campaign_id, principal.sub, form),
    )
    return await _view(runtime, application_id)


@router.get("/campaigns/{campaign_id}/applications", response_model=list[ApplicationSummary])
async def list_applications(
    campaign_id: str,
    runtime: RuntimeDep,
    status_: Status | None = Query(default=None, alias="status"),
    school: str | None = Query(default=None, max_length=200),
    scheme: str | None = Query(
        default=None, max_length=200, description="a scheme preferred or appointed to"
    ),
    essentials_missing: bool | None = Query(
        default=None, description="true: an essential criterion not (yet) met; false: all met"
    ),
    appointable: bool | None = None,
    principal: Principal = require(*STAFF),
) -> list[ApplicationSummary]:
    """A campaign's applications in the order they came, filtered. An organiser sees those
    to the schemes they organise (preferred or appointed to), and may name only one of those
    in `scheme` (403 otherwise)."""
    async with runtime.engine.connect() as conn:
        scope = await organiser_scope(conn, principal)
        ensure_organises(scope, scheme)
        return await queries.list_applications(
            conn,
            campaign_id,
            status_,
            school=school,
            scheme=scheme,
            essentials_missing=essentials_missing,
            appointable=appointable,
            within=scope,
        )


@router.get("/campaigns/{campaign_id}/shortlist", response_model=list[ShortlistEntry])
async def shortlist(
    campaign_id: str,
    runtime: RuntimeDep,
    scheme: str | None = Query(
        default=None, max_length=200, description="only those who prefer this scheme"
    ),
    principal: Principal = require(*STAFF),
) -> list[ShortlistEntry]:
    """Open applications ranked by essentials met, then desirables met; those who cannot be
    appointed after those who can. An organiser sees those to the schemes they organise."""
    async with runtime.engine.connect() as conn:
        scope = await organiser_scope(conn, principal)
        ensure_organises(scope, scheme)
        return await queries.shortlist(conn, campaign_id, scheme, within=scope)


class BulkOutcomeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    application_id: str = Field(max_length=200)
    met: bool
    note: str = Field(default="", max_length=2000)


class CriterionOutcomesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcomes: list[BulkOutcomeBody] = Field(min_length=1, max_length=2000)


@router.post(
    "/campaigns/{campaign_id}/criteria/{code}/outcomes",
    response_model=list[ApplicationSummary],
)
async def record_criterion(
    campaign_id: str,
    code: str,
    body: CriterionOutcomesBody,
    runtime: RuntimeDep,
    principal: Principal = require(*STAFF),
) -> list[ApplicationSummary]:
    """One criterion recorded for many applicants at once (the training day, the
    presentation): all or nothing. A criterion the student record decides is refused here
    (overrule it on the one application, with a reason)."""
    outcomes = [handlers.BulkOutcome(o.application_id, o.met, o.note) for o in body.outcomes]
    await run(
        runtime,
        principal,
        lambda conn, ctx: handlers.record_criterion(
            conn, ctx, campaign_id, code, principal.sub, outcomes
        ),
    )
    wanted = {o.application_id for o in body.outcomes}
    async with runtime.engine.connect() as conn:
        found = await queries.list_applications(conn, campaign_id)
    return [a for a in found if a.application_id in wanted]


@router.get("/me/applications", response_model=list[ApplicationView])
async def my_applications(
    runtime: RuntimeDep, principal: Principal = require(*ANYONE)
) -> list[ApplicationView]:
    async with runtime.engine.connect() as conn:
        return await queries.applications_of(conn, principal.sub)


@router.get("/applications/{application_id}", response_model=ApplicationView)
async def get_application(
    application_id: str,
    runtime: RuntimeDep,
    principal: Principal = require(*STAFF, *APPLICANTS),
) -> ApplicationView:
    """An application with each criterion's outcome; a student sees only their own, an
    organiser those to the schemes they organise (another is refused, 403)."""
    async with runtime.engine.connect() as conn:
        await ensure_may_see_application(conn, principal, application_id)
        return await queries.get_application(conn, application_id)


@router.post("/applications/{application_id}/withdraw", response_model=ApplicationView)
async def withdraw(
    application_id: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator", *APPLICANTS),
) -> ApplicationView:
    limit = None if principal.has("coordinator") else principal.sub
    await run(
        runtime, principal, lambda conn, ctx: handlers.withdraw(conn, ctx, application_id, limit)
    )
    return await _view(runtime, application_id)


@router.post("/applications/{application_id}/assessments", response_model=ApplicationView)
async def assess(
    application_id: str,
    body: AssessmentBody,
    runtime: RuntimeDep,
    principal: Principal = require(*STAFF),
) -> ApplicationView:
    """Record assessors' outcomes (met or not, with a note) for criteria of the application.
    A criterion the student record decides changes only with an `override_reason`: the
    override is audited (who, when, why) and the record's outcome stays shown beside it."""
    outcomes = [
        AssessorOutcome(
            code=o.code, met=o.met, note=o.note, override_reason=o.override_reason or ""
        )
        for o in body.outcomes
    ]
    await run(
        runtime,
        principal,
        lambda conn, ctx: handlers.record_outcomes(
            conn, ctx, application_id, principal.sub, outcomes
        ),
    )
    return await _view(runtime, application_id)


@router.post("/applications/{application_id}/reassess", response_model=ApplicationView)
async def reassess(
    application_id: str, runtime: RuntimeDep, principal: Principal = require("coordinator")
) -> ApplicationView:
    """Check the machine-checkable criteria again against the current student records."""
    await run(runtime, principal, lambda conn, ctx: handlers.reassess(conn, ctx, application_id))
    return await _view(runtime, application_id)


@router.post("/applications/{application_id}/reject", response_model=ApplicationView)
async def reject(
    application_id: str,
    body: RejectBody,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> ApplicationView:
    await run(
        runtime,
        principal,
        lambda conn, ctx: handlers.reject(conn, ctx, application_id, body.reasons),
    )
    return await _view(runtime, application_id)


@router.post("/applications/{application_id}/appointments", response_model=ApplicationView)
async def appoint(
    application_id: str,
    body: AppointBody,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> ApplicationView:
    """Appoint to one or more schemes, as leader or student organiser. Needs every essential
    criterion met on verified evidence and the campaign's core training hours completed."""
    appointed_on = body.appointed_on or settings().today()
    await run(
        runtime,
        principal,
        lambda conn, ctx: handlers.appoint(
            conn, ctx, application_id, body.role, body.schemes, appointed_on
        ),
    )
    return await _view(runtime, application_id)


@router.post("/applications/{application_id}/stand-down", response_model=ApplicationView)
async def stand_down(
    application_id: str,
    body: StandDownBody,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> ApplicationView:
    await run(
        runtime,
        principal,
        lambda conn, ctx: handlers.stand_down(
            conn, ctx, application_id, body.schemes, body.effective_from, body.reason
        ),
    )
    return await _view(runtime, application_id)
