"""Applications: submit, withdraw, assess, shortlist, reject, appoint, stand down."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

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
from passhub_recruitment.api.schemas import (
    ApplicationBody,
    ApplicationStatus,
    ApplicationSummary,
    ApplicationView,
    AppointBody,
    AssessmentBody,
    CriterionOutcomesBody,
    RejectBody,
    ShortlistEntry,
    StandDownBody,
)
from passhub_recruitment.domain.application import AssessorOutcome
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require

router = APIRouter(tags=["applications"])


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
    status_: ApplicationStatus | None = Query(default=None, alias="status"),
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
