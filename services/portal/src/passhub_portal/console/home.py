"""The console's home page: the areas this role reaches, and an organiser's own schemes."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from passhub_portal.console.frame import NAV, console, render
from passhub_portal.leading import academic_year
from passhub_portal.web import settings_of

router = APIRouter()


@router.get("/console")
async def home(request: Request) -> Response:
    c = await console(request, "home")
    year = academic_year(settings_of(request))
    schemes: list[dict[str, str]] = []
    if c.organiser:
        own = await c.own_schemes()
        listed = await c.call("sessions", "GET", "/schemes")
        schemes = sorted(
            (s for s in listed if s["scheme_id"] in own), key=lambda s: str(s.get("title"))
        )
    return render(
        request,
        c,
        "console/home.html",
        {
            "title": "PASS console",
            "year": year,
            "areas": [e for e in NAV if c.role in e.roles],
            "schemes": schemes,
        },
    )
