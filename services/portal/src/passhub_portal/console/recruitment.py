"""The console's recruitment pages: campaigns and their person specification, the student
records import (a preview first, then the import), the applications (a filtered list, one page
per applicant with the evidence beside each criterion, assessment of one applicant and one
criterion for many at once), the shortlist of a scheme, appointment, rejection and stand-down,
and core training. Everything is recruitment's public API, with the staff member's token."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import aiohttp
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from passhub_portal.clients import ServiceError, ServiceUnavailable
from passhub_portal.console.frame import Column, Console, console, listing, render
from passhub_portal.leading import academic_year
from passhub_portal.pages import now
from passhub_portal.web import PageError, check_csrf, flash, local, settings_of

router = APIRouter()

AREA = "recruitment"
BASE = "/console/recruitment"
YEAR = re.compile(r"^\d{4}-\d{2}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
#: the largest student records file the import page takes
MAX_FILE_BYTES = 20 * 1024 * 1024
HOW = {"application": "application", "training_day": "training day", "other_means": "other means"}
CHECKS = {"enrolment": "student record (school, course)", "exam_marks": "student record (marks)"}
STATUSES = {
    "submitted": "In the running",
    "withdrawn": "Withdrawn",
    "rejected": "Rejected",
    "appointed": "Appointed",
    "stood_down": "Stood down",
}
ROLES = {"leader": "Leader", "organiser": "Student organiser"}


def _today(request: Request) -> str:
    """Today on the campus clock, as a date field takes it."""
    return now().astimezone(settings_of(request).tz).date().isoformat()


def _crumbs(*extra: tuple[str, str]) -> list[tuple[str, str]]:
    return [(BASE, "Recruitment"), *extra]


def how_assessed(criterion: dict[str, Any]) -> str:
    listed = criterion.get("how_assessed") or criterion.get("assessed_by") or []
    ways = [HOW.get(a, a) for a in listed]
    if criterion.get("check") in CHECKS:
        ways.insert(0, CHECKS[criterion["check"]])
    return ", ".join(ways)


async def _form(request: Request) -> Any:
    form = await request.form(max_part_size=MAX_FILE_BYTES)
    check_csrf(request, str(form.get("csrf") or ""))
    return form


def _refused(error: ServiceError) -> str:
    return f"{error.detail or 'passhub could not do that.'} Nothing was changed."


async def _campaign(c: Console, campaign_id: str) -> dict[str, Any]:
    found = await c.get_one(
        "recruitment",
        f"/campaigns/{quote(campaign_id)}",
        PageError(
            "There is no such campaign",
            "passhub knows no recruitment campaign at this address.",
            status=404,
            next_href=BASE,
            next_label="See the campaigns",
        ),
    )
    return found


async def _schemes(c: Console, year: str) -> list[dict[str, Any]]:
    """The year's schemes this person may act on (an organiser: their own)."""
    listed = await c.call("sessions", "GET", "/schemes", params={"academic_year": year})
    own = await c.own_schemes() if c.organiser else None
    return sorted(
        (s for s in listed if own is None or s["scheme_id"] in own),
        key=lambda s: str(s.get("title")),
    )


# -- campaigns ------------------------------------------------------------------------------------


@router.get(BASE)
async def campaigns(request: Request) -> Response:
    c = await console(request, AREA)
    settings = settings_of(request)
    listed = await c.call("recruitment", "GET", "/campaigns")
    rows = [
        {
            **x,
            "schools": ", ".join(x["participating_schools"]),
            "opened": local(settings, x["opened_at"], "%d %B %Y"),
        }
        for x in listed
    ]
    return render(
        request,
        c,
        "console/recruitment_campaigns.html",
        {
            "title": "Recruitment",
            "campaigns": rows,
            "next_year": academic_year(settings),
            "default_spec": await c.call("recruitment", "GET", "/person-specification/default"),
            "how_assessed": how_assessed,
        },
    )


