"""Campaigns and the person specification."""

from __future__ import annotations

from fastapi import APIRouter, status

from passhub_recruitment import handlers, queries
from passhub_recruitment.api.deps import ANYONE, run, settings
from passhub_recruitment.api.schemas import AmendCampaignBody, CampaignView, OpenCampaignBody
from passhub_recruitment.domain.campaign import OpenCampaign
from passhub_recruitment.domain.spec import DEFAULT_CRITERIA
from passhub_shared.contracts.recruitment import Criterion
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require

router = APIRouter(tags=["campaigns"])


@router.get("/person-specification/default", response_model=list[Criterion])
async def default_specification(principal: Principal = require(*ANYONE)) -> list[Criterion]:
    """The default criteria a campaign opens with when it names none."""
    return list(DEFAULT_CRITERIA)


@router.post("/campaigns", status_code=status.HTTP_201_CREATED, response_model=CampaignView)
async def open_campaign(
    body: OpenCampaignBody,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> CampaignView:
    """Open the campaign of an academic year (one per year), with the default person
    specification or a custom one."""
    own = settings()
    command = OpenCampaign(
        academic_year=body.academic_year,
        leader_title=body.leader_title or runtime.settings.leader_title,
        organiser_title=body.organiser_title or runtime.settings.organiser_title,
        participating_schools=body.participating_schools,
        criteria=body.criteria if body.criteria is not None else list(DEFAULT_CRITERIA),
        min_exam_mark=body.min_exam_mark if body.min_exam_mark is not None else own.min_exam_mark,
        core_training_hours=(
            body.core_training_hours
            if body.core_training_hours is not None
            else own.core_training_hours
        ),
        today=own.today(),
        closes_on=body.closes_on,
    )
    campaign_id = await run(
        runtime, principal, lambda conn, ctx: handlers.open_campaign(conn, ctx, command)
    )
    async with runtime.engine.connect() as conn:
        return await queries.get_campaign(conn, campaign_id)


@router.get("/campaigns", response_model=list[CampaignView])
async def list_campaigns(
    runtime: RuntimeDep, principal: Principal = require(*ANYONE)
) -> list[CampaignView]:
    async with runtime.engine.connect() as conn:
        return await queries.list_campaigns(conn)


@router.get("/campaigns/{campaign_id}", response_model=CampaignView)
async def get_campaign(
    campaign_id: str, runtime: RuntimeDep, principal: Principal = require(*ANYONE)
) -> CampaignView:
    async with runtime.engine.connect() as conn:
        return await queries.get_campaign(conn, campaign_id)


@router.post("/campaigns/{campaign_id}/close", response_model=CampaignView)
async def close_campaign(
    campaign_id: str, runtime: RuntimeDep, principal: Principal = require("coordinator")
) -> CampaignView:
    """Stop taking applications (assessment and appointment go on)."""
    await run(runtime, principal, lambda conn, ctx: handlers.close_campaign(conn, ctx, campaign_id))
    async with runtime.engine.connect() as conn:
        return await queries.get_campaign(conn, campaign_id)


@router.patch("/campaigns/{campaign_id}", response_model=CampaignView)
async def amend_campaign(
    campaign_id: str,
    body: AmendCampaignBody,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> CampaignView:
    """Change an open campaign: the closing date at any time; the schools, the person
    specification, the minimum mark and the training hours only before the first application
    (409 after it). An unchanged campaign records nothing."""
    await run(
        runtime,
        principal,
        lambda conn, ctx: handlers.amend_campaign(
            conn,
            ctx,
            campaign_id,
            participating_schools=body.participating_schools,
            criteria=body.criteria,
            min_exam_mark=body.min_exam_mark,
            core_training_hours=body.core_training_hours,
            closes_on=body.closes_on,
            no_closing_date="closes_on" in body.model_fields_set and body.closes_on is None,
        ),
    )
    async with runtime.engine.connect() as conn:
        return await queries.get_campaign(conn, campaign_id)
