"""The console's recognition pages: the year's policy in a form, with its versions; every
leader's progress sorted by risk (sessions still needed against sessions left in the rota);
the awards run with a preview first; awards withdrawn with a reason; the certificate batch and
the HEAR and PSA exports. recognition's and sessions' public APIs, with the coordinator's
token."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from passhub_portal.clients import ServiceError
from passhub_portal.console.frame import Column, Console, console, listing, render
from passhub_portal.console.risk import LEVELS, WORDS, by_risk, sessions_left
from passhub_portal.leading import academic_year
from passhub_portal.pages import now
from passhub_portal.web import PageError, check_csrf, flash, local, settings_of

router = APIRouter()

AREA = "recognition"
BASE = "/console/recognition"
YEAR = re.compile(r"^\d{4}-\d{2}$")
KINDS = {"certificate": "Certificate of participation", "psa": "PSA entry", "hear": "HEAR entry"}
#: the requirements the policy form edits: field, label, kind of value
REQUIREMENTS = (
    ("min_sessions", "Sessions delivered, at least", "int"),
    ("min_session_hours", "Hours of sessions, at least", "float"),
    ("min_training_admin_hours", "Training and admin hours, at least", "float"),
    ("min_mentor_meetings", "Mentor meetings, at least", "int"),
    ("not_stood_down_before", "Not stood down before (date)", "date"),
)
EXPORTS = {
    "hear.csv": ("hear", "csv"),
    "hear.json": ("hear", "json"),
    "psa.csv": ("psa", "csv"),
    "psa.json": ("psa", "json"),
}


def _year(request: Request, year: str) -> str:
    return year if YEAR.fullmatch(year) else academic_year(settings_of(request))


def _crumbs(year: str, *extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [(f"{BASE}?year={year}", f"Recognition {year}"), *extra]


async def _gate(request: Request) -> Console:
    c = await console(request, AREA)
    c.require_coordinator("see recognition")
    return c


# -- overview -------------------------------------------------------------------------------------


@router.get(BASE)
async def overview(request: Request, year: str = "") -> Response:
    c = await _gate(request)
    year = _year(request, year)
    policy = await c.call("recognition", "GET", f"/policies/{quote(year)}")
    awards = await c.call("recognition", "GET", "/awards", params={"academic_year": year})
    standing = [a for a in awards if a["status"] == "granted"]
    return render(
        request,
        c,
        "console/recognition_home.html",
        {
            "title": f"Recognition {year}",
            "year": year,
            "policy": policy,
            "kinds": KINDS,
            "granted": {k: sum(a["kind"] == k for a in standing) for k in KINDS},
            "withdrawn": sum(a["status"] == "withdrawn" for a in awards),
        },
    )


# -- policy ----------------------------------------------------------------------------------------


@router.get(f"{BASE}/policy")
async def policy(request: Request, year: str = "") -> Response:
    c = await _gate(request)
    year = _year(request, year)
    settings = settings_of(request)
    current = await c.call("recognition", "GET", f"/policies/{quote(year)}")
    versions = await c.call("recognition", "GET", f"/policies/{quote(year)}/versions")
    return render(
        request,
        c,
        "console/recognition_policy.html",
        {
            "title": f"Recognition policy {year}",
            "year": year,
            "current": current,
            "kinds": KINDS,
            "requirements": REQUIREMENTS,
            "versions": [
                {
                    **v,
                    "when": local(settings, v["set_at"], "%d %B %Y, %H:%M"),
                    "summary": {
                        k: _summary(v["policy"]["awards"][k])
                        for k in KINDS
                        if k in v["policy"]["awards"]
                    },
                }
                for v in reversed(versions)
            ],
            "crumbs": _crumbs(year),
        },
    )


def _summary(rules: dict[str, Any]) -> str:
    if not rules.get("enabled", True):
        return "not offered"
    r = rules["requirements"]
    parts = ["training" if r.get("training") else ""]
    words = {
        "min_sessions": "{} sessions",
        "min_session_hours": "{} hours of sessions",
        "min_training_admin_hours": "{} training and admin hours",
        "min_mentor_meetings": "{} mentor meetings",
        "not_stood_down_before": "not stood down before {}",
    }
    parts += [text.format(r[key]) for key, text in words.items() if r.get(key) is not None]
    return ", ".join(p for p in parts if p) or "no requirement"


@router.post(f"{BASE}/policy")
async def save_policy(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    c = await _gate(request)
    year = _year(request, str(form.get("year") or ""))
    current = await c.call("recognition", "GET", f"/policies/{quote(year)}")
    awards: dict[str, Any] = {}
    problems: list[str] = []
    for kind, title in KINDS.items():
        rules = dict(current["policy"]["awards"][kind])
        rules["enabled"] = form.get(f"{kind}_enabled") == "yes"
        requirements: dict[str, Any] = {"training": form.get(f"{kind}_training") == "yes"}
        for key, label, value_kind in REQUIREMENTS:
            raw = str(form.get(f"{kind}_{key}") or "").strip()
            if not raw:
                requirements[key] = None
                continue
            try:
                if value_kind == "int":
                    requirements[key] = int(raw)
                elif value_kind == "float":
                    requirements[key] = float(raw)
                elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
                    requirements[key] = raw
                else:
                    raise ValueError(raw)
            except ValueError:
                problems.append(f"{title}: “{raw}” is not a value for {label.lower()}")
        rules["requirements"] = requirements
        description = str(form.get(f"{kind}_description") or "").strip()
        if description:
            rules["description"] = description[:400]
        awards[kind] = rules
    if problems:
        flash(request, "; ".join(problems) + ". Nothing was changed.", "bad")
        return RedirectResponse(f"{BASE}/policy?year={year}", status_code=303)
    try:
        saved = await c.call(
            "recognition", "PUT", f"/policies/{quote(year)}", json={"awards": awards}
        )
    except ServiceError as error:
        flash(request, f"{error.detail or 'The policy was refused.'} Nothing was changed.", "bad")
        return RedirectResponse(f"{BASE}/policy?year={year}", status_code=303)
    if saved["version"] == current["version"]:
        flash(request, "Nothing changed: the policy stays at its current version.")
    else:
        flash(request, f"The {year} policy is saved as version {saved['version']}.")
    return RedirectResponse(f"{BASE}/policy?year={year}", status_code=303)


# -- progress by risk ------------------------------------------------------------------------------

PROGRESS_COLUMNS = [
    Column("risk", "Risk", lambda row: row["order"]),
    Column("name", "Leader", lambda row: row["name"]),
    Column("delivered", "Delivered", lambda row: row["delivered"]),
    Column("needed", "Still needed", lambda row: row["needed"]),
    Column("left", "Left in the rota", lambda row: row["left"]),
]


@router.get(f"{BASE}/progress")
async def progress(
    request: Request, year: str = "", level: str = "", sort: str = "", page: str = "1"
) -> Response:
    c = await _gate(request)
    year = _year(request, year)
    settings = settings_of(request)
    everyone = await c.call("recognition", "GET", f"/progress/{quote(year)}")
    schemes = await c.call("sessions", "GET", "/schemes", params={"academic_year": year})
    titles = {s["scheme_id"]: s["title"] for s in schemes}
    rota: list[dict[str, Any]] = []
    at = now()
    for scheme in schemes:
        rota += await c.call(
            "sessions",
            "GET",
            f"/schemes/{quote(scheme['scheme_id'])}/sessions",
            params={"from": at.isoformat(), "include_cancelled": "false"},
        )
    ranked = by_risk(everyone, sessions_left(rota, at))
    counts = {lv: sum(r.level == lv for r in ranked) for lv in LEVELS}
    shown_rows = [r for r in ranked if not level or r.level == level]
    rows = [
        {
            "r": r,
            "order": r.order,
            "name": r.name,
            "delivered": r.delivered,
            "needed": r.needed,
            "left": r.left,
            "schemes": ", ".join(titles.get(s, s) for s in r.schemes),
            "last": local(settings, r.last_rostered, "%d %B") if r.last_rostered else "none",
        }
        for r in shown_rows
    ]
    shown = listing(
        rows,
        PROGRESS_COLUMNS,
        base=f"{BASE}/progress",
        sort=sort,
        page=page,
        default_sort="risk",
        params={"year": year, "level": level if level in LEVELS else ""},
    )
    return render(
        request,
        c,
        "console/recognition_progress.html",
        {
            "title": f"Leaders' progress {year}",
            "year": year,
            "list": shown,
            "counts": counts,
            "words": WORDS,
            "level": level,
            "crumbs": _crumbs(year),
        },
    )


# -- awards ----------------------------------------------------------------------------------------

AWARD_COLUMNS = [
    Column("name", "Leader", lambda a: a["name"]),
    Column("kind", "Award", lambda a: a["kind_title"]),
    Column("status", "Status", lambda a: a["status"]),
    Column("sessions", "Sessions", lambda a: a["sessions_delivered"]),
    Column("granted", "Granted", lambda a: a["granted_at"]),
]


@router.get(f"{BASE}/awards")
async def awards(request: Request, year: str = "", sort: str = "", page: str = "1") -> Response:
    c = await _gate(request)
    year = _year(request, year)
    settings = settings_of(request)
    found = await c.call("recognition", "GET", "/awards", params={"academic_year": year})
    for a in found:
        a["granted_on"] = local(settings, a["granted_at"], "%d %B %Y")
    runs = await c.call("recognition", "GET", "/awards/runs", params={"academic_year": year})
    batches = await c.call("recognition", "GET", f"/certificates/{quote(year)}/batches")
    last_run = runs[0] if runs else None
    last_batch = batches[0] if batches else None
    shown = listing(
        found,
        AWARD_COLUMNS,
        base=f"{BASE}/awards",
        sort=sort,
        page=page,
        default_sort="name",
        params={"year": year},
    )
    return render(
        request,
        c,
        "console/recognition_awards.html",
        {
            "title": f"Awards {year}",
            "year": year,
            "list": shown,
            "exports": EXPORTS,
            "last_run": last_run,
            "run_href": _run_page(year, last_run["run_id"]) if last_run else "",
            "last_batch": last_batch,
            "batch_href": _batch_page(year, last_batch["batch_id"]) if last_batch else "",
            "under_way": UNDER_WAY,
            "crumbs": _crumbs(year),
        },
    )


OUTCOMES = {"grant": 0, "withhold": 1, "unchanged": 2}
PREVIEW_COLUMNS = [
    Column(
        "outcome",
        "The run would",
        lambda line: (OUTCOMES[line["outcome"]], line["name"].casefold(), line["kind"]),
    ),
    Column("name", "Leader", lambda line: (line["name"].casefold(), line["kind"])),
    Column("award", "Award", lambda line: (line["title"], line["name"].casefold())),
]


@router.get(f"{BASE}/awards/preview")
async def preview(
    request: Request, year: str = "", show: str = "", sort: str = "", page: str = "1"
) -> Response:
    c = await _gate(request)
    year = _year(request, year)
    found = await c.call(
        "recognition", "GET", "/awards/runs/preview", params={"academic_year": year}
    )
    lines = found["lines"]
    if show in OUTCOMES:
        lines = [line for line in lines if line["outcome"] == show]
    shown = listing(
        lines,
        PREVIEW_COLUMNS,
        base=f"{BASE}/awards/preview",
        sort=sort,
        page=page,
        default_sort="outcome",
        params={"year": year, "show": show if show in OUTCOMES else ""},
    )
    return render(
        request,
        c,
        "console/recognition_preview.html",
        {
            "title": f"Awards run {year}: preview",
            "year": year,
            "preview": found,
            "list": shown,
            "show": show,
            "crumbs": _crumbs(year, (f"{BASE}/awards?year={year}", "Awards")),
        },
    )


#: a job's states while it is under way (recognition works it off the request)
UNDER_WAY = ("queued", "running")


def _under_way_id(error: ServiceError) -> str | None:
    """The id of the job of the same kind under way, from recognition's 409 `under_way`."""
    if error.status != 409 or error.code != "under_way" or not isinstance(error.body, dict):
        return None
    found = (error.body.get("errors") or [{}])[0].get("id")
    return str(found) if found else None