@router.post(f"{BASE}/campaigns")
async def open_campaign(request: Request) -> Response:
    form = await _form(request)
    c = await console(request, AREA)
    c.require_coordinator("open a campaign")
    year = str(form.get("academic_year") or "").strip()
    schools = [s.strip() for s in str(form.get("schools") or "").split(",") if s.strip()]
    closes = str(form.get("closes_on") or "").strip()
    problems = []
    if not YEAR.fullmatch(year):
        problems.append("the academic year must look like 2026-27")
    if not schools:
        problems.append("name at least one participating school")
    if closes and not DATE.fullmatch(closes):
        problems.append("the closing date must be a date")
    if problems:
        flash(request, "; ".join(problems).capitalize() + ". Nothing was changed.", "bad")
        return RedirectResponse(f"{BASE}#open", status_code=303)
    body: dict[str, Any] = {"academic_year": year, "participating_schools": schools}
    if closes:
        body["closes_on"] = closes
    try:
        opened = await c.call("recruitment", "POST", "/campaigns", json=body)
    except ServiceError as error:
        flash(request, _refused(error), "bad")
        return RedirectResponse(f"{BASE}#open", status_code=303)
    flash(request, f"The {year} campaign is open.")
    return RedirectResponse(f"{BASE}/{quote(opened['campaign_id'])}", status_code=303)


@router.get(BASE + "/{campaign_id}")
async def campaign(request: Request, campaign_id: str) -> Response:
    c = await console(request, AREA)
    settings = settings_of(request)
    found = await _campaign(c, campaign_id)
    summaries = await c.call("recruitment", "GET", f"/campaigns/{quote(campaign_id)}/applications")
    counts: dict[str, int] = {}
    for a in summaries:
        counts[a["status"]] = counts.get(a["status"], 0) + 1
    return render(
        request,
        c,
        "console/recruitment_campaign.html",
        {
            "title": f"Campaign {found['academic_year']}",
            "campaign": found,
            "opened": local(settings, found["opened_at"], "%d %B %Y"),
            "counts": [(STATUSES.get(k, k), v) for k, v in sorted(counts.items())],
            "essential": [x for x in found["criteria"] if x["importance"] == "essential"],
            "desirable": [x for x in found["criteria"] if x["importance"] == "desirable"],
            "how_assessed": how_assessed,
            "ways": HOW,
            "applied": len(summaries),
            "crumbs": _crumbs(),
        },
    )


