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


@router.post(f"{BASE}/awards/run")
async def run(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    c = await _gate(request)
    year = _year(request, str(form.get("year") or ""))
    try:
        done = await c.call("recognition", "POST", "/awards/runs", json={"academic_year": year})
    except ServiceError as error:
        flash(request, f"{error.detail or 'The run was refused.'} Nothing was changed.", "bad")
        return RedirectResponse(f"{BASE}/awards/preview?year={year}", status_code=303)
    flash(
        request,
        f"The awards run is done: {done['granted']} granted, {done['withheld']} withheld, "
        f"{done['unchanged']} leaders unchanged (policy version {done['policy_version']}).",
    )
    return RedirectResponse(f"{BASE}/awards?year={year}", status_code=303)


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
