"""Awards: the end-of-year run, listings, withdrawal, and the documents of an award
(certificate PDF, Open Badges credential)."""

from __future__ import annotations

import json
import re
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Response
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.concurrency import run_in_threadpool

from passhub_recognition import handlers, queries
from passhub_recognition.api.deps import (
    SELF,
    JobsDep,
    Recognition,
    RecognitionDep,
    ensure_may_see,
    handler_context,
    in_transaction,
)
from passhub_recognition.api.schemas import (
    AwardOut,
    AwardsRunOut,
    CertificateBatchOut,
    PreviewLineOut,
    RunIn,
    RunPreviewOut,
    RunSummaryOut,
    WithdrawIn,
)
from passhub_recognition.certificates import Certificate, render
from passhub_recognition.credentials import open_badge_credential
from passhub_recognition.domain.documents import AwardView
from passhub_recognition.domain.policy import check_academic_year
from passhub_recognition.queries import (
    DONE,
    award_by_id,
    award_run,
    award_runs_of_year,
    awards_of_student,
    awards_of_year,
    certificate_batches_of_year,
)
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require
from passhub_shared.web.errors import Conflict, NotFound

router = APIRouter(tags=["awards"])

#: media type of a VC-JWT (Open Badges 3.0 JWT proof)
VC_JWT = "application/vc+jwt"


def award_out(view: AwardView, ctx: Recognition) -> AwardOut:
    return AwardOut(
        award_id=view.award_id,
        kind=view.kind,
        kind_title=view.kind_title,
        academic_year=view.academic_year,
        student_number=view.student_number,
        name=view.name,
        role=view.role,
        schemes=view.scheme_titles,
        scheme_ids=view.scheme_ids,
        sessions_delivered=view.sessions_delivered,
        hours=view.hours,
        policy_version=view.policy_version,
        verification_code=view.verification_code,
        activity_start=view.activity_start,
        activity_end=view.activity_end,
        granted_at=view.granted_at,
        status=view.status,
        withdrawn_at=view.withdrawn_at,
        withdrawn_reason=view.withdrawn_reason,
        revised_at=view.revised_at,
        revised_reason=view.revised_reason,
        verify_url=ctx.verify_url(view.verification_code),
    )


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


@router.get("/awards/runs/preview")
async def awards_run_preview(
    runtime: RuntimeDep,
    academic_year: str = Query(),
    principal: Principal = require("coordinator"),
) -> RunPreviewOut:
    """What the awards run would decide now, without deciding anything: for every leader and
    award kind, granted, withheld with what is missing, or unchanged and why."""
    ctx = handler_context(runtime, principal)
    async with runtime.engine.connect() as conn:
        found = await handlers.preview_awards(conn, ctx, academic_year)
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


def run_out(run: dict[str, Any]) -> AwardsRunOut:
    done = run["state"] == DONE
    return AwardsRunOut(
        run_id=run["run_id"],
        academic_year=run["academic_year"],
        state=run["state"],
        requested_by=run["requested_by"],
        requested_at=run["requested_at"],
        started_at=run["started_at"],
        finished_at=run["finished_at"],
        policy_version=run["policy_version"],
        leaders_done=run["leaders_done"],
        leaders_total=run["leaders_total"],
        result=(
            RunSummaryOut.model_validate(handlers.run_summary(run), from_attributes=True)
            if done
            else None
        ),
        error=run["error"],
    )


