"""Becoming a leader: the open campaign, its person specification in plain words, the
application form, and the student's own applications with their status and the reasons given
(recruitment's API, with the student's own token)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from passhub_portal.clients import ServiceError
from passhub_portal.web import PageError, Person, check_csrf, flash, page, person

router = APIRouter()

HOW = {
    "application": "from your application form",
    "training_day": "at the training day",
    "other_means": "in another way, such as a reference or a conversation with the coordinators",
}
CHECKS = {
    "enrolment": "checked against your student record: your school and course",
    "exam_marks": "checked against your student record: your exam marks",
}
STATUS = {
    "submitted": ("Received", "Your application is being assessed."),
    "withdrawn": ("Withdrawn", "You withdrew this application."),
    "rejected": ("Not successful this time", "The coordinators gave these reasons:"),
    "appointed": ("Appointed", "Congratulations: you are appointed."),
    "stood_down": ("Stood down", "You have stood down from this role."),
}
YEARS = ("1", "2", "3", "4", "5")


def plain(criterion: dict[str, Any]) -> dict[str, Any]:
    """A criterion of the person specification, in words a student reads."""
    how = [HOW.get(a, a) for a in criterion.get("assessed_by") or criterion.get("how_assessed", [])]
    if criterion.get("check") in CHECKS:
        how.insert(0, CHECKS[criterion["check"]])
    return {**criterion, "how": how}


async def _student(request: Request) -> Person:
    p = await person(request, as_leader=False)
    if not p.roles.student:
        raise PageError(
            "This page is for students",
            "Applying to lead PASS is for students. Log in with a student account.",
            status=403,
        )
    return p


async def _campaigns(p: Person) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    campaigns = await p.services.call("recruitment", "GET", "/campaigns", p.token())
    today = date.today().isoformat()
    open_ = [
        c
        for c in campaigns
        if c["status"] == "open" and (not c.get("closes_on") or c["closes_on"] >= today)
    ]
    open_.sort(key=lambda c: c["academic_year"], reverse=True)
    mine = await p.services.call("recruitment", "GET", "/me/applications", p.token())
    return (open_[0] if open_ else None), list(mine)


def _application(a: dict[str, Any]) -> dict[str, Any]:
    title, text = STATUS.get(a["status"], (a["status"].replace("_", " ").title(), ""))
    criteria = [plain(c) for c in a.get("criteria", [])]
    return {
        **a,
        "status_title": title,
        "status_text": text,
        "criteria": criteria,
        "schemes": sorted({x["scheme_id"] for x in a.get("appointments", [])}),
    }


@router.get("/apply")
async def apply_page(request: Request) -> Response:
    p = await _student(request)
    campaign, mine = await _campaigns(p)
    applied = campaign is not None and any(
        a["campaign_id"] == campaign["campaign_id"] and a["status"] != "withdrawn" for a in mine
    )
    spec = [plain(c) for c in campaign["criteria"]] if campaign else []
    return page(
        request,
        "apply.html",
        {
            "title": "Become a leader",
            "campaign": campaign,
            "essential": [c for c in spec if c["importance"] == "essential"],
            "desirable": [c for c in spec if c["importance"] == "desirable"],
            "applications": [_application(a) for a in mine],
            "applied": applied,
            "name": p.identity.name,
            "years": YEARS,
        },
    )


@router.post("/apply")
async def apply(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    p = await _student(request)
    campaign_id = str(form.get("campaign_id") or "")
    year = str(form.get("year_of_study") or "")
    body: dict[str, Any] = {
        "name": str(form.get("name") or "").strip()[:200],
        "email": str(form.get("email") or "").strip()[:320],
        "school": str(form.get("school") or "").strip()[:200],
        "programme": str(form.get("programme") or "").strip()[:200],
        "level": "undergraduate",
        "statement": str(form.get("statement") or "").strip()[:5000],
    }
    if year in YEARS:
        body["year_of_study"] = int(year)
    missing = [
        label
        for key, label in (
            ("name", "your name"),
            ("email", "your email"),
            ("school", "your school"),
        )
        if not body[key]
    ]
    if missing or not campaign_id:
        raise PageError(
            "Please complete the form",
            f"The application needs {', '.join(missing) or 'an open campaign'}. Nothing was sent.",
            status=422,
            next_href="/apply",
            next_label="Back to the form",
        )
    try:
        await p.services.call(
            "recruitment",
            "POST",
            f"/campaigns/{quote(campaign_id)}/applications",
            p.token(),
            json=body,
        )
    except ServiceError as error:
        if error.status in (409, 422):
            raise PageError(
                "Your application was not sent",
                f"{error.detail or 'Check the form and try again.'} Nothing was sent.",
                status=error.status,
                next_href="/apply",
                next_label="Back to the form",
            ) from None
        raise
    flash(request, "Thank you: your application was sent.")
    return RedirectResponse("/apply#mine", status_code=303)
