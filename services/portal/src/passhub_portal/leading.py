"""The leader's own pages beyond the day's sessions: the rota with its calendar link, the
weekly availability (view and edit), the swaps they are part of (asking another leader of the
scheme to take a session, accepting, declining or withdrawing) and sessions they were taken off,
finding a student by name to add to a session,
progress towards the certificate, PSA and HEAR, the anonymised feedback of the sessions they
ran, and their certificates and Open Badges credentials. Everything comes from the services'
APIs with the leader's own token."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from passhub_portal.clients import ServiceError
from passhub_portal.pages import (
    QUESTIONS,
    _feed_link,
    _rostered_session,
    _scheme_titles,
    leader,
    now,
    title_of,
    when,
)
from passhub_portal.settings import PortalSettings
from passhub_portal.web import (
    PageError,
    Person,
    check_csrf,
    flash,
    local,
    page,
    settings_of,
    small_form,
)

router = APIRouter()

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: how many past sessions' feedback the feedback page shows
FEEDBACK_SESSIONS = 12
AWARD_STATUS = {
    "granted": "Awarded",
    "withdrawn": "Withdrawn",
    "withheld": "Not awarded this year",
    "undecided": "In progress",
    "not_offered": "Not offered this year",
}


def academic_year(settings: PortalSettings) -> str:
    """The academic year today is in (August to July), as the services name it: `2026-27`."""
    today = now().astimezone(settings.tz).date()
    start = today.year if today.month >= 8 else today.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


async def _my_sessions(p: Person, settings: PortalSettings) -> list[dict[str, Any]]:
    rows = await p.services.call(
        "sessions", "GET", f"/leaders/{quote(p.identity.number)}/sessions", p.token()
    )
    titles = await _scheme_titles(p, {r["scheme_id"] for r in rows if not r.get("scheme_title")})
    return [
        {
            **r,
            "scheme": r.get("scheme_title") or titles.get(r["scheme_id"], "PASS session"),
            "when": when(settings, r),
        }
        for r in sorted(rows, key=lambda r: r["starts_at"])
    ]


# -- rota and swaps ----------------------------------------------------------------------------


SWAP_ANSWERS = {
    "accept": "You take the session: it is on your rota now.",
    "decline": "You declined: the session stays with the leader who asked.",
    "withdraw": "Your request is withdrawn: you stay on the session.",
}
SWAP_STATUS = {
    "open": "waiting for an answer",
    "accepted": "accepted",
    "declined": "declined",
    "withdrawn": "withdrawn",
}


async def _scheme_leaders(p: Person, scheme_ids: set[str]) -> dict[str, list[dict[str, Any]]]:
    """Each scheme's leaders in post (recruitment's list, names included), by scheme."""
    found: dict[str, list[dict[str, Any]]] = {}
    for scheme_id in sorted(scheme_ids):
        try:
            rows = await p.services.call(
                "recruitment", "GET", f"/schemes/{quote(scheme_id)}/leaders", p.token()
            )
        except ServiceError:
            rows = []
        found[scheme_id] = [r for r in rows if r.get("role") == "leader"]
    return found


def _swap_rows(
    swaps: list[dict[str, Any]], me: str, names: dict[str, str], settings: PortalSettings
) -> list[dict[str, Any]]:
    """The swaps as the rota shows them; a request nobody answered before its session ended is
    no longer open (it can no longer be accepted)."""
    rows = []
    at = now()
    for w in swaps:
        asked_me = w["incoming"] == me
        other = w["out"] if asked_me else w["incoming"]
        over = datetime.fromisoformat(w["ends_at"]) < at
        unanswered = w["status"] == "open"
        rows.append(
            {
                **w,
                "asked_me": asked_me,
                "other": names.get(other, other),
                "scheme": w.get("scheme_title") or "PASS session",
                "when": when(settings, w),
                "state": "not answered in time"
                if unanswered and over
                else SWAP_STATUS.get(w["status"], w["status"]),
                "open": unanswered and not over,
            }
        )
    return rows


@router.get("/leader/rota")
async def rota(request: Request) -> Response:
    p = await leader(request)
    settings = settings_of(request)
    rows = await _my_sessions(p, settings)
    at = now()
    coming = [r for r in rows if r["rostered"] and datetime.fromisoformat(r["ends_at"]) >= at]
    past = [r for r in rows if r["rostered"] and datetime.fromisoformat(r["ends_at"]) < at]
    taken_off = [r for r in rows if not r["rostered"]]
    swaps = await p.services.call(
        "sessions", "GET", f"/leaders/{quote(p.identity.number)}/swaps", p.token()
    )
    asked = {
        w["session_id"] for w in swaps if w["status"] == "open" and w["out"] == p.identity.number
    }
    scheme_leaders = await _scheme_leaders(p, {r["scheme_id"] for r in coming})
    names = {x["student_number"]: x["name"] for xs in scheme_leaders.values() for x in xs}
    for r in coming:
        r["asked"] = r["session_id"] in asked
        r["others"] = [
            x
            for x in scheme_leaders.get(r["scheme_id"], [])
            if x["student_number"] != p.identity.number
        ]
    mine = _swap_rows(swaps, p.identity.number, names, settings)
    return page(
        request,
        "leader_rota.html",
        {
            "title": "My rota",
            "coming": coming,
            "past": list(reversed(past))[:10],
            "taken_off": taken_off,
            "swaps_open": [w for w in mine if w["open"]],
            "swaps_done": [w for w in mine if not w["open"]][-10:],
            "calendar": await _feed_link(p, f"/feeds/leaders/{quote(p.identity.number)}/link"),
        },
    )


def _swap_refused(error: ServiceError) -> str:
    if error.status == 403:
        return "Only the leaders of a swap can answer it. Nothing was changed."
    detail = error.detail.rstrip(".") or "passhub could not do that"
    return f"{detail[:1].upper()}{detail[1:]}. Nothing was changed."


@router.post("/leader/swaps")
async def ask_swap(request: Request) -> Response:
    """Ask another leader of the scheme to take one of my sessions (the sessions service checks
    them as for rostering; the rota changes when they accept)."""
    form = await small_form(request)
    check_csrf(request, form.get("csrf"))
    p = await leader(request)
    session_id = form.get("session_id", "").strip()
    incoming = form.get("incoming", "").strip()
    if not session_id or not incoming or len(session_id) > 100 or len(incoming) > 40:
        flash(request, "Choose the leader to ask, then ask again. Nothing was changed.", "bad")
        return RedirectResponse("/leader/rota#swaps", status_code=303)
    try:
        await p.services.call(
            "sessions",
            "POST",
            f"/sessions/{quote(session_id)}/swap-requests",
            p.token(),
            json={"incoming": incoming, "reason": form.get("reason", "").strip()[:500]},
        )
        flash(request, "Asked: the session stays yours until they accept.")
    except ServiceError as error:
        flash(request, _swap_refused(error), "bad")
    return RedirectResponse("/leader/rota#swaps", status_code=303)


@router.post("/leader/swaps/{swap_id}/{answer}")
async def answer_swap(request: Request, swap_id: str, answer: str) -> Response:
    form = await small_form(request)
    check_csrf(request, form.get("csrf"))
    p = await leader(request)
    if answer not in SWAP_ANSWERS:
        raise PageError("Page not found", "There is no page at this address.", status=404)
    try:
        await p.services.call(
            "sessions", "POST", f"/swap-requests/{quote(swap_id)}/{answer}", p.token()
        )
        flash(request, SWAP_ANSWERS[answer])
    except ServiceError as error:
        flash(request, _swap_refused(error), "bad")
    return RedirectResponse("/leader/rota#swaps", status_code=303)


# -- a student found by name, to add to a session -----------------------------------------------


@router.get("/leader/sessions/{session_id}/find")
async def find_student(request: Request, session_id: str, name: str = "") -> Response:
    """For a student who cannot scan and does not know their number: the students of the
    session's scheme whose name holds what the leader typed, each with a button that adds them
    (the add-by-number form's own route). Not on the QR screen, which the room can see."""
    p = await leader(request)
    session = await _rostered_session(p, session_id)
    wanted = " ".join(name.split())[:100]
    found: list[dict[str, Any]] | None = None
    problem = ""
    if wanted:
        try:
            found = await p.services.call(
                "recruitment",
                "GET",
                f"/schemes/{quote(session['scheme_id'])}/students",
                p.token(),
                params={"name": wanted},
            )
        except ServiceError as error:
            if error.status == 422:
                problem = "Type at least two letters of their name."
            elif error.status == 404:
                problem = "passhub cannot search the students of this scheme for you."
            else:
                raise
    return page(
        request,
        "leader_find.html",
        {
            "title": "Add a student by name",
            "scheme": title_of(session),
            "when": when(settings_of(request), session),
            "session_id": session_id,
            "name": wanted,
            "found": found,
            "problem": problem,
        },
    )


# -- availability ------------------------------------------------------------------------------


async def _availability(p: Person, year: str) -> dict[str, Any] | None:
    try:
        found = await p.services.call(
            "sessions",
            "GET",
            f"/leaders/{quote(p.identity.number)}/availability/{quote(year)}",
            p.token(),
        )
    except ServiceError as error:
        if error.status == 404:
            return None
        raise
    return dict(found)


@router.get("/leader/availability")
async def availability(request: Request) -> Response:
    p = await leader(request)
    settings = settings_of(request)
    year = academic_year(settings)
    stated = await _availability(p, year)
    slots: dict[str, list[dict[str, str]]] = {d: [] for d in WEEKDAYS}
    for slot in (stated or {}).get("slots", []):
        slots.setdefault(slot["weekday"], []).append(slot)
    days = []
    for day in WEEKDAYS:
        first = slots[day][0] if slots[day] else {"starts": "", "ends": ""}
        days.append(
            {
                "day": day,
                "label": day.title(),
                "starts": first["starts"][:5],
                "ends": first["ends"][:5],
                "more": [f"{s['starts'][:5]} to {s['ends'][:5]}" for s in slots[day][1:]],
            }
        )
    return page(
        request,
        "leader_availability.html",
        {
            "title": "My availability",
            "year": year,
            "days": days,
            "stated": stated,
            "stated_at": local(settings, stated["stated_at"]) if stated else "",
            "unavailable": "\n".join((stated or {}).get("unavailable_dates", [])),
        },
    )


@router.post("/leader/availability")
async def save_availability(request: Request) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    p = await leader(request)
    year = academic_year(settings_of(request))
    slots, problems = [], []
    for day in WEEKDAYS:
        starts = str(form.get(f"{day}_starts") or "").strip()
        ends = str(form.get(f"{day}_ends") or "").strip()
        if not starts and not ends:
            continue
        if not (TIME.fullmatch(starts) and TIME.fullmatch(ends)) or starts >= ends:
            problems.append(day.title())
            continue
        slots.append({"weekday": day, "starts": starts, "ends": ends})
    dates = [d.strip() for d in str(form.get("unavailable") or "").split() if d.strip()]
    bad_dates = [d for d in dates if not DATE.fullmatch(d)]
    if problems or bad_dates:
        told = []
        if problems:
            told.append(f"{', '.join(problems)}: give a start and an end, the end after the start")
        if bad_dates:
            told.append(f"dates must look like 2026-12-24 (not {', '.join(bad_dates[:3])})")
        raise PageError(
            "Please check your availability",
            "; ".join(told) + ". Nothing was changed.",
            status=422,
            next_href="/leader/availability",
            next_label="Back to my availability",
        )
    try:
        await p.services.call(
            "sessions",
            "PUT",
            f"/leaders/{quote(p.identity.number)}/availability/{quote(year)}",
            p.token(),
            json={"slots": slots, "unavailable_dates": dates},
        )
    except ServiceError as error:
        if error.status != 422:
            raise
        raise PageError(
            "Please check your availability",
            f"{error.detail} Nothing was changed.",
            status=422,
            next_href="/leader/availability",
            next_label="Back to my availability",
        ) from None
    flash(request, "Your availability is saved.")
    return RedirectResponse("/leader/availability", status_code=303)


# -- progress and awards -----------------------------------------------------------------------


def _requirement(check: dict[str, Any]) -> str:
    """One requirement in words, as recognition words it: "6 of 8 sessions delivered"."""
    return str(check.get("detail") or check["code"].replace("_", " "))


@router.get("/leader/progress")
async def progress(request: Request) -> Response:
    p = await leader(request)
    settings = settings_of(request)
    year = academic_year(settings)
    mine = await p.services.call("recognition", "GET", f"/progress/{quote(year)}/me", p.token())
    kinds = [
        {
            "title": k["title"],
            "status": AWARD_STATUS.get(k["status"], k["status"]),
            "granted": k["status"] == "granted",
            "checks": [{"text": _requirement(c), "met": c["met"]} for c in k["requirements"]],
        }
        for k in mine["awards"]
        if k["enabled"]
    ]
    awards = await p.services.call("recognition", "GET", "/awards/mine", p.token())
    return page(
        request,
        "leader_progress.html",
        {
            "title": "My progress and certificates",
            "year": year,
            "delivered": mine["sessions_delivered"],
            "kinds": kinds,
            "awards": [
                {**a, "granted_on": local(settings, a["granted_at"], "%d %B %Y")} for a in awards
            ],
        },
    )


@router.get("/leader/awards/{award_id}/{kind}")
async def download(request: Request, award_id: str, kind: str) -> Response:
    """A certificate's PDF, or the Open Badges credential (VC-JWT), as recognition makes it."""
    p = await leader(request)
    paths = {"certificate.pdf": "certificate", "credential.jwt": "credential"}
    if kind not in paths:
        raise PageError("Page not found", "There is no page at this address.", status=404)
    try:
        raw, content_type = await p.services.download(
            "recognition", f"/awards/{quote(award_id)}/{paths[kind]}", p.token()
        )
    except ServiceError as error:
        if error.status not in (403, 404, 409):
            raise
        raise PageError(
            "This award has nothing to download",
            "It is not one of your awards, or it was withdrawn.",
            status=error.status,
            next_href="/leader/progress",
            next_label="Back to my certificates",
        ) from None
    filename = f"passhub-{award_id[:8]}-{kind}"
    return Response(
        raw,
        media_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# -- feedback of the sessions I ran -------------------------------------------------------------


@router.get("/leader/feedback")
async def feedback(request: Request) -> Response:
    p = await leader(request)
    settings = settings_of(request)
    at = now()
    ran = [
        r
        for r in await _my_sessions(p, settings)
        if r["rostered"] and datetime.fromisoformat(r["starts_at"]) <= at
    ]
    sessions = []
    for r in list(reversed(ran))[:FEEDBACK_SESSIONS]:
        try:
            sheets = await p.services.call(
                "attendance", "GET", f"/sessions/{quote(r['session_id'])}/feedback", p.token()
            )
        except ServiceError as error:
            if error.status in (403, 404):
                continue
            raise
        summary = sheets["summary"]
        sessions.append(
            {
                **r,
                "responses": summary["responses"],
                "means": [
                    (question, summary[name]["mean"]) for name, question in QUESTIONS.items()
                ],
                "comments": [f["comment"] for f in sheets["feedback"] if f["comment"]],
            }
        )
    return page(
        request,
        "leader_feedback.html",
        {"title": "Feedback on my sessions", "sessions": sessions},
    )