@router.post("/awards/runs", status_code=202)
async def awards_run(
    body: RunIn,
    runtime: RuntimeDep,
    jobs: JobsDep,
    response: Response,
    principal: Principal = require("coordinator"),
) -> AwardsRunOut:
    """Start the awards run of the year: 202, with the run's id and where to follow it
    (`Location`). It decides every leader of the year, a batch of leaders per transaction, off
    the request; `GET /awards/runs/{run_id}` gives how far it is and, once done, what it
    decided. One run per year at a time: while one is queued or running, 409 `under_way`,
    with its id in `errors[0].id`. Running it again issues nothing twice: it only decides what
    changed since (a leader who now meets the requirements, say)."""
    check_academic_year(body.academic_year)
    ctx = handler_context(runtime, principal)

    async def start(conn: AsyncConnection) -> dict[str, Any]:
        run_id = await handlers.start_run(conn, ctx, body.academic_year)
        return await award_run(conn, run_id)

    run = await in_transaction(runtime, start)
    jobs.work_run(run["run_id"])
    response.headers["Location"] = f"/awards/runs/{run['run_id']}"
    return run_out(run)


@router.get("/awards/runs")
async def awards_runs(
    runtime: RuntimeDep,
    academic_year: str = Query(),
    principal: Principal = require("coordinator"),
) -> list[AwardsRunOut]:
    """The year's awards runs, the latest first."""
    check_academic_year(academic_year)
    async with runtime.engine.connect() as conn:
        return [run_out(r) for r in await award_runs_of_year(conn, academic_year)]


