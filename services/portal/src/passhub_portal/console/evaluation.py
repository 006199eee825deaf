"""The console's Evaluation area: participation against outcomes per scheme and module, with its
chart, filters (year, scheme, module, attendance bands), why small groups are not shown, the
downloads (CSV, PNG, SVG), and the survey's agreement rates; and the imports of module
enrolments and results, checked first (a preview) and run in the background, so a large file
shows its progress and never holds up any page."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from passhub_portal.clients import ServiceError, Services, ServiceUnavailable
from passhub_portal.console.actions import posted, text
from passhub_portal.console.frame import Console, console, render
from passhub_portal.leading import academic_year
from passhub_portal.web import PageError, settings_of

router = APIRouter()
log = logging.getLogger("passhub.portal.console")

AREA = "evaluation"
FORMATS = {"csv": "text/csv", "png": "image/png", "svg": "image/svg+xml"}
BANDS = {
    "regular": "0 / 1 to 3 / 4 or more sessions",
    "bands": "0 / 1 to 4 / 5 to 9 / 10 or more sessions",
}
KINDS = {"enrolments": "Module enrolments", "results": "Module results"}
MAX_IMPORT_BYTES = 50_000_000
#: how long a large import may take (a page's call to a service has a short timeout)
IMPORT_TIMEOUT_SECONDS = 600
#: import jobs a portal process keeps (the oldest finished ones go first)
KEEP_JOBS = 50


def _year(request: Request) -> str:
    wanted = request.query_params.get("year", "")
    if len(wanted) == 7 and wanted[4] == "-" and wanted[:4].isdigit() and wanted[5:].isdigit():
        return wanted
    return academic_year(settings_of(request))


async def _schemes(c: Console, year: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = await c.call(
        "sessions", "GET", "/schemes", params={"academic_year": year}
    )
    if c.organiser:
        own = await c.own_schemes()
        listed = [s for s in listed if s["scheme_id"] in own]
    return sorted(listed, key=lambda s: str(s["title"]))


async def _filters(c: Console, request: Request) -> dict[str, Any]:
    """The report's filters from the address: an organiser sees their own schemes only (the
    first of them unless they pick one)."""
    q = request.query_params
    year = _year(request)
    schemes = await _schemes(c, year)
    scheme = q.get("scheme", "")
    ids = {s["scheme_id"] for s in schemes}
    if scheme and scheme not in ids:
        await c.require_scheme(scheme)
    if c.organiser and not scheme and schemes:
        scheme = schemes[0]["scheme_id"]
    modules = [m.strip() for m in q.get("module", "").replace(",", " ").split() if m.strip()][:20]
    band = q.get("band", "regular")
    band = band if band in BANDS else "regular"
    return {"year": year, "schemes": schemes, "scheme": scheme, "modules": modules, "band": band}


def _report_params(f: dict[str, Any], fmt: str = "json") -> list[tuple[str, str]]:
    params = [("year", f["year"]), ("format", fmt), ("chart", f["band"])]
    if f["scheme"]:
        params.append(("scheme", f["scheme"]))
    params += [("module", m) for m in f["modules"]]
    return params


def _query(f: dict[str, Any]) -> str:
    pairs = [("year", f["year"]), ("band", f["band"])]
    if f["scheme"]:
        pairs.append(("scheme", f["scheme"]))
    if f["modules"]:
        pairs.append(("module", " ".join(f["modules"])))
    return urlencode(pairs)


def percent(value: float | None) -> str:
    return " to " if value is None else f"{value * 100:.0f}%"


def number(value: float | None, places: int = 1) -> str:
    return " to " if value is None else f"{value:.{places}f}"


@router.get("/console/evaluation")
async def outcomes(request: Request) -> Response:
    c = await console(request, AREA)
    f = await _filters(c, request)
    report = None
    problem = ""
    feedback = None
    if not (c.organiser and not f["scheme"]):
        try:
            report = await c.call(
                "attendance", "GET", "/evaluation/outcomes", params=_report_params(f)
            )
            survey = [("year", f["year"])] + ([("scheme", f["scheme"])] if f["scheme"] else [])
            feedback = await c.call("attendance", "GET", "/evaluation/feedback", params=survey)
        except ServiceError as error:
            if error.status not in (404, 422):
                raise
            problem = error.detail
    else:
        problem = "You organise no scheme in this year."
    return render(
        request,
        c,
        "console/evaluation_outcomes.html",
        {
            "title": "Evaluation",
            "f": f,
            "bands": BANDS,
            "report": report,
            "feedback": feedback,
            "problem": problem,
            "query": _query(f),
            "percent": percent,
            "number": number,
        },
    )


@router.get("/console/evaluation/outcomes.csv")
async def outcomes_csv(request: Request) -> Response:
    return await outcomes_file(request, "csv")


@router.get("/console/evaluation/outcomes.png")
async def outcomes_png(request: Request) -> Response:
    return await outcomes_file(request, "png")


@router.get("/console/evaluation/outcomes.svg")
async def outcomes_svg(request: Request) -> Response:
    return await outcomes_file(request, "svg")


async def outcomes_file(request: Request, fmt: str) -> Response:
    """The report as a file (CSV) or its chart (PNG, SVG), from the attendance service."""
    if fmt not in FORMATS:
        raise PageError("Page not found", "There is no page at this address.", status=404)
    c = await console(request, AREA)
    f = await _filters(c, request)
    try:
        body, kind = await c.person.services.download(
            "attendance", "/evaluation/outcomes", c.token(), params=_report_params(f, fmt)
        )
    except ServiceError as error:
        raise PageError(
            "No report to download",
            f"{error.detail or 'The report could not be made'}. Change the filters and try again.",
            status=error.status if error.status in (404, 422) else 400,
            next_href=f"/console/evaluation?{_query(f)}",
            next_label="Back to the report",
        ) from None
    disposition = "attachment" if fmt == "csv" else "inline"
    stem = "outcomes-" + f["year"] + ("-" + f["scheme"] if f["scheme"] else "")
    safe = "".join(ch for ch in stem if ch.isalnum() or ch in "-_")
    return Response(
        body,
        media_type=kind,
        headers={"Content-Disposition": f'{disposition}; filename="{safe}.{fmt}"'},
    )


# -- imports of enrolments and results, in the background --------------------------------------


@dataclass
class ImportJob:
    """One import: checked first (the service's dry run), then, confirmed, run. The page polls
    the job while it runs; other pages are served meanwhile."""

    job_id: str
    owner: str
    kind: str
    name: str
    data: bytes
    replace: bool
    prior_measure: str
    #: checking, checked, rejected, importing, imported, failed
    state: str = "checking"
    summary: dict[str, Any] | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    started: float = field(default_factory=time.monotonic)
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.state in ("checking", "importing")


def _jobs(request: Request) -> dict[str, ImportJob]:
    state = request.app.state
    if not hasattr(state, "evaluation_imports"):
        state.evaluation_imports = {}
    jobs: dict[str, ImportJob] = state.evaluation_imports
    return jobs


async def _run(job: ImportJob, services: Services, token: str, dry_run: bool) -> None:
    params = {"replace": "true" if job.replace else "false", "dry_run": str(dry_run).lower()}
    if job.kind == "enrolments" and job.prior_measure:
        params["prior_measure"] = job.prior_measure
    try:
        job.summary = await services.call(
            "attendance",
            "POST",
            f"/evaluation/{job.kind}",
            token,
            params=params,
            content=job.data,
            timeout=IMPORT_TIMEOUT_SECONDS,
        )
        job.state = "checked" if dry_run else "imported"
    except ServiceError as error:
        job.state = "rejected"
        job.message = error.detail
        body = error.body if isinstance(error.body, dict) else {}
        job.errors = list(body.get("errors") or [])
    except ServiceUnavailable:
        job.state = "failed"
        job.message = "The attendance service did not answer in time. Nothing was imported."
    except Exception:  # the page must not wait for ever on a job that died
        log.exception("import %s failed", job.job_id)
        job.state = "failed"
        job.message = "The import failed unexpectedly. Nothing was imported."
    if not dry_run or job.state != "checked":
        job.data = b""  # done with the file


def _start(job: ImportJob, c: Console, dry_run: bool) -> None:
    job.state = "checking" if dry_run else "importing"
    job.task = asyncio.create_task(_run(job, c.person.services, c.token(), dry_run))


def _forget_old(jobs: dict[str, ImportJob]) -> None:
    done = [j for j in jobs.values() if not j.running]
    for job in sorted(done, key=lambda j: j.started)[: max(0, len(jobs) - KEEP_JOBS)]:
        jobs.pop(job.job_id, None)


@router.get("/console/evaluation/imports")
async def imports(request: Request) -> Response:
    """The import form and this person's recent imports; `?job=` one import's progress (the
    page refreshes itself while the import runs)."""
    c = await console(request, AREA)
    c.require_coordinator("import enrolments and results")
    crumbs = [("/console/evaluation", "Evaluation")]
    job_id = request.query_params.get("job", "")
    if job_id:
        job = _job(request, c, job_id)
        return render(
            request,
            c,
            "console/evaluation_import_job.html",
            {
                "title": f"{KINDS[job.kind]}: {job.name}",
                "job": job,
                "kinds": KINDS,
                "seconds": int(time.monotonic() - job.started),
                "crumbs": [*crumbs, ("/console/evaluation/imports", "Imports")],
            },
        )
    mine = [j for j in _jobs(request).values() if j.owner == c.number]
    return render(
        request,
        c,
        "console/evaluation_imports.html",
        {
            "title": "Import enrolments and results",
            "kinds": KINDS,
            "jobs": sorted(mine, key=lambda j: j.started, reverse=True)[:10],
            "crumbs": crumbs,
        },
    )


def _job(request: Request, c: Console, job_id: str) -> ImportJob:
    job = _jobs(request).get(job_id)
    if job is None or job.owner != c.number:
        raise PageError(
            "No such import",
            "This import is not known (the portal keeps the last imports for a while).",
            status=404,
            next_href="/console/evaluation/imports",
            next_label="Back to the imports",
        )
    return job


@router.post("/console/evaluation/imports")
async def start_import(request: Request) -> Response:
    """A file to check (it runs in the background; the page shows its progress), or, with
    `job`, a checked file to import."""
    form = await posted(request)
    c = await console(request, AREA)
    c.require_coordinator("import enrolments and results")
    job_id = text(form, "job", 40)
    if job_id:
        job = _job(request, c, job_id)
        if job.state != "checked":
            raise PageError(
                "This import cannot be started",
                "Only a checked file is imported, once. Nothing was changed.",
                status=409,
                next_href=f"/console/evaluation/imports?job={quote(job_id)}",
                next_label="Back to the import",
            )
        _start(job, c, dry_run=False)
        return RedirectResponse(f"/console/evaluation/imports?job={quote(job_id)}", status_code=303)
    kind = text(form, "kind")
    upload = form.get("file")
    if kind not in KINDS or not isinstance(upload, UploadFile) or not upload.filename:
        raise PageError(
            "Choose what to import and the file",
            "Pick enrolments or results and a CSV file. Nothing was imported.",
            status=422,
            next_href="/console/evaluation/imports",
            next_label="Back to the imports",
        )
    data = await upload.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES or not data.strip():
        raise PageError(
            "This file cannot be imported",
            "The file is empty or larger than 50 MB. Nothing was imported.",
            status=422,
            next_href="/console/evaluation/imports",
            next_label="Back to the imports",
        )
    jobs = _jobs(request)
    _forget_old(jobs)
    job = ImportJob(
        job_id=secrets.token_urlsafe(12),
        owner=c.number,
        kind=kind,
        name=upload.filename[:200],
        data=data,
        replace=text(form, "replace") == "yes",
        prior_measure=text(form, "prior_measure", 100),
    )
    jobs[job.job_id] = job
    _start(job, c, dry_run=True)
    return RedirectResponse(f"/console/evaluation/imports?job={job.job_id}", status_code=303)