@router.post(f"{BASE}/awards/run")
async def run(request: Request) -> Response:
    """Start the awards run (recognition works it off the request) and go to its progress."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    c = await _gate(request)
    year = _year(request, str(form.get("year") or ""))
    try:
        started = await c.call("recognition", "POST", "/awards/runs", json={"academic_year": year})
    except ServiceError as error:
        running = _under_way_id(error)
        if running is not None:
            flash(request, "An awards run of this year is already under way: here it is.")
            return RedirectResponse(_run_page(year, running), status_code=303)
        flash(request, f"{error.detail or 'The run was refused.'} Nothing was changed.", "bad")
        return RedirectResponse(f"{BASE}/awards/preview?year={year}", status_code=303)
    return RedirectResponse(_run_page(year, started["run_id"]), status_code=303)


def _run_page(year: str, run_id: str) -> str:
    return f"{BASE}/awards/runs/{quote(run_id)}?{urlencode({'year': year})}"


def _batch_page(year: str, batch_id: str) -> str:
    return f"{BASE}/certificates/{quote(batch_id)}?{urlencode({'year': year})}"


def _job(
    state: str, done: int, total: int, unit: str, href: str, request: Request, at: str | None
) -> dict[str, Any]:
    """What the progress part of a job's page shows."""
    settings = settings_of(request)
    if state == "queued" or not total:
        text = "Waiting to begin…" if state == "queued" else f"0 {unit}"
    else:
        text = f"{done} of {total} {unit}"
    return {
        "state": state,
        "under_way": state in UNDER_WAY,
        "done": done,
        "total": total,
        "text": text,
        "percent": round(100 * done / total) if total else 0,
        "href": href,
        "finished": local(settings, at, "%A %d %B %Y, %H:%M") if at else "",
    }