@router.get("/awards/runs/{run_id}")
async def awards_run_state(
    run_id: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> AwardsRunOut:
    """An awards run: queued, running (leaders decided of the total), done (with what it
    decided) or failed (with why; what it decided stays decided)."""
    async with runtime.engine.connect() as conn:
        return run_out(await award_run(conn, run_id))


@router.get("/awards")
async def list_awards(
    runtime: RuntimeDep,
    ctx: RecognitionDep,
    academic_year: str = Query(),
    kind: Literal["certificate", "psa", "hear"] | None = Query(default=None),
    status: Literal["granted", "withdrawn"] | None = Query(default=None),
    principal: Principal = require("coordinator"),
) -> list[AwardOut]:
    check_academic_year(academic_year)
    async with runtime.engine.connect() as conn:
        views = await awards_of_year(conn, academic_year, [kind] if kind else None, status)
    return [award_out(v, ctx) for v in views]


@router.get("/awards/mine")
async def my_awards(
    runtime: RuntimeDep,
    ctx: RecognitionDep,
    principal: Principal = require(*SELF),
) -> list[AwardOut]:
    async with runtime.engine.connect() as conn:
        views = await awards_of_student(conn, principal.sub)
    return [award_out(v, ctx) for v in views]


async def _visible_award(runtime: RuntimeDep, award_id: str, principal: Principal) -> AwardView:
    async with runtime.engine.connect() as conn:
        view = await award_by_id(conn, award_id)
    ensure_may_see(principal, view.student_number)
    return view


async def _standing_award(
    runtime: RuntimeDep, award_id: str, principal: Principal, document: str
) -> AwardView:
    """The award, which `principal` may see and which stands: a withdrawn one has no
    `document`."""
    view = await _visible_award(runtime, award_id, principal)
    if not view.standing:
        raise Conflict(f"award {award_id} was withdrawn; it has no {document}")
    return view


@router.get("/awards/{award_id}")
async def get_award(
    award_id: str,
    runtime: RuntimeDep,
    ctx: RecognitionDep,
    principal: Principal = require("coordinator", *SELF),
) -> AwardOut:
    return award_out(await _visible_award(runtime, award_id, principal), ctx)


@router.post("/awards/{award_id}/withdraw")
async def withdraw_award(
    award_id: str,
    body: WithdrawIn,
    runtime: RuntimeDep,
    ctx: RecognitionDep,
    principal: Principal = require("coordinator"),
) -> AwardOut:
    """Withdraw an award (e.g. a breach of the scheme's rules), with the reason. The awards
    run will not grant this kind to the leader again that year."""
    context = handler_context(runtime, principal)

    async def withdraw(conn: AsyncConnection) -> AwardView:
        await handlers.withdraw_award(conn, context, award_id, body.reason)
        return await award_by_id(conn, award_id)

    return award_out(await in_transaction(runtime, withdraw), ctx)


@router.get("/awards/{award_id}/certificate", response_class=Response)
async def certificate(
    award_id: str,
    runtime: RuntimeDep,
    ctx: RecognitionDep,
    principal: Principal = require("coordinator", *SELF),
) -> Response:
    """The award's certificate as a one-page PDF."""
    view = await _standing_award(runtime, award_id, principal, "certificate")
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


def batch_out(batch: dict[str, Any]) -> CertificateBatchOut:
    year, batch_id = batch["academic_year"], batch["batch_id"]
    return CertificateBatchOut(
        batch_id=batch_id,
        academic_year=year,
        state=batch["state"],
        requested_by=batch["requested_by"],
        requested_at=batch["requested_at"],
        started_at=batch["started_at"],
        finished_at=batch["finished_at"],
        pages_done=batch["pages_done"],
        pages_total=batch["pages_total"],
        pdf=(
            f"/certificates/{quote(year)}/batches/{batch_id}/pdf"
            if batch["state"] == DONE
            else None
        ),
        error=batch["error"],
    )


async def _batch_of_year(
    runtime: RuntimeDep, year: str, batch_id: str, pdf: bool = False
) -> dict[str, Any]:
    check_academic_year(year)
    async with runtime.engine.connect() as conn:
        batch = await queries.certificate_batch(conn, batch_id, pdf=pdf)
    if batch["academic_year"] != year:
        raise NotFound(f"no certificate batch {batch_id} of {year}")
    return batch


@router.post("/certificates/{academic_year}/batches", status_code=202)
async def start_certificate_batch(
    academic_year: str,
    runtime: RuntimeDep,
    jobs: JobsDep,
    response: Response,
    principal: Principal = require("coordinator"),
) -> CertificateBatchOut:
    """Start making the year's certificate batch (every standing certificate of
    participation, one page each, in name order): 202, with its id and where to follow it
    (`Location`). 404 when no certificate stands; 409 `under_way` while a batch of the year is
    being made, with its id in `errors[0].id`. The PDF is kept with the batch once done."""
    check_academic_year(academic_year)
    ctx = handler_context(runtime, principal)

    async def start(conn: AsyncConnection) -> dict[str, Any]:
        batch_id = await handlers.start_certificate_batch(conn, ctx, academic_year)
        return await queries.certificate_batch(conn, batch_id)

    batch = await in_transaction(runtime, start)
    jobs.work_batch(batch["batch_id"])
    response.headers["Location"] = (
        f"/certificates/{quote(academic_year)}/batches/{batch['batch_id']}"
    )
    return batch_out(batch)


@router.get("/certificates/{academic_year}/batches")
async def certificate_batches(
    academic_year: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> list[CertificateBatchOut]:
    """The year's certificate batches, the latest first."""
    check_academic_year(academic_year)
    async with runtime.engine.connect() as conn:
        return [batch_out(b) for b in await certificate_batches_of_year(conn, academic_year)]


@router.get("/certificates/{academic_year}/batches/{batch_id}")
async def certificate_batch_state(
    academic_year: str,
    batch_id: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> CertificateBatchOut:
    """A certificate batch: queued, running (pages drawn of the total), done (with the path of
    its PDF) or failed (with why)."""
    return batch_out(await _batch_of_year(runtime, academic_year, batch_id))


@router.get("/certificates/{academic_year}/batches/{batch_id}/pdf", response_class=Response)
async def certificate_batch_pdf(
    academic_year: str,
    batch_id: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> Response:
    """The batch's PDF, once done (409 before)."""
    batch = await _batch_of_year(runtime, academic_year, batch_id, pdf=True)
    if batch["state"] != DONE:
        raise Conflict(f"certificate batch {batch_id} is {batch['state']}, not done")
    return _pdf(batch["pdf"], f"certificates-{academic_year}.pdf")


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
    view = await _standing_award(runtime, award_id, principal, "credential")
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
