"""The pages students, leaders and kiosks use. Each gets what it shows from the services'
public APIs with the signed-in person's own short-lived token."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from markupsafe import Markup

from passhub_portal.clients import ServiceError
from passhub_portal.settings import PortalSettings
from passhub_portal.web import (
    PageError,
    Person,
    check_csrf,
    flash,
    local,
    login_href,
    page,
    person,
    services_of,
    settings_of,
    signed_in_identity,
    small_form,
)

router = APIRouter()

CODE = re.compile(r"^[A-Za-z0-9_-]{1,100}\.[A-Za-z0-9_-]{1,20}\.[A-Za-z0-9_-]{10,100}$")
NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
RATINGS = ("understanding", "enjoyable", "recommend")
QUESTIONS = {
    "understanding": "The session improved my understanding of the subject",
    "enjoyable": "The session was an enjoyable way to learn",
    "recommend": "I would recommend PASS to other students",
}


def now() -> datetime:
    return datetime.now(UTC)


def when(settings: PortalSettings, session: dict[str, Any]) -> str:
    starts = local(settings, session["starts_at"])
    ends = local(settings, session["ends_at"], "%H:%M")
    return f"{starts} to {ends}"


def title_of(session: dict[str, Any]) -> str:
    return str(session.get("scheme_title") or "PASS session")


async def find_session(p: Person, session_id: str) -> dict[str, Any] | None:
    """A session as attendance knows it (title, room, times), looked for around now; one
    further away is asked of the sessions service."""
    services, token = p.services, p.token()
    at = now()
    listed = await services.call(
        "attendance",
        "GET",
        "/sessions",
        token,
        params={
            "start": (at - timedelta(days=1)).isoformat(),
            "end": (at + timedelta(days=1)).isoformat(),
        },
    )
    for session in listed:
        if session["session_id"] == session_id:
            return dict(session)
    try:
        found = await services.call("sessions", "GET", f"/sessions/{quote(session_id)}", token)
        scheme = await services.call(
            "sessions", "GET", f"/schemes/{quote(found['scheme_id'])}", token
        )
    except ServiceError as error:
        if error.status in (403, 404, 422):
            return None
        raise
    return {
        **found,
        "scheme_title": scheme.get("title"),
        "cancelled": found["status"] != "scheduled",
    }


# -- start -------------------------------------------------------------------------------------


@router.get("/")
async def home(request: Request) -> Response:
    if signed_in_identity(request) is None:
        return page(request, "welcome.html", {"title": "Welcome", "login": login_href("/")})
    p = await person(request)
    if p.roles.kiosk:
        return RedirectResponse("/kiosk", status_code=303)
    if p.roles.leader:
        return RedirectResponse("/leader", status_code=303)
    if p.roles.student:
        return RedirectResponse("/me", status_code=303)
    return RedirectResponse("/console", status_code=303)


# -- the student's QR sign-in ------------------------------------------------------------------


def _session_of_code(code: str) -> str:
    if not CODE.fullmatch(code):
        raise PageError(
            "This is not a sign-in code",
            "The code could not be read. Scan the code on the screen again.",
            status=400,
            next_label="Back to the start page",
        )
    return code.rsplit(".", 2)[0]


async def _scan_receipt(request: Request, session_id: str, code: str) -> str:
    """Attendance's scan receipt for a still-valid code: the time to log in and press Sign in
    runs from the scan. Asked with the portal's own account (the student may not be logged
    in yet); an expired or forged code is a page that says to scan again."""
    services = services_of(request)
    try:
        given = await services.call(
            "attendance",
            "POST",
            f"/sessions/{quote(session_id)}/scan-receipt",
            services.own_token(),
            json={"code": code},
        )
    except ServiceError as error:
        raise _sign_in_error(error) from None
    return str(given["receipt"])


@router.get("/s/{code}")
async def scanned(request: Request, code: str, r: str = "") -> Response:
    """Where the QR code lands. The code is exchanged for a scan receipt at once; not logged
    in, the university login, then back here with the receipt."""
    session_id = _session_of_code(code)
    receipt = r if CODE.fullmatch(r) else await _scan_receipt(request, session_id, code)
    if signed_in_identity(request) is None and not request.scope.get("state", {}).get(
        "bad_session_cookie"
    ):
        back = f"/s/{code}?{urlencode({'r': receipt})}"
        return RedirectResponse(login_href(back), status_code=303)
    p = await person(request, as_leader=False)
    if not p.roles.student:
        raise PageError(
            "Students sign in here",
            "This code signs students in to a PASS session. Log in with a student account.",
            status=403,
        )
    session = await find_session(p, session_id)
    if session is None:
        raise PageError(
            "We cannot find this session",
            "This code does not belong to a session passhub knows. Scan the code on the "
            "screen again, or ask the leader.",
            status=404,
        )
    settings = settings_of(request)
    return page(
        request,
        "sign_in.html",
        {
            "title": f"Sign in to {title_of(session)}",
            "session": session,
            "scheme": title_of(session),
            "when": when(settings, session),
            "code": code,
            "receipt": receipt,
            "session_id": session_id,
            "name": p.identity.name,
        },
    )


SIGN_IN_ERRORS = {
    "code_expired": (
        "This code has expired",
        "Codes change every minute. Scan the code on the screen again.",
    ),
    "code_invalid": (
        "This code does not work here",
        "It is not a valid code for this session. Scan the code on the screen again.",
    ),
    "sign_in_not_open": (
        "Sign-in is not open yet",
        "Sign-in opens shortly before the session starts. Scan the code again when the "
        "session is about to begin.",
    ),
    "sign_in_closed": (
        "Sign-in has closed",
        "This session has finished. If you were there, ask the leader to add you.",
    ),
    "session_cancelled": ("This session was cancelled", "Nobody can sign in to it."),
}


def _sign_in_error(error: ServiceError) -> PageError:
    title, message = SIGN_IN_ERRORS.get(
        error.code,
        ("You are not signed in", "passhub could not sign you in. Ask the leader to add you."),
    )
    if error.code not in SIGN_IN_ERRORS and error.status == 404:
        title, message = (
            "We cannot find this session",
            "Scan the code on the screen again, or ask the leader.",
        )
    return PageError(title, message + " Nothing was changed.", status=error.status)


@router.post("/s/{code}")
async def sign_in(request: Request, code: str) -> Response:
    """One tap: the scan receipt the page holds (or, from a client that has none, the code).

    The hot path of a session start: its form is read straight from the urlencoded body
    (FastAPI's `Form` parameters cost about as much CPU as the rest of the request)."""
    form = await small_form(request)
    session_id, csrf, receipt = (
        form.get("session_id", ""),
        form.get("csrf"),
        form.get("receipt", ""),
    )
    if not session_id or len(session_id) > 100:
        raise PageError(
            "Something is missing",
            "The form was not complete. Nothing was changed. Scan the code again.",
            status=422,
        )
    check_csrf(request, csrf)
    _session_of_code(code)
    p = await person(request, as_leader=False)
    proof = {"receipt": receipt} if CODE.fullmatch(receipt) else {"code": code}
    try:
        await p.services.call(
            "attendance",
            "POST",
            f"/sessions/{quote(session_id)}/sign-in",
            p.token(),
            json=proof,
        )
    except ServiceError as error:
        raise _sign_in_error(error) from None
    return RedirectResponse(f"/attended/{quote(session_id)}", status_code=303)


@router.get("/attended/{session_id}")
async def signed_in(request: Request, session_id: str) -> Response:
    p = await person(request, as_leader=False)
    history = await _history(p)
    attended = next((a for a in history if a["session_id"] == session_id and a["active"]), None)
    session = await find_session(p, session_id)
    if attended is None or session is None:
        raise PageError(
            "You are not signed in to this session",
            "Scan the code on the screen to sign in.",
            status=404,
            next_href="/me",
            next_label="Go to My PASS",
        )
    settings = settings_of(request)
    return page(
        request,
        "signed_in.html",
        {
            "title": "You're signed in",
            "scheme": title_of(session),
            "session": session,
            "when": when(settings, session),
            "at": local(settings, attended["signed_in_at"], "%H:%M"),
            "session_id": session_id,
        },
    )


# -- My PASS -----------------------------------------------------------------------------------


async def _history(p: Person) -> list[dict[str, Any]]:
    result = await p.services.call(
        "attendance", "GET", f"/students/{quote(p.identity.number)}/attendance", p.token()
    )
    return list(result["attendances"])


@router.get("/me")
async def my_pass(request: Request) -> Response:
    p = await person(request, as_leader=False)
    if not p.roles.student:
        raise PageError("My PASS is for students", "Log in with a student account.", 403)
    settings = settings_of(request)
    history = [a for a in await _history(p) if a["active"] and a["role"] == "student"]
    schemes = sorted({a["scheme_id"] for a in history})
    titles: dict[str, str] = {}
    upcoming: list[dict[str, Any]] = []
    at = now()
    for scheme_id in schemes:
        sessions = await p.services.call(
            "attendance",
            "GET",
            "/sessions",
            p.token(),
            params={"scheme_id": scheme_id, "start": at.isoformat()},
        )
        for s in sessions:
            titles[scheme_id] = title_of(s)
            if not s["cancelled"] and datetime.fromisoformat(s["starts_at"]) > at:
                upcoming.append({**s, "when": when(settings, s)})
    attended = [
        {
            **a,
            "scheme": titles.get(a["scheme_id"], "PASS session"),
            "when": local(settings, a["starts_at"] or a["signed_in_at"]),
        }
        for a in sorted(history, key=lambda a: a["signed_in_at"], reverse=True)
    ]
    by_scheme: dict[str, int] = {}
    for a in attended:
        by_scheme[a["scheme"]] = by_scheme.get(a["scheme"], 0) + 1
    upcoming.sort(key=lambda s: s["starts_at"])
    calendars = []
    for scheme_id in schemes:
        link = await _feed_link(p, f"/feeds/schemes/{quote(scheme_id)}/link")
        if link:
            calendars.append({"scheme": titles.get(scheme_id, "PASS"), "url": link})
    given = await _feedback_given(p, settings)
    answered = {g["session_id"] for g in given}
    for a in attended:
        a["feedback_given"] = a["session_id"] in answered
    return page(
        request,
        "my_pass.html",
        {
            "title": "My PASS",
            "name": p.identity.name,
            "attended": attended,
            "by_scheme": sorted(by_scheme.items()),
            "upcoming": upcoming[:10],
            "calendars": calendars,
            "given": given,
            "questions": QUESTIONS,
        },
    )


async def _feedback_given(p: Person, settings: PortalSettings) -> list[dict[str, Any]]:
    """The feedback this student gave with their name (attendance keeps anonymous feedback
    without who gave it, so it cannot be listed)."""
    result = await p.services.call(
        "attendance", "GET", f"/students/{quote(p.identity.number)}/feedback", p.token()
    )
    return [
        {
            **f,
            "scheme": f.get("scheme_title") or "PASS session",
            "when": local(settings, f["starts_at"] or f["submitted_at"]),
        }
        for f in result["feedback"]
    ]


async def _feed_link(p: Person, path: str) -> str | None:
    """A calendar subscription link from the sessions service (none if it will not give one)."""
    try:
        link = await p.services.call("sessions", "GET", path, p.token())
    except ServiceError:
        return None
    return str(link["url"])


# -- feedback ----------------------------------------------------------------------------------


async def _attended_session(p: Person, session_id: str) -> dict[str, Any]:
    history = await _history(p)
    attended = next(
        (
            a
            for a in history
            if a["session_id"] == session_id and a["active"] and a["role"] == "student"
        ),
        None,
    )
    if attended is None:
        raise PageError(
            "Feedback is for sessions you attended",
            "You can give feedback on a session once you have signed in to it.",
            status=403,
            next_href="/me",
            next_label="Go to My PASS",
        )
    return attended


@router.get("/feedback/{session_id}")
async def feedback_form(request: Request, session_id: str) -> Response:
    p = await person(request, as_leader=False)
    attended = await _attended_session(p, session_id)
    session = await find_session(p, session_id) or attended
    settings = settings_of(request)
    return page(
        request,
        "feedback.html",
        {
            "title": "Your feedback",
            "scheme": title_of(session),
            "when": local(settings, attended["starts_at"] or attended["signed_in_at"]),
            "session_id": session_id,
            "questions": QUESTIONS,
        },
    )


@router.post("/feedback/{session_id}")
async def give_feedback(request: Request, session_id: str) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf") or ""))
    p = await person(request, as_leader=False)
    await _attended_session(p, session_id)
    body: dict[str, Any] = {}
    for name in RATINGS:
        value = str(form.get(name) or "")
        if value not in {"1", "2", "3", "4", "5"}:
            raise PageError(
                "Please answer every question",
                "Choose a number from 1 to 5 for each question. Nothing was sent.",
                status=422,
                next_href=f"/feedback/{quote(session_id)}",
                next_label="Back to the form",
            )
        body[name] = int(value)
    body["comment"] = str(form.get("comment") or "")[:2000]
    body["anonymous"] = form.get("anonymous") == "yes"
    try:
        await p.services.call(
            "attendance", "POST", f"/sessions/{quote(session_id)}/feedback", p.token(), json=body
        )
    except ServiceError as error:
        if error.status == 409:
            raise PageError(
                "You already gave feedback",
                "passhub takes one feedback form per session. Thank you for yours.",
                status=409,
                next_href="/me",
                next_label="Go to My PASS",
            ) from None
        raise
    flash(request, "Thank you: your feedback was sent.")
    return RedirectResponse("/me", status_code=303)


# -- leaders -----------------------------------------------------------------------------------


async def leader(request: Request) -> Person:
    p = await person(request)
    if not p.roles.leader:
        settings = settings_of(request)
        raise PageError(
            f"This page is for {settings.leader_title}s",
            f"You are not a {settings.leader_title} at the moment, so the leader pages are "
            "closed to you. If you think this is wrong, ask the PASS coordinators.",
            status=403,
            next_href="/me" if p.roles.student else "/",
            next_label="Go to My PASS" if p.roles.student else "Go to the start page",
        )
    return p


@router.get("/leader")
async def leader_home(request: Request) -> Response:
    p = await leader(request)
    settings = settings_of(request)
    rows = await p.services.call(
        "sessions", "GET", f"/leaders/{quote(p.identity.number)}/sessions", p.token()
    )
    at = now()
    today = at.astimezone(settings.tz).date()
    titles = await _scheme_titles(p, {r["scheme_id"] for r in rows})
    today_rows, later = [], []
    for r in sorted(rows, key=lambda r: r["starts_at"]):
        if not r["rostered"] or r["status"] != "scheduled":
            continue
        ends = datetime.fromisoformat(r["ends_at"])
        starts = datetime.fromisoformat(r["starts_at"])
        item = {
            **r,
            "scheme": r.get("scheme_title") or titles.get(r["scheme_id"], "PASS session"),
            "when": when(settings, r),
        }
        if starts.astimezone(settings.tz).date() == today and ends >= at - timedelta(hours=2):
            today_rows.append(item)
        elif starts > at:
            later.append(item)
    return page(
        request,
        "leader_home.html",
        {
            "title": f"{settings.leader_title} home",
            "name": p.identity.name,
            "today": today_rows,
            "later": later[:5],
            "calendar": await _feed_link(p, f"/feeds/leaders/{quote(p.identity.number)}/link"),
        },
    )


async def _scheme_titles(p: Person, scheme_ids: set[str]) -> dict[str, str]:
    titles = {}
    for scheme_id in scheme_ids:
        try:
            scheme = await p.services.call(
                "sessions", "GET", f"/schemes/{quote(scheme_id)}", p.token()
            )
            titles[scheme_id] = str(scheme.get("title") or "PASS session")
        except ServiceError:
            continue
    return titles


async def _qr(p: Person, settings: PortalSettings, session_id: str) -> dict[str, Any]:
    issued = await p.services.call(
        "attendance", "GET", f"/sessions/{quote(session_id)}/qr-code", p.token()
    )
    url = f"{settings.public_url}/s/{issued['code']}"
    svg = segno.make(url, error="m").svg_inline(border=4, omitsize=True, title="Sign-in code")
    expires = datetime.fromisoformat(issued["expires_at"])
    return {"url": url, "svg": svg, "expires_in": max(0, int((expires - now()).total_seconds()))}


async def _headcount(p: Person, session_id: str) -> dict[str, int]:
    counted = await p.services.call(
        "attendance", "GET", f"/sessions/{quote(session_id)}/headcount", p.token()
    )
    return {"students": int(counted["students"]), "leaders": int(counted["leaders"])}


async def _rostered_session(p: Person, session_id: str) -> dict[str, Any]:
    session = await find_session(p, session_id)
    if session is None or p.identity.number not in session.get("leaders", [p.identity.number]):
        raise PageError(
            "This is not one of your sessions",
            "You can open the sign-in screen of the sessions you are rostered on.",
            status=403,
            next_href="/leader",
            next_label="Back to your sessions",
        )
    return session


@router.get("/leader/sessions/{session_id}")
async def qr_screen(request: Request, session_id: str) -> Response:
    p = await leader(request)
    settings = settings_of(request)
    session = await _rostered_session(p, session_id)
    try:
        qr: dict[str, Any] | None = await _qr(p, settings, session_id)
    except ServiceError as error:
        if error.status != 403:
            raise
        qr = None
    count = await _headcount(p, session_id)
    attendances = await p.services.call(
        "attendance", "GET", f"/sessions/{quote(session_id)}/attendances", p.token()
    )
    leader_in = any(
        a["student_number"] == p.identity.number and a["role"] == "leader" and a["active"]
        for a in attendances["attendances"]
    )
    return page(
        request,
        "qr.html",
        {
            "title": f"{title_of(session)}: sign-in",
            "scheme": title_of(session),
            "session": session,
            "session_id": session_id,
            "when": when(settings, session),
            "qr": qr,
            "svg": Markup(qr["svg"]) if qr else None,
            "count": count,
            "leader_in": leader_in,
            "poll_ms": settings.poll_seconds * 1000,
            "margin": settings.code_refresh_margin_seconds,
        },
    )


@router.get("/leader/sessions/{session_id}/live")
async def live(request: Request, session_id: str, code: int = 0) -> JSONResponse:
    """What the QR screen polls: the headcount, and a new code when asked for one."""
    p = await leader(request)
    body: dict[str, Any] = await _headcount(p, session_id)
    if code:
        body.update(await _qr(p, settings_of(request), session_id))
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/leader/sessions/{session_id}/leader-sign-in")
async def leader_sign_in(
    request: Request, session_id: str, csrf: Annotated[str | None, Form()] = None
) -> Response:
    check_csrf(request, csrf)
    p = await leader(request)
    try:
        await p.services.call(
            "attendance", "POST", f"/sessions/{quote(session_id)}/leader-sign-in", p.token()
        )
        flash(request, "You are signed in as a leader.")
    except ServiceError as error:
        flash(request, _leader_error(error), "bad")
    return RedirectResponse(f"/leader/sessions/{quote(session_id)}", status_code=303)


@router.post("/leader/sessions/{session_id}/add")
async def add_student(
    request: Request,
    session_id: str,
    student_number: Annotated[str, Form(max_length=64)] = "",
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(request, csrf)
    p = await leader(request)
    number = student_number.strip()
    if not NUMBER.fullmatch(number):
        flash(request, f"“{number}” is not a student number. Check it and try again.", "bad")
    else:
        try:
            added = await p.services.call(
                "attendance",
                "POST",
                f"/sessions/{quote(session_id)}/attendances",
                p.token(),
                json={"student_number": number},
            )
            if added.get("created"):
                flash(request, f"{number} is signed in.")
            else:
                flash(request, f"{number} was already signed in.")
        except ServiceError as error:
            flash(request, _leader_error(error), "bad")
    return RedirectResponse(f"/leader/sessions/{quote(session_id)}#add", status_code=303)


def _leader_error(error: ServiceError) -> str:
    if error.code in SIGN_IN_ERRORS:
        title, message = SIGN_IN_ERRORS[error.code]
        return f"{title}. {message}"
    if error.status == 403:
        return "Only the leaders rostered on this session can do that."
    return "passhub could not do that. Nothing was changed."


# -- kiosk -------------------------------------------------------------------------------------


def _room_of(request: Request, p: Person) -> str | None:
    """The kiosk's room: the one configured for its account, or, for an account configured
    with no room (`""`), the one chosen on this device."""
    if p.identity.kiosk_room:
        return p.identity.kiosk_room
    chosen = request.session.get("kiosk_room")
    return str(chosen) if chosen else None


async def _kiosk_account(request: Request) -> Person:
    p = await person(request)
    if not p.roles.kiosk:
        raise PageError(
            "This page is for kiosks",
            "A room's kiosk logs in with its kiosk account.",
            status=403,
        )
    return p


async def _current_in(p: Person, room: str) -> dict[str, Any] | None:
    at = now()
    sessions = await p.services.call(
        "attendance",
        "GET",
        "/sessions",
        p.token(),
        params={
            "room": room,
            "start": at.isoformat(),
            "end": (at + timedelta(minutes=30)).isoformat(),
        },
    )
    return next((s for s in sessions if not s["cancelled"]), None)


async def _kiosk(request: Request) -> tuple[Person, str, dict[str, Any] | None]:
    p = await _kiosk_account(request)
    room = _room_of(request, p)
    if room is None:
        raise PageError(
            "Choose this kiosk's room first",
            "This kiosk has no room yet.",
            status=409,
            next_href="/kiosk",
            next_label="Choose the room",
        )
    return p, room, await _current_in(p, room)


async def _rooms_today(request: Request, p: Person) -> Response:
    """A kiosk account with no room of its own: the rooms with sessions today (local day),
    each a link that makes it this device's room, and a box to type the room."""
    settings = settings_of(request)
    today = now().astimezone(settings.tz).date()
    start = datetime.combine(today, time.min, tzinfo=settings.tz)
    sessions = await p.services.call(
        "attendance",
        "GET",
        "/sessions",
        p.token(),
        params={"start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat()},
    )
    rooms: dict[str, list[str]] = {}
    for s in sorted(sessions, key=lambda s: s["starts_at"]):
        if s["cancelled"]:
            continue
        rooms.setdefault(s["room"], []).append(
            f"{title_of(s)}, {local(settings, s['starts_at'], '%H:%M')} to "
            f"{local(settings, s['ends_at'], '%H:%M')}"
        )
    return page(
        request,
        "kiosk_rooms.html",
        {
            "title": "Choose this kiosk's room",
            "day": local(settings, start, "%A %d %B %Y"),
            "rooms": [
                {"room": room, "href": "/kiosk?" + urlencode({"room": room}), "sessions": found}
                for room, found in sorted(rooms.items())
            ],
        },
    )


@router.get("/kiosk")
async def kiosk(request: Request, room: str = "", choose: bool = False) -> Response:
    p = await _kiosk_account(request)
    if not p.identity.kiosk_room:
        picked = room.strip()[:200]
        if picked:
            request.session["kiosk_room"] = picked
            return RedirectResponse("/kiosk", status_code=303)
        if choose or not request.session.get("kiosk_room"):
            request.session.pop("kiosk_room", None)
            return await _rooms_today(request, p)
    p, room, current = await _kiosk(request)
    settings = settings_of(request)
    return page(
        request,
        "kiosk.html",
        {
            "title": f"Sign in: room {room}",
            "room": room,
            "can_choose": not p.identity.kiosk_room,
            "session": current,
            "scheme": title_of(current) if current else "",
            "when": when(settings, current) if current else "",
        },
    )


@router.post("/kiosk")
async def kiosk_sign_in(
    request: Request,
    student_number: Annotated[str, Form(max_length=64)] = "",
    session_id: Annotated[str, Form(max_length=100)] = "",
    csrf: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(request, csrf)
    p, _, current = await _kiosk(request)
    number = student_number.strip()
    if current is None or current["session_id"] != session_id:
        flash(request, "That session has ended. Try again with the session shown now.", "bad")
    elif not NUMBER.fullmatch(number):
        flash(request, f"“{number}” is not a student number. Check it and try again.", "bad")
    else:
        try:
            done = await p.services.call(
                "attendance",
                "POST",
                f"/sessions/{quote(session_id)}/kiosk",
                p.token(),
                json={"student_number": number},
            )
            flash(
                request,
                f"{number}: you're signed in." if done["created"] else f"{number}: already in.",
            )
        except ServiceError as error:
            flash(request, f"{number}: {_leader_error(error)}", "bad")
    return RedirectResponse("/kiosk", status_code=303)
