"""Awards: the end-of-year run, listings, withdrawal, and the documents of an award
(certificate PDF, Open Badges credential)."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from passhub_recognition.api.access import SELF, ensure_may_see
from passhub_recognition.certificates import Certificate, render
from passhub_recognition.context import Recognition, RecognitionDep
from passhub_recognition.credentials import open_badge_credential
from passhub_recognition.domain.awards import NewAward, WithdrawAward
from passhub_recognition.domain.policy import check_academic_year
from passhub_recognition.handlers import (
    award_owner,
    decide_for_leader,
    preview_awards,
    run_awards,
)
from passhub_recognition.ids import new_id, new_verification_code
from passhub_recognition.records import AwardView, award_by_id, awards_of_student, awards_of_year
from passhub_shared.app import RuntimeDep, command_metadata
from passhub_shared.auth import Principal, require
from passhub_shared.errors import Conflict, NotFound
from passhub_shared.events import utcnow

router = APIRouter(tags=["awards"])

#: media type of a VC-JWT (Open Badges 3.0 JWT proof)
VC_JWT = "application/vc+jwt"


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    academic_year: str


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


def award_json(view: AwardView, ctx: Recognition) -> dict[str, Any]:
    return {
        "award_id": view.award_id,
        "kind": view.kind,
        "kind_title": view.kind_title,
        "academic_year": view.academic_year,
        "student_number": view.student_number,
        "name": view.name,
        "role": view.role,
        "schemes": view.scheme_titles,
        "scheme_ids": view.scheme_ids,
        "sessions_delivered": view.sessions_delivered,
        "hours": view.hours,
        "policy_version": view.policy_version,
        "verification_code": view.verification_code,
        "activity_start": view.activity_start,
        "activity_end": view.activity_end,
        "granted_at": view.granted_at,
        "status": view.status,
        "withdrawn_at": view.withdrawn_at,
        "withdrawn_reason": view.withdrawn_reason,
        "revised_at": view.revised_at,
        "revised_reason": view.revised_reason,
        "verify_url": ctx.verify_url(view.verification_code),
    }


def certificate_of(view: AwardView, ctx: Recognition) -> Certificate:
    return Certificate(
        name=view.name,
        role=view.role,
        kind_title=view.kind_title,
        schemes=view.scheme_titles,
        academic_year=view.academic_year,
        sessions_delivered=view.sessions_delivered,
        hours=view.hours,
        verification_code=view.verification_code,
        verify_url=ctx.verify_url(view.verification_code),
        institution=ctx.settings.institution,
        verifying_body=ctx.settings.verifying_body,
        issued_on=view.granted_at.date(),
    )


def _filename(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "award"


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{_filename(filename)}"'},
    )


class PreviewLineOut(BaseModel):
    student_number: str
    name: str
    kind: Literal["certificate", "psa", "hear"]
    title: str
    outcome: Literal["grant", "withhold", "unchanged"]
    status: str
    reasons: list[str]


class RunPreviewOut(BaseModel):
    academic_year: str
    policy_version: int
    leaders: int
    granted: int
    withheld: int
    unchanged: int
    lines: list[PreviewLineOut]


@router.get("/awards/runs/preview", response_model=RunPreviewOut)
async def awards_run_preview(
    runtime: RuntimeDep,
    ctx: RecognitionDep,
    academic_year: str = Query(),
    principal: Principal = require("coordinator"),
) -> RunPreviewOut:
    """What the awards run would decide now, without deciding anything: for every leader and
    award kind, granted, withheld with what is missing, or unchanged and why."""
    async with runtime.engine.connect() as conn:
        found = await preview_awards(
            conn, runtime.store, academic_year, ctx.titles, utcnow().date()
        )
    lines = [PreviewLineOut.model_validate(line, from_attributes=True) for line in found.lines]
    return RunPreviewOut(
        academic_year=found.academic_year,
        policy_version=found.policy_version,
        leaders=found.leaders,
        granted=sum(line.outcome == "grant" for line in lines),
        withheld=sum(line.outcome == "withhold" for line in lines),
        unchanged=sum(line.outcome == "unchanged" for line in lines),
        lines=lines,
    )


@router.post("/awards/runs")
async def awards_run(
    body: RunIn,
    runtime: RuntimeDep,
    ctx: RecognitionDep,
    principal: Principal = require("coordinator"),
) -> dict[str, Any]:
    """Decide every leader of the year at once. Running it again issues nothing twice: it only
    decides what changed since (a leader who now meets the requirements, say)."""
    check_academic_year(body.academic_year)
    today = utcnow().date()
    async with runtime.transaction() as conn:
        summary = await run_awards(
            conn,
            runtime.store,
            body.academic_year,
            ctx.titles,
            today,
            lambda: NewAward(new_id(), new_verification_code()),
            command_metadata(principal),
        )
    return {
        "academic_year": summary.academic_year,
        "policy_version": summary.policy_version,
        "leaders": summary.leaders,
        "granted": summary.granted,
        "withheld": summary.withheld,
        "unchanged": summary.unchanged,
    }


@router.get("/awards")
async def list_awards(
    runtime: RuntimeDep,
    ctx: RecognitionDep,
    academic_year: str = Query(),
    kind: Literal["certificate", "psa", "hear"] | None = Query(default=None),
    status: Literal["granted", "withdrawn"] | None = Query(default=None),
    principal: Principal = require("coordinator"),
) -> list[dict[str, Any]]:
    check_academic_year(academic_year)
    async with runtime.engine.connect() as conn:
        views = await awards_of_year(conn, academic_year, [kind] if kind else None, status)
    return [award_json(v, ctx) for v in views]


@router.get("/awards/mine")
async def my_awards(
    runtime: RuntimeDep,
    ctx: RecognitionDep,
    principal: Principal = require(*SELF),
) -> list[dict[str, Any]]:
    async with runtime.engine.connect() as conn:
        views = await awards_of_student(conn, principal.sub)
    return [award_json(v, ctx) for v in views]


async def _visible_award(runtime: RuntimeDep, award_id: str, principal: Principal) -> AwardView:
    async with runtime.engine.connect() as conn:
        view = await award_by_id(conn, award_id)
    ensure_may_see(principal, view.student_number)
    return view


@router.get("/awards/{award_id}")
async def get_award(
    award_id: str,
    runtime: RuntimeDep,
    ctx: RecognitionDep,
    principal: Principal = require("coordinator", *SELF),
) -> dict[str, Any]:
    return award_json(await _visible_award(runtime, award_id, principal), ctx)


@router.post("/awards/{award_id}/withdraw")
async def withdraw_award(
    award_id: str,
    body: WithdrawIn,
    runtime: RuntimeDep,
    ctx: RecognitionDep,
    principal: Principal = require("coordinator"),
) -> dict[str, Any]:
    """Withdraw an award (e.g. a breach of the scheme's rules), with the reason. The awards
    run will not grant this kind to the leader again that year."""
    async with runtime.transaction() as conn:
        year, student = await award_owner(conn, award_id)
        await decide_for_leader(
            conn,
            runtime.store,
            year,
            student,
            WithdrawAward(year, student, award_id, body.reason),
            command_metadata(principal),
        )
        view = await award_by_id(conn, award_id)
    return award_json(view, ctx)


@router.get("/awards/{award_id}/certificate", response_class=Response)
async def certificate(
    award_id: str,
    runtime: RuntimeDep,
    ctx: RecognitionDep,
    principal: Principal = require("coordinator", *SELF),
) -> Response:
    """The award's certificate as a one-page PDF."""
    view = await _visible_award(runtime, award_id, principal)
    if not view.standing:
        raise Conflict(f"award {award_id} was withdrawn; it has no certificate")
    content = await run_in_threadpool(
        render, [certificate_of(view, ctx)], ctx.fonts, f"{view.kind_title}: {view.name}"
    )
    return _pdf(content, f"{view.kind}-{view.academic_year}-{view.student_number}.pdf")


@router.get("/certificates/{academic_year}", response_class=Response)
async def certificate_batch(
    academic_year: str,
    runtime: RuntimeDep,
    ctx: RecognitionDep,
    principal: Principal = require("coordinator"),
) -> Response:
    """Every standing certificate of participation of the year, one page each, in name order:
    one file to print for the end-of-year event."""
    check_academic_year(academic_year)
    async with runtime.engine.connect() as conn:
        views = await awards_of_year(conn, academic_year, ["certificate"], "granted")
    if not views:
        raise NotFound(f"no certificates stand for {academic_year}")
    certs = [certificate_of(v, ctx) for v in views]
    content = await run_in_threadpool(render, certs, ctx.fonts, f"Certificates {academic_year}")
    return _pdf(content, f"certificates-{academic_year}.pdf")


@router.get("/awards/{award_id}/credential", response_class=Response)
async def credential(
    award_id: str,
    runtime: RuntimeDep,
    ctx: RecognitionDep,
    format: Literal["jwt", "json"] = Query(default="jwt"),
    principal: Principal = require("coordinator", *SELF),
) -> Response:
    """The award as an Open Badges 3.0 credential, signed as a VC-JWT (`format=json` gives
    the credential and its JWT side by side)."""
    view = await _visible_award(runtime, award_id, principal)
    if not view.standing:
        raise Conflict(f"award {award_id} was withdrawn; it has no credential")
    unsigned = open_badge_credential(view, ctx.issuer)
    token = ctx.key.sign(unsigned)
    if format == "json":
        return Response(
            json.dumps({"credential": unsigned, "jwt": token}), media_type="application/json"
        )
    return Response(
        token,
        media_type=VC_JWT,
        headers={
            "Content-Disposition": 'attachment; filename="'
            + _filename(f"{view.kind}-{view.academic_year}-{view.student_number}.jwt")
            + '"'
        },
    )