@router.get(BASE + "/awards/runs/{run_id}")
async def run_progress(request: Request, run_id: str, year: str = "") -> Response:
    """An awards run: how far it is (a progress bar the page's script keeps up to date, or
    the refresh link), then what it decided."""
    c = await _gate(request)
    year = _year(request, year)
    found = await c.get_one(
        "recognition",
        f"/awards/runs/{quote(run_id)}",
        PageError(
            "Page not found",
            "There is no such awards run.",
            status=404,
            next_href=f"{BASE}/awards?year={year}",
            next_label="Go to the awards",
        ),
    )
    year = found["academic_year"]
    return render(
        request,
        c,
        "console/recognition_run.html",
        {
            "title": f"Awards run {year}",
            "year": year,
            "run": found,
            "job": _job(
                found["state"],
                found["leaders_done"],
                found["leaders_total"],
                "leaders decided",
                _run_page(year, run_id),
                request,
                found["finished_at"],
            ),
            "crumbs": _crumbs(year, (f"{BASE}/awards?year={year}", "Awards")),
        },
    )


@router.post(BASE + "/awards/{award_id}/withdraw")
async def withdraw(request: Request, award_id: str) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    c = await _gate(request)
    year = _year(request, str(form.get("year") or ""))
    reason = str(form.get("reason") or "").strip()[:1000]
    back = RedirectResponse(f"{BASE}/awards?{urlencode({'year': year})}", status_code=303)
    if not reason:
        flash(request, "Give the reason for withdrawing the award. Nothing was changed.", "bad")
        return back
    try:
        done = await c.call(
            "recognition",
            "POST",
            f"/awards/{quote(award_id)}/withdraw",
            json={"reason": reason},
        )
        flash(request, f"{done['name']}'s {done['kind_title']} is withdrawn.")
    except ServiceError as error:
        flash(request, f"{error.detail or 'That did not work.'} Nothing was changed.", "bad")
    return back


