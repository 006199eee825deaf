"""The annual scheme report in the portal: the page (figures as tables, charts as images, the
commentary in words) and its downloads (PDF, CSV, JSON), all from the attendance service's
`GET /annual/report` with the reader's own token, so the service's rules decide what each
reader gets: coordinators everything, organisers the schemes they organise, academics every
scheme without the feedback comments."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from passhub_portal.clients import ServiceError
from passhub_portal.leading import academic_year
from passhub_portal.web import PageError, Person, page, person, settings_of

router = APIRouter()

READERS = ("coordinator", "organiser", "academic")
YEAR = re.compile(r"^\d{4}-\d{2}$")
SCHEME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,60}$")
FORMATS = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8", "json": "application/json"}
MODES = {"opt_in": "opt-in", "opt_out": "opt-out (timetabled)"}
AWARDS = {"certificate": "Certificate", "psa": "Professional skills award", "hear": "HEAR entry"}


async def _reader(request: Request) -> Person:
    p = await person(request, as_leader=False)
    if not any(role in READERS for role in p.roles.staff):
        raise PageError(
            "Not for your account",
            "The annual report is for PASS coordinators, scheme organisers and academics.",
            status=403,
            next_href="/",
            next_label="Back to the start",
        )
    return p


def _query(request: Request, year: str, scheme: str) -> tuple[str, str]:
    year = year.strip() or academic_year(settings_of(request))
    scheme = scheme.strip()
    if not YEAR.match(year):
        raise PageError(
            "That is not an academic year",
            f"Write the academic year like 2025-26 ({year!r} is not).",
            status=422,
            next_href="/annual",
            next_label="Back to this year's report",
        )
    if scheme and not SCHEME.match(scheme):
        raise PageError(
            "That is not a scheme",
            "Write a scheme's code (MATHS) or id (2025-26-MATHS), or leave it empty.",
            status=422,
            next_href=f"/annual?year={year}",
            next_label="Back to the report of every scheme",
        )
    return year, scheme


def _refused(error: ServiceError, year: str, scheme: str, organiser: bool) -> PageError:
    if error.status == 404:
        return PageError(
            "No such scheme",
            f"There is no scheme {scheme!r} in {year}.",
            status=404,
            next_href=f"/annual?year={year}",
            next_label="Back to the report",
        )
    if error.status == 403:
        text = (
            "Organisers read the reports of the schemes they organise: choose one of yours "
            "on the report's page."
            if organiser
            else "Your account may not read this report."
        )
        return PageError(
            "Not your scheme", text, status=403, next_href="/annual", next_label="Choose a scheme"
        )
    return PageError(
        "That did not work",
        error.detail or "The report could not be made.",
        status=error.status if 400 <= error.status < 500 else 400,
    )


def _params(year: str, scheme: str, **extra: str) -> dict[str, str]:
    return {"year": year, **({"scheme": scheme} if scheme else {}), **extra}


@router.get("/annual")
async def annual_page(request: Request, year: str = "", scheme: str = "") -> Response:
    p = await _reader(request)
    year, scheme = _query(request, year, scheme)
    organiser_only = "coordinator" not in p.roles.staff and "academic" not in p.roles.staff
    report: dict[str, Any] | None = None
    if scheme or not organiser_only:
        try:
            report = await p.services.call(
                "attendance",
                "GET",
                "/annual/report",
                p.token(),
                params=_params(year, scheme, charts="true"),
            )
        except ServiceError as error:
            raise _refused(error, year, scheme, organiser_only) from None
    query = urlencode(_params(year, scheme))
    return page(
        request,
        "annual.html",
        {
            "title": f"Annual report {year}",
            "year": year,
            "scheme": scheme,
            "r": report,
            "modes": MODES,
            "awards": AWARDS,
            "downloads": {fmt: f"/annual/report.{fmt}?{query}" for fmt in FORMATS},
            "choose_scheme": organiser_only and not scheme,
        },
    )


@router.get("/annual/report.{fmt}")
async def annual_download(request: Request, fmt: str, year: str = "", scheme: str = "") -> Response:
    if fmt not in FORMATS:
        raise PageError("Page not found", "There is no such download.", status=404)
    p = await _reader(request)
    year, scheme = _query(request, year, scheme)
    path = "/annual/report?" + urlencode(_params(year, scheme, format=fmt))
    try:
        body, kind = await p.services.download("attendance", path, p.token())
    except ServiceError as error:
        raise _refused(error, year, scheme, "coordinator" not in p.roles.staff) from None
    name = f"annual-report-{year}" + (f"-{scheme}" if scheme else "") + f".{fmt}"
    return Response(
        body,
        media_type=kind,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