def _code(description: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", description.lower()).strip("_")[:40] or "criterion"
    code, n = base, 2
    while code in taken:
        code, n = f"{base}_{n}", n + 1
    return code


@router.post(BASE + "/{campaign_id}/edit")
async def edit_campaign(request: Request, campaign_id: str) -> Response:
    """The campaign's closing date, and, before the first application, its terms and person
    specification (each row: description, essential or desirable, how it is assessed, remove;
    one empty row adds a criterion)."""
    form = await _form(request)
    c = await console(request, AREA)
    c.require_coordinator("change a campaign")
    found = await _campaign(c, campaign_id)
    back = RedirectResponse(f"{BASE}/{quote(campaign_id)}#edit", status_code=303)
    body: dict[str, Any] = {}
    closes = str(form.get("closes_on") or "").strip()
    if form.get("no_closing_date") == "yes":
        body["closes_on"] = None
    elif closes:
        if not DATE.fullmatch(closes):
            flash(request, "The closing date must be a date. Nothing was changed.", "bad")
            return back
        body["closes_on"] = closes
    if form.get("terms") == "yes":
        body["participating_schools"] = [
            x.strip() for x in str(form.get("schools") or "").split(",") if x.strip()
        ]
        for key in ("min_exam_mark", "core_training_hours"):
            value = str(form.get(key) or "").strip()
            if not re.fullmatch(r"\d{1,3}(\.\d{1,2})?", value):
                flash(
                    request, "The mark and the hours must be numbers. Nothing was changed.", "bad"
                )
                return back
            body[key] = value
        criteria: list[dict[str, Any]] = []
        taken = {x["code"] for x in found["criteria"]}
        for i, x in enumerate([*found["criteria"], None]):
            description = " ".join(str(form.get(f"c{i}_description") or "").split())[:500]
            if form.get(f"c{i}_remove") == "yes" or not description:
                continue
            ways = [w for w in HOW if form.get(f"c{i}_{w}") == "yes"]
            criterion: dict[str, Any] = {
                "code": x["code"] if x else _code(description, taken),
                "description": description,
                "importance": "essential"
                if form.get(f"c{i}_importance") == "essential"
                else "desirable",
                "assessed_by": ways,
            }
            if x and x.get("check"):
                criterion["check"] = x["check"]
            criteria.append(criterion)
        body["criteria"] = criteria
    if not body:
        flash(request, "Nothing to change.", "bad")
        return back
    try:
        await c.call("recruitment", "PATCH", f"/campaigns/{quote(campaign_id)}", json=body)
        flash(request, "The campaign is changed.")
    except ServiceError as error:
        flash(request, _refused(error), "bad")
    return back


@router.post(BASE + "/{campaign_id}/close")
async def close_campaign(request: Request, campaign_id: str) -> Response:
    await _form(request)
    c = await console(request, AREA)
    c.require_coordinator("close a campaign")
    try:
        await c.call("recruitment", "POST", f"/campaigns/{quote(campaign_id)}/close")
        flash(request, "The campaign is closed: it takes no more applications.")
    except ServiceError as error:
        flash(request, _refused(error), "bad")
    return RedirectResponse(f"{BASE}/{quote(campaign_id)}", status_code=303)


# -- student records -------------------------------------------------------------------------------


@router.get(f"{BASE}/records/import")
async def records(request: Request) -> Response:
    c = await console(request, AREA)
    c.require_coordinator("import student records")
    settings = settings_of(request)
    imports = await c.call("recruitment", "GET", "/records/imports")
    return render(
        request,
        c,
        "console/recruitment_records.html",
        {
            "title": "Student records",
            "imports": [
                {**i, "when": local(settings, i["imported_at"], "%d %B %Y, %H:%M")}
                for i in imports[:20]
            ],
            "crumbs": _crumbs(),
        },
    )


async def _file_text(form: Any) -> tuple[str, str]:
    upload = form.get("file")
    if upload is not None and hasattr(upload, "read"):
        raw = await upload.read(MAX_FILE_BYTES + 1)
        name = str(getattr(upload, "filename", "") or "upload.csv")
    else:
        raw = str(form.get("content") or "").encode()
        name = str(form.get("source") or "upload.csv")
    if not raw:
        raise PageError(
            "Choose a file first",
            "No file was sent. Nothing was imported.",
            status=422,
            next_href=f"{BASE}/records/import",
            next_label="Back to the import",
        )
    if len(raw) > MAX_FILE_BYTES:
        raise PageError(
            "This file is too large",
            "The console takes files of up to 20 MB. Split the export and import each part. "
            "Nothing was imported.",
            status=413,
            next_href=f"{BASE}/records/import",
            next_label="Back to the import",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PageError(
            "This file is not UTF-8 text",
            "Save the export as CSV (UTF-8) and try again. Nothing was imported.",
            status=422,
            next_href=f"{BASE}/records/import",
            next_label="Back to the import",
        ) from None
    return text, name[:200]


async def _send_csv(
    c: Console, path: str, text: str, params: dict[str, str] | None = None
) -> tuple[int, Any]:
    """recruitment's CSV routes take the file as the body (`text/csv`): the status and the
    JSON answer, a refusal (422, every problem by line) included."""
    services = c.person.services
    try:
        async with services.http.post(
            f"{services.bases['recruitment']}{path}",
            data=text.encode(),
            params=params,
            headers={"Authorization": f"Bearer {c.token()}", "Content-Type": "text/csv"},
        ) as response:
            status = response.status
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        raise ServiceUnavailable("recruitment") from None
    if status >= 500:
        raise ServiceUnavailable("recruitment")
    if status in (401, 403):
        raise ServiceError(status, str(status), "")
    return status, body


@router.post(f"{BASE}/records/preview")
async def preview_records(request: Request) -> Response:
    form = await _form(request)
    c = await console(request, AREA)
    c.require_coordinator("import student records")
    text, name = await _file_text(form)
    status, seen = await _send_csv(c, "/records/imports/preview", text)
    if status != 200:
        raise PageError("That did not work", "passhub could not read the file.", status=400)
    return render(
        request,
        c,
        "console/recruitment_preview.html",
        {
            "title": "Check the import",
            "seen": seen,
            "content": text,
            "source": name,
            "crumbs": _crumbs((f"{BASE}/records/import", "Student records")),
        },
    )


@router.post(f"{BASE}/records/import")
async def import_records(request: Request) -> Response:
    form = await _form(request)
    c = await console(request, AREA)
    c.require_coordinator("import student records")
    text, name = await _file_text(form)
    status, done = await _send_csv(c, "/records/imports", text, {"source": name})
    if status == 201:
        flash(
            request,
            f"Imported {done['rows']} student records from {name}; "
            f"{len(done.get('reassessed', []))} applications were checked again.",
        )
    else:
        problems = done.get("error_count") or len(done.get("errors") or [])
        flash(
            request,
            f"The file was not imported ({problems} problems). Preview it to see each one. "
            "Nothing was changed.",
            "bad",
        )
    return RedirectResponse(f"{BASE}/records/import", status_code=303)


# -- applications -------------------------------------------------------------------------------

APPLICATION_COLUMNS = [
    Column("name", "Name", lambda r: r["name"]),
    Column("school", "School", lambda r: r["school"]),
    Column("status", "Status", lambda r: r["status"]),
    Column("essentials", "Essentials met", lambda r: r["essentials_met"]),
    Column("desirables", "Desirables met", lambda r: r["desirables_met"]),
    Column("pending", "To assess", lambda r: r["pending"]),
    Column("submitted", "Applied", lambda r: r["submitted_at"]),
]


async def _organiser_may_see(c: Console, application: dict[str, Any]) -> bool:
    if not c.organiser:
        return True
    own = await c.own_schemes()
    held = {a["scheme_id"] for a in application.get("appointments", [])}
    return bool(own & (set(application.get("preferred_schemes", [])) | held))


@router.get(BASE + "/{campaign_id}/applications")
async def applications(
    request: Request,
    campaign_id: str,
    scheme: str = "",
    school: str = "",
    status: str = "",
    essentials: str = "",
    sort: str = "",
    page: str = "1",
) -> Response:
    c = await console(request, AREA)
    found = await _campaign(c, campaign_id)
    schemes = await _schemes(c, found["academic_year"])
    params: dict[str, str] = {}
    if scheme:
        await c.require_scheme(scheme)
        params["scheme"] = scheme
    if school in found["participating_schools"]:
        params["school"] = school
    if status in STATUSES:
        params["status"] = status
    if essentials in ("missing", "met"):
        params["essentials_missing"] = "true" if essentials == "missing" else "false"
    rows = await c.call(
        "recruitment", "GET", f"/campaigns/{quote(campaign_id)}/applications", params=params
    )
    if c.organiser and not scheme:
        own = await c.own_schemes()
        rows = [r for r in rows if own & set(r.get("preferred_schemes", []))]
    for r in rows:
        r["status_text"] = STATUSES.get(r["status"], r["status"])
        r["submitted_on"] = r["submitted_at"][:10]
    shown = listing(
        rows,
        APPLICATION_COLUMNS,
        base=f"{BASE}/{quote(campaign_id)}/applications",
        sort=sort,
        page=page,
        default_sort="submitted",
        params={"scheme": scheme, "school": school, "status": status, "essentials": essentials},
    )
    return render(
        request,
        c,
        "console/recruitment_applications.html",
        {
            "title": f"Applications {found['academic_year']}",
            "campaign": found,
            "list": shown,
            "schemes": schemes,
            "statuses": STATUSES,
            "chosen": {
                "scheme": scheme,
                "school": school,
                "status": status,
                "essentials": essentials,
            },
            "crumbs": _crumbs(
                (f"{BASE}/{quote(campaign_id)}", f"Campaign {found['academic_year']}")
            ),
        },
    )


async def _application(c: Console, application_id: str) -> dict[str, Any]:
    not_yours = PageError(
        "This is not one of your schemes' applicants",
        "Organisers see the applicants to the schemes they organise. Nothing was changed.",
        status=403,
        next_href=BASE,
        next_label="Back to recruitment",
    )
    try:
        found = await c.get_one(
            "recruitment",
            f"/applications/{quote(application_id)}",
            PageError(
                "There is no such application",
                "passhub knows no application at this address.",
                status=404,
                next_href=BASE,
                next_label="Back to recruitment",
            ),
        )
    except ServiceError as error:
        # recruitment refuses an organiser an application outside their schemes
        if error.status == 403:
            raise not_yours from None
        raise
    if not await _organiser_may_see(c, found):
        raise not_yours
    return found


@router.get(BASE + "/applications/{application_id}")
async def applicant(request: Request, application_id: str) -> Response:
    c = await console(request, AREA)
    a = await _application(c, application_id)
    record = None
    if c.coordinator:
        try:
            record = await c.call("recruitment", "GET", f"/records/{quote(a['student_number'])}")
        except ServiceError as error:
            if error.status != 404:
                raise
    titles = {s["scheme_id"]: s["title"] for s in await _schemes(c, a["academic_year"])}
    criteria = []
    for x in a["criteria"]:
        criteria.append(
            {
                **x,
                "how": how_assessed(x),
                "by_record": x.get("check") is not None,
                "state": "met" if x["met"] else ("not met" if x["met"] is False else "to assess"),
            }
        )
    return render(
        request,
        c,
        "console/recruitment_applicant.html",
        {
            "title": a["name"],
            "a": a,
            "status_text": STATUSES.get(a["status"], a["status"]),
            "criteria": criteria,
            "record": record,
            "schemes": titles,
            "roles": ROLES,
            "today": _today(request),
            "crumbs": _crumbs(
                (f"{BASE}/{quote(a['campaign_id'])}", f"Campaign {a['academic_year']}"),
                (f"{BASE}/{quote(a['campaign_id'])}/applications", "Applications"),
            ),
        },
    )


def _back(application_id: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"{BASE}/applications/{quote(application_id)}{anchor}", status_code=303)


@router.post(BASE + "/applications/{application_id}/assess")
async def assess(request: Request, application_id: str) -> Response:
    form = await _form(request)
    c = await console(request, AREA)
    a = await _application(c, application_id)
    outcomes = []
    for x in a["criteria"]:
        choice = str(form.get(f"met_{x['code']}") or "")
        note = str(form.get(f"note_{x['code']}") or "").strip()[:2000]
        wanted = {"met": True, "not_met": False}.get(choice)
        if x.get("check") is not None:
            # what the student record decides changes only with a reason (audited)
            reason = str(form.get(f"override_{x['code']}") or "").strip()[:2000]
            if wanted is not None and reason:
                outcomes.append(
                    {"code": x["code"], "met": wanted, "note": note, "override_reason": reason}
                )
            continue
        if wanted is None or (wanted == x["met"] and note == (x.get("evidence") or "")):
            continue
        outcomes.append({"code": x["code"], "met": wanted, "note": note})
    if not outcomes:
        flash(request, "Nothing to record: no criterion was changed.", "bad")
        return _back(application_id, "#assess")
    try:
        await c.call(
            "recruitment",
            "POST",
            f"/applications/{quote(application_id)}/assessments",
            json={"outcomes": outcomes},
        )
        flash(request, f"Recorded {len(outcomes)} criteria for {a['name']}.")
    except ServiceError as error:
        flash(request, _refused(error), "bad")
    return _back(application_id, "#assess")


@router.post(BASE + "/applications/{application_id}/appoint")
async def appoint(request: Request, application_id: str) -> Response:
    form = await _form(request)
    c = await console(request, AREA)
    c.require_coordinator("appoint")
    a = await _application(c, application_id)
    role = str(form.get("role") or "")
    schemes = [str(s) for s in form.getlist("schemes")]
    when = str(form.get("appointed_on") or "").strip()
    if role not in ROLES or not schemes or (when and not DATE.fullmatch(when)):
        flash(request, "Choose the role and at least one scheme. Nothing was changed.", "bad")
        return _back(application_id, "#appoint")
    body: dict[str, Any] = {"role": role, "schemes": schemes}
    if when:
        body["appointed_on"] = when
    try:
        await c.call(
            "recruitment", "POST", f"/applications/{quote(application_id)}/appointments", json=body
        )
        flash(request, f"{a['name']} is appointed {ROLES[role].lower()}.")
    except ServiceError as error:
        flash(request, _refused(error), "bad")
    return _back(application_id, "#appoint")


@router.post(BASE + "/applications/{application_id}/reject")
async def reject(request: Request, application_id: str) -> Response:
    form = await _form(request)
    c = await console(request, AREA)
    c.require_coordinator("reject an application")
    a = await _application(c, application_id)
    reasons = [r.strip()[:1000] for r in str(form.get("reasons") or "").splitlines() if r.strip()]
    if not reasons:
        flash(
            request, "Give at least one reason: the applicant reads it. Nothing was changed.", "bad"
        )
        return _back(application_id, "#reject")
    try:
        await c.call(
            "recruitment",
            "POST",
            f"/applications/{quote(application_id)}/reject",
            json={"reasons": reasons[:20]},
        )
        flash(request, f"{a['name']}'s application is rejected; they can read the reasons.")
    except ServiceError as error:
        flash(request, _refused(error), "bad")
    return _back(application_id, "#reject")


@router.post(BASE + "/applications/{application_id}/stand-down")
async def stand_down(request: Request, application_id: str) -> Response:
    form = await _form(request)
    c = await console(request, AREA)
    c.require_coordinator("stand someone down")
    a = await _application(c, application_id)
    when = str(form.get("effective_from") or "").strip()
    reason = str(form.get("reason") or "").strip()[:2000]
    if not DATE.fullmatch(when) or not reason:
        flash(request, "Give the date it takes effect and the reason. Nothing was changed.", "bad")
        return _back(application_id, "#stand-down")
    try:
        await c.call(
            "recruitment",
            "POST",
            f"/applications/{quote(application_id)}/stand-down",
            json={"effective_from": when, "reason": reason},
        )
        flash(request, f"{a['name']} is stood down from {when}.")
    except ServiceError as error:
        flash(request, _refused(error), "bad")
    return _back(application_id, "#stand-down")


# -- one criterion for many ---------------------------------------------------------------------


@router.get(BASE + "/{campaign_id}/bulk")
async def bulk(request: Request, campaign_id: str, code: str = "", scheme: str = "") -> Response:
    c = await console(request, AREA)
    found = await _campaign(c, campaign_id)
    assessable = [x for x in found["criteria"] if x.get("check") is None]
    chosen = next(
        (x for x in assessable if x["code"] == code), assessable[0] if assessable else None
    )
    params = {"status": "submitted"}
    if scheme:
        await c.require_scheme(scheme)
        params["scheme"] = scheme
    rows = await c.call(
        "recruitment", "GET", f"/campaigns/{quote(campaign_id)}/applications", params=params
    )
    if c.organiser and not scheme:
        own = await c.own_schemes()
        rows = [r for r in rows if own & set(r.get("preferred_schemes", []))]
    rows.sort(key=lambda r: str(r["name"]).casefold())
    return render(
        request,
        c,
        "console/recruitment_bulk.html",
        {
            "title": "Record one criterion for many",
            "campaign": found,
            "criteria": assessable,
            "chosen": chosen,
            "applicants": rows,
            "schemes": await _schemes(c, found["academic_year"]),
            "scheme": scheme,
            "how_assessed": how_assessed,
            "crumbs": _crumbs(
                (f"{BASE}/{quote(campaign_id)}", f"Campaign {found['academic_year']}")
            ),
        },
    )


@router.post(BASE + "/{campaign_id}/bulk")
async def record_bulk(request: Request, campaign_id: str) -> Response:
    form = await _form(request)
    c = await console(request, AREA)
    code = str(form.get("code") or "")
    note = str(form.get("note") or "").strip()[:2000]
    outcomes = []
    for key, value in form.multi_items():
        if key.startswith("outcome_") and value in ("met", "not_met"):
            outcomes.append(
                {"application_id": key[len("outcome_") :], "met": value == "met", "note": note}
            )
    back = RedirectResponse(f"{BASE}/{quote(campaign_id)}/bulk?code={quote(code)}", status_code=303)
    if not outcomes:
        flash(
            request, "Choose met or not met for at least one applicant. Nothing was changed.", "bad"
        )
        return back
    if c.organiser:
        for o in outcomes:
            await _application(c, o["application_id"])
    try:
        await c.call(
            "recruitment",
            "POST",
            f"/campaigns/{quote(campaign_id)}/criteria/{quote(code)}/outcomes",
            json={"outcomes": outcomes},
        )
        flash(request, f"Recorded for {len(outcomes)} applicants.")
    except ServiceError as error:
        flash(request, _refused(error), "bad")
    return back


# -- shortlist ----------------------------------------------------------------------------------


@router.get(BASE + "/{campaign_id}/shortlist")
async def shortlist(request: Request, campaign_id: str, scheme: str = "") -> Response:
    c = await console(request, AREA)
    found = await _campaign(c, campaign_id)
    schemes = await _schemes(c, found["academic_year"])
    if not scheme and schemes:
        scheme = schemes[0]["scheme_id"]
    if scheme:
        await c.require_scheme(scheme)
    ranked = (
        await c.call(
            "recruitment",
            "GET",
            f"/campaigns/{quote(campaign_id)}/shortlist",
            params={"scheme": scheme},
        )
        if scheme
        else []
    )
    appointable: list[dict[str, Any]] = []
    apart: list[dict[str, Any]] = []
    for entry in ranked:
        a = entry["application"]
        why = []
        missing = a["essentials_total"] - a["essentials_met"]
        if missing:
            why.append(f"{missing} essential{'s' if missing != 1 else ''} not met yet")
        if a["pending"]:
            why.append(f"{a['pending']} to assess")
        row = {"rank": entry["rank"], **a, "why": "; ".join(why) or "see the application"}
        (appointable if a["appointable"] else apart).append(row)
    return render(
        request,
        c,
        "console/recruitment_shortlist.html",
        {
            "title": f"Shortlist {found['academic_year']}",
            "campaign": found,
            "schemes": schemes,
            "scheme": scheme,
            "appointable": appointable,
            "apart": apart,
            "crumbs": _crumbs(
                (f"{BASE}/{quote(campaign_id)}", f"Campaign {found['academic_year']}")
            ),
        },
    )


# -- training ------------------------------------------------------------------------------------


@router.get(BASE + "/{campaign_id}/training")
async def training(request: Request, campaign_id: str, sort: str = "", page: str = "1") -> Response:
    c = await console(request, AREA)
    found = await _campaign(c, campaign_id)
    sessions = await c.call(
        "recruitment", "GET", "/training-sessions", params={"academic_year": found["academic_year"]}
    )
    standings = await c.call(
        "recruitment",
        "GET",
        f"/campaigns/{quote(campaign_id)}/training",
        params={"incomplete": "true"},
    )
    if c.organiser:
        own = await c.own_schemes()
        mine = await c.call("recruitment", "GET", f"/campaigns/{quote(campaign_id)}/applications")
        allowed = {a["application_id"] for a in mine if own & set(a.get("preferred_schemes", []))}
        standings = [s for s in standings if s["application_id"] in allowed]
    for s in standings:
        s["status_text"] = STATUSES.get(s["status"], s["status"])
        s["hours"] = float(s["core_hours"])
    shown = listing(
        standings,
        [
            Column("name", "Name", lambda r: r["name"]),
            Column("status", "Status", lambda r: r["status_text"]),
            Column("hours", "Core hours", lambda r: r["hours"]),
        ],
        base=f"{BASE}/{quote(campaign_id)}/training",
        sort=sort,
        page=page,
        default_sort="hours",
    )
    return render(
        request,
        c,
        "console/recruitment_training.html",
        {
            "title": f"Training {found['academic_year']}",
            "campaign": found,
            "sessions": sessions,
            "list": shown,
            "today": _today(request),
            "crumbs": _crumbs(
                (f"{BASE}/{quote(campaign_id)}", f"Campaign {found['academic_year']}")
            ),
        },
    )


@router.post(BASE + "/{campaign_id}/training")
async def add_training(request: Request, campaign_id: str) -> Response:
    form = await _form(request)
    c = await console(request, AREA)
    found = await _campaign(c, campaign_id)
    title = str(form.get("title") or "").strip()[:200]
    held = str(form.get("held_on") or "").strip()
    hours = str(form.get("hours") or "").strip()
    back = RedirectResponse(f"{BASE}/{quote(campaign_id)}/training", status_code=303)
    if not title or not DATE.fullmatch(held) or not re.fullmatch(r"\d{1,3}(\.\d{1,2})?", hours):
        flash(request, "Give the title, the date and the hours. Nothing was changed.", "bad")
        return back
    try:
        await c.call(
            "recruitment",
            "POST",
            "/training-sessions",
            json={
                "academic_year": found["academic_year"],
                "title": title,
                "held_on": held,
                "hours": hours,
                "core": form.get("core") == "yes",
            },
        )
        flash(request, f"The training session “{title}” is recorded.")
    except ServiceError as error:
        flash(request, _refused(error), "bad")
    return back


@router.post(BASE + "/{campaign_id}/training/{training_id}/completions")
async def completions(request: Request, campaign_id: str, training_id: str) -> Response:
    form = await _form(request)
    c = await console(request, AREA)
    numbers = [n for n in re.split(r"[\s,;]+", str(form.get("numbers") or "")) if n]
    back = RedirectResponse(f"{BASE}/{quote(campaign_id)}/training", status_code=303)
    bad = [n for n in numbers if not NUMBER.fullmatch(n)]
    if not numbers or bad:
        flash(
            request,
            f"Give student numbers, one a line{(': not ' + ', '.join(bad[:3])) if bad else ''}. "
            "Nothing was changed.",
            "bad",
        )
        return back
    try:
        await c.call(
            "recruitment",
            "POST",
            f"/training-sessions/{quote(training_id)}/completions",
            json={"completions": [{"student_number": n} for n in numbers]},
        )
        flash(request, f"Recorded {len(numbers)} attendances at the training session.")
    except ServiceError as error:
        flash(request, _refused(error), "bad")
    return back