async def _download(c: Console, path: str, filename: str, year: str) -> Response:
    try:
        raw, kind = await c.person.services.download("recognition", path, c.token())
    except ServiceError as error:
        if error.status not in (404, 409, 422):
            raise
        raise PageError(
            "There is nothing to download yet",
            f"{error.detail or 'No award stands for this year.'} Run the awards first.",
            status=error.status,
            next_href=f"{BASE}/awards?year={year}",
            next_label="Go to the awards",
        ) from None
    return Response(
        raw,
        media_type=kind,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(f"{BASE}/certificates.pdf")
async def certificates(request: Request, year: str = "") -> Response:
    c = await _gate(request)
    year = _year(request, year)
    return await _download(c, f"/certificates/{quote(year)}", f"certificates-{year}.pdf", year)


@router.post(f"{BASE}/certificates")
async def make_certificates(request: Request) -> Response:
    """Start making the year's certificate batch (off the request) and go to its progress."""
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    c = await _gate(request)
    year = _year(request, str(form.get("year") or ""))
    try:
        started = await c.call("recognition", "POST", f"/certificates/{quote(year)}/batches")
    except ServiceError as error:
        making = _under_way_id(error)
        if making is not None:
            flash(request, "The certificates of this year are already being made: here they are.")
            return RedirectResponse(_batch_page(year, making), status_code=303)
        if error.status not in (404, 422):
            raise
        raise PageError(
            "There is nothing to download yet",
            f"{error.detail or 'No certificate stands for this year.'} Run the awards first.",
            status=error.status,
            next_href=f"{BASE}/awards?year={year}",
            next_label="Go to the awards",
        ) from None
    return RedirectResponse(_batch_page(year, started["batch_id"]), status_code=303)


def _no_batch(year: str) -> PageError:
    return PageError(
        "Page not found",
        "There is no such certificate batch.",
        status=404,
        next_href=f"{BASE}/awards?year={year}",
        next_label="Go to the awards",
    )


@router.get(BASE + "/certificates/{batch_id}")
async def certificates_progress(request: Request, batch_id: str, year: str = "") -> Response:
    """A certificate batch: how far it is, then the PDF to download."""
    c = await _gate(request)
    year = _year(request, year)
    found = await c.get_one(
        "recognition", f"/certificates/{quote(year)}/batches/{quote(batch_id)}", _no_batch(year)
    )
    return render(
        request,
        c,
        "console/recognition_certificates.html",
        {
            "title": f"Certificates {year}",
            "year": year,
            "batch": found,
            "job": _job(
                found["state"],
                found["pages_done"],
                found["pages_total"],
                "pages made",
                _batch_page(year, batch_id),
                request,
                found["finished_at"],
            ),
            "crumbs": _crumbs(year, (f"{BASE}/awards?year={year}", "Awards")),
        },
    )


@router.get(BASE + "/certificates/{batch_id}/pdf")
async def certificates_pdf(request: Request, batch_id: str, year: str = "") -> Response:
    """The batch's PDF, once made."""
    c = await _gate(request)
    year = _year(request, year)
    try:
        raw, kind = await c.person.services.download(
            "recognition",
            f"/certificates/{quote(year)}/batches/{quote(batch_id)}/pdf",
            c.token(),
        )
    except ServiceError as error:
        if error.status in (404, 422):
            raise _no_batch(year) from None
        if error.status == 409:
            return RedirectResponse(_batch_page(year, batch_id), status_code=303)
        raise
    return Response(
        raw,
        media_type=kind,
        headers={"Content-Disposition": f'attachment; filename="certificates-{year}.pdf"'},
    )


@router.get(BASE + "/exports/{name}")
async def export(request: Request, name: str, year: str = "") -> Response:
    c = await _gate(request)
    year = _year(request, year)
    if name not in EXPORTS:
        raise PageError("Page not found", "There is no such export.", status=404)
    kind, fmt = EXPORTS[name]
    return await _download(
        c, f"/exports/{quote(year)}/{kind}?format={fmt}", f"{kind}-{year}.{fmt}", year
    )
