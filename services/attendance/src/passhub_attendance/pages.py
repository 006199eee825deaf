"""Server-rendered pages (Jinja2, no JavaScript): the leader's QR page, the student's sign-in
page a scanned code opens, the feedback form, and a room's kiosk.

Auth on pages: a bearer header works, but a phone that opens a scanned link sends none, so the
login form (`POST /login`) puts the passhub token in an HttpOnly, SameSite=Lax cookie (Secure
over https). The sign-in page itself is public (it shows what the code is for); everything that
changes something needs the cookie or a bearer token.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from functools import wraps
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import jwt
import segno
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from passhub_attendance import handlers, queries
from passhub_attendance.api import qr_codes, scoped, sign_in_url
from passhub_attendance.domain import access
from passhub_attendance.domain.feedback import SubmitFeedback
from passhub_attendance.domain.model import SessionView
from passhub_attendance.settings import AttendanceSettings
from passhub_attendance.web import (
    SettingsDep,
    actor,
    now,
    page_principal,
    student_number_of,
    verify,
)
from passhub_shared.app import RuntimeDep, command_metadata
from passhub_shared.auth import Principal
from passhub_shared.contracts.sessions import session_reference
from passhub_shared.errors import NotFound, Rejected
from passhub_shared.service import Runtime

router = APIRouter(tags=["pages"], include_in_schema=True)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

FEEDBACK_ITEMS = (
    ("understanding", "PASS improved my understanding of the subject"),
    ("enjoyable", "PASS was an enjoyable learning experience"),
    ("recommend", "I would recommend PASS to other students"),
)

#: who fills in a feedback sheet (the JSON API's rule too)
FEEDBACK_ROLES = ("student", "leader")

Page = Callable[..., Awaitable[Response]]


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _message(
    request: Request,
    heading: str,
    message: str,
    status_code: int,
    *,
    tone: str = "bad",
    link: str | None = None,
    link_text: str | None = None,
    signed_in_as: str | None = None,
) -> Response:
    return _page(
        request,
        "message.html",
        {
            "heading": heading,
            "message": message,
            "tone": tone,
            "link": link,
            "link_text": link_text,
            "signed_in_as": signed_in_as,
            "here": _here(request),
        },
        status_code,
    )


def _forbidden(request: Request, message: str, principal: Principal | None) -> Response:
    """403: what is not allowed, who is logged in, and a way to log out (and in as someone
    else: the log-out comes back to this page, which then asks for a login)."""
    return _message(
        request,
        "Not allowed",
        message,
        403,
        signed_in_as=principal.sub if principal is not None else None,
    )


def _login(request: Request, next_url: str, *, error: str = "", intro: str = "") -> Response:
    return _page(
        request, "login.html", {"next": next_url, "error": error, "intro": intro}, status_code=401
    )


def shows_errors(page: Page) -> Page:
    """A rule's `Rejected` becomes a page with its message and status, not JSON."""

    @wraps(page)
    async def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return await page(*args, **kwargs)
        except Rejected as exc:
            request: Request = kwargs["request"]
            settings: AttendanceSettings | None = kwargs.get("settings")
            if exc.status_code == 403:
                principal = page_principal(request, settings) if settings else None
                return _forbidden(request, exc.message, principal)
            heading = "Not found" if exc.status_code == 404 else "That did not work"
            return _message(request, heading, exc.message, exc.status_code)

    return wrapper


def _here(request: Request) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{request.url.path}{query}"


def _safe_next(value: str) -> str:
    """Only a path on this site (no open redirect)."""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/login"


def _local(settings: AttendanceSettings, when: datetime, fmt: str = "%a %d %b %H:%M") -> str:
    return when.astimezone(ZoneInfo(settings.local_timezone)).strftime(fmt)


async def _session(runtime: Runtime, session_id: str) -> SessionView:
    async with runtime.engine.connect() as conn:
        session = await queries.session_view(conn, session_id)
    if session is None:
        raise NotFound(f"no session {session_id!r} is scheduled")
    return session


# -- styles ------------------------------------------------------------------------------------

_CSS = (Path(__file__).parent / "static" / "pages.css").read_bytes()


@router.get("/pages.css", include_in_schema=False)
async def stylesheet() -> Response:
    """The pages' styles, a file: their Content-Security-Policy allows no inline style."""
    return Response(_CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


# -- login -------------------------------------------------------------------------------------


@router.get("/login")
async def login_page(request: Request, next: str = "/login") -> Response:
    response = _login(request, _safe_next(next))
    response.status_code = 200
    return response


@router.post("/login")
async def login(
    request: Request,
    settings: SettingsDep,
    token: Annotated[str, Form(max_length=8000)],
    next: Annotated[str, Form()] = "/login",
) -> Response:
    """Check a passhub token and keep it in an HttpOnly cookie for the pages."""
    target = _safe_next(next)
    token = token.strip()
    principal = verify(request, token)
    if principal is None:
        return _login(request, target, error="That token is not valid or has expired.")
    expires = jwt.decode(token, options={"verify_signature": False}).get("exp")
    max_age = max(int(expires - now().timestamp()), 0) if isinstance(expires, int | float) else None
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        settings.cookie_name,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=_secure(request, settings),
        path="/",
    )
    return response


@router.post("/logout")
async def logout(
    request: Request, settings: SettingsDep, next: Annotated[str, Form()] = "/login"
) -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.delete_cookie(settings.cookie_name, path="/")
    return response


def _secure(request: Request, settings: AttendanceSettings) -> bool:
    if settings.cookie_secure == "auto":
        return request.url.scheme == "https"
    return settings.cookie_secure.lower() in ("1", "true", "yes", "on")


# -- the leader's QR page ----------------------------------------------------------------------


@router.get("/sessions/{session_id}/qr")
@shows_errors
async def leader_qr_page(
    request: Request, session_id: str, runtime: RuntimeDep, settings: SettingsDep
) -> Response:
    """The page a rostered leader shows the room: a QR code that changes every
    `qr_refresh_seconds` (the page reloads itself), and the headcount."""
    principal = page_principal(request, settings)
    if principal is None:
        return _login(request, _here(request), intro="Log in to show this session's code.")
    session = await _session(runtime, session_id)
    who = await scoped(runtime, principal)
    access.may_show_code(who, session)
    at = now()
    window = settings.window
    if session.cancelled:
        status, status_text = "cancelled", "This session was cancelled."
    elif at < window.opens(session):
        status = "early"
        status_text = f"Sign-in opens at {_local(settings, window.opens(session), '%H:%M')}."
    elif at > window.closes(session):
        status, status_text = "closed", "Sign-in to this session has closed."
    else:
        status, status_text = "open", ""
    url = sign_in_url(request, settings, qr_codes(settings).issue(session_id, at))
    svg = segno.make(url, error="m").svg_inline(border=4, omitsize=True, title="Sign-in code")
    async with runtime.engine.connect() as conn:
        counts = await queries.headcount(conn, session_id)
        rows = await queries.session_attendances(conn, session_id)
    signed = {r["student_number"] for r in rows if r["active"]}
    rostered = who.has("leader") and session.is_rostered(who.sub)
    return _page(
        request,
        "leader_qr.html",
        {
            "session": session,
            "status": status,
            "status_text": status_text,
            "url": url,
            "svg": Markup(svg),
            "headcount": counts,
            "refresh_seconds": settings.qr_refresh_seconds,
            "validity_seconds": settings.qr_validity_seconds,
            "starts": _local(settings, session.starts_at),
            "ends": _local(settings, session.ends_at, "%H:%M"),
            "reference": session_reference(
                session.scheme_code or session.scheme_id, session.starts_at, settings.tz
            ),
            "window_text": (
                f"open {_local(settings, window.opens(session), '%H:%M')} to "
                f"{_local(settings, window.closes(session), '%H:%M')}"
            ),
            "can_sign_in_as_leader": rostered and status == "open" and who.sub not in signed,
            "leader_signed_in": who.sub in signed,
        },
    )


@router.post("/sessions/{session_id}/qr/leader-sign-in")
@shows_errors
async def leader_sign_in_form(
    request: Request, session_id: str, runtime: RuntimeDep, settings: SettingsDep
) -> Response:
    principal = page_principal(request, settings)
    if principal is None:
        return _login(request, f"/sessions/{quote(session_id)}/qr")
    if not principal.has("leader"):
        return _forbidden(request, "only a leader signs in as leader", principal)
    await handlers.sign_in(
        runtime,
        settings,
        session_id=session_id,
        student_number=principal.sub,
        method="leader",
        now=now(),
        metadata=command_metadata(principal),
        as_leader=True,
    )
    return RedirectResponse(f"/sessions/{quote(session_id)}/qr", status_code=303)


# -- the student's sign-in page ----------------------------------------------------------------


@router.get("/sign-in")
@shows_errors
async def sign_in_page(
    request: Request,
    runtime: RuntimeDep,
    settings: SettingsDep,
    t: Annotated[str, Query(max_length=500)] = "",
    s: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    """Where a scanned code lands. Public: it shows the session and asks the student to log in
    (once per browser) and press "Sign me in". A code (`t`) is taken only while it is valid, and
    exchanged for a scan receipt (`s`) that gives `qr_grace_seconds` from now to do that."""
    if not t and not s:
        return _message(request, "No code", "Scan the code the leader shows.", 400)
    at = now()
    receipt = _scan_receipt(settings, t, s, at)
    session = await _session(runtime, qr_codes(settings).redeem(receipt, at))
    here = f"/sign-in?{urlencode({'s': receipt})}"
    principal = page_principal(request, settings)
    if principal is None:
        title = session.scheme_title or session.scheme_id
        page = _login(
            request,
            here,
            intro=f"Signing in to {title}, room {session.room}. Log in first.",
        )
        page.status_code = 200  # the landing page is public: it asks for a login
        return page
    return _page(
        request,
        "sign_in.html",
        {
            "session": session,
            "receipt": receipt,
            "student_number": principal.sub,
            "here": here,
            "starts": _local(settings, session.starts_at),
            "ends": _local(settings, session.ends_at, "%H:%M"),
        },
    )


@router.post("/sign-in")
@shows_errors
async def sign_in_form(
    request: Request,
    runtime: RuntimeDep,
    settings: SettingsDep,
    t: Annotated[str, Form(max_length=500)] = "",
    s: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    at = now()
    receipt = _scan_receipt(settings, t, s, at)
    principal = page_principal(request, settings)
    if principal is None:
        return _login(request, f"/sign-in?{urlencode({'s': receipt})}", error="Log in to sign in.")
    who = actor(principal)
    access.may_sign_in_self(who, who.sub)
    session_id = qr_codes(settings).redeem(receipt, at)
    outcome = await handlers.sign_in(
        runtime,
        settings,
        session_id=session_id,
        student_number=who.sub,
        method="qr",
        now=at,
        metadata=command_metadata(principal),
    )
    return _page(
        request,
        "signed_in.html",
        {
            "session": outcome.session,
            "attendance": outcome.attendance,
            "created": outcome.created,
            "at": _local(settings, outcome.attendance.signed_in_at, "%H:%M"),
        },
        status_code=201 if outcome.created else 200,
    )


def _scan_receipt(settings: AttendanceSettings, code: str, receipt: str, at: datetime) -> str:
    """The scan receipt a sign-in carries: the one given, or one for a code still valid `at`
    (an expired or forged code is refused here)."""
    return receipt or qr_codes(settings).receipt(code, at)


# -- feedback ----------------------------------------------------------------------------------


@router.get("/sign-in/feedback")
@shows_errors
async def feedback_page(
    request: Request, session_id: str, runtime: RuntimeDep, settings: SettingsDep
) -> Response:
    principal = page_principal(request, settings)
    if principal is None:
        return _login(request, _here(request))
    if not principal.has(*FEEDBACK_ROLES):
        return _forbidden(request, "feedback sheets are for students who attended", principal)
    session = await _session(runtime, session_id)
    return _page(
        request,
        "feedback.html",
        {
            "session": session,
            "items": FEEDBACK_ITEMS,
            "starts": _local(settings, session.starts_at),
        },
    )


@router.post("/sign-in/feedback")
@shows_errors
async def feedback_form(
    request: Request,
    runtime: RuntimeDep,
    settings: SettingsDep,
    session_id: Annotated[str, Form()],
    understanding: Annotated[int, Form(ge=1, le=5)],
    enjoyable: Annotated[int, Form(ge=1, le=5)],
    recommend: Annotated[int, Form(ge=1, le=5)],
    comment: Annotated[str, Form(max_length=4000)] = "",
    anonymous: Annotated[str, Form()] = "",
) -> Response:
    principal = page_principal(request, settings)
    if principal is None:
        return _login(request, f"/sign-in/feedback?{urlencode({'session_id': session_id})}")
    if not principal.has(*FEEDBACK_ROLES):
        return _forbidden(request, "feedback sheets are for students who attended", principal)
    await handlers.submit_feedback(
        runtime,
        settings,
        SubmitFeedback(
            feedback_id=str(uuid.uuid4()),
            session_id=session_id,
            student_number=principal.sub,
            guard="",
            understanding=understanding,
            enjoyable=enjoyable,
            recommend=recommend,
            comment=comment,
            anonymous=bool(anonymous),
        ),
        command_metadata(principal),
    )
    return _message(request, "Thank you", "Your feedback was sent.", 201, tone="ok")


# -- kiosk -------------------------------------------------------------------------------------


async def _open_in_room(
    runtime: Runtime, settings: AttendanceSettings, room: str, at: datetime
) -> list[SessionView]:
    window = settings.window
    async with runtime.engine.connect() as conn:
        nearby = await queries.sessions_in_room(
            conn, room, at - window.late, at + window.open_before
        )
    return [s for s in nearby if not s.cancelled and window.contains(s, at)]


KIOSK_ROLES = ("integration", "leader")
KIOSK_ONLY = "a kiosk runs on an integration (kiosk) account or a leader's"


async def _kiosk(
    request: Request,
    runtime: Runtime,
    settings: AttendanceSettings,
    room: str,
    result: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    sessions = await _open_in_room(runtime, settings, room, now())
    return _page(
        request,
        "kiosk.html",
        {
            "room": room,
            "result": result,
            "sessions": [
                {
                    "session_id": s.session_id,
                    "scheme_id": s.scheme_id,
                    "scheme_title": s.scheme_title,
                    "starts": _local(settings, s.starts_at, "%H:%M"),
                }
                for s in sessions
            ],
        },
        status_code,
    )


async def _rooms_today(
    request: Request, runtime: Runtime, settings: AttendanceSettings
) -> Response:
    """A device with no room yet: the rooms with sessions today (local day), each a link to its
    kiosk page, and a box to type the room."""
    tz = settings.tz
    today = now().astimezone(tz).date()
    start = datetime.combine(today, time.min, tzinfo=tz)
    end = datetime.combine(today + timedelta(days=1), time.min, tzinfo=tz)
    async with runtime.engine.connect() as conn:
        sessions = await queries.sessions_between(conn, start, end)
    rooms: dict[str, list[dict[str, str]]] = {}
    for s in sessions:
        rooms.setdefault(s.room, []).append(
            {
                "title": s.scheme_title or s.scheme_id,
                "times": f"{_local(settings, s.starts_at, '%H:%M')} to "
                f"{_local(settings, s.ends_at, '%H:%M')}",
            }
        )
    return _page(
        request,
        "kiosk_rooms.html",
        {
            "day": _local(settings, start, "%A %d %B %Y"),
            "rooms": [
                {"room": room, "url": f"/kiosk?{urlencode({'room': room})}", "sessions": found}
                for room, found in rooms.items()
            ],
        },
    )


@router.get("/kiosk")
@shows_errors
async def kiosk_page(
    request: Request,
    runtime: RuntimeDep,
    settings: SettingsDep,
    room: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """A room's sign-in device: logged in with an integration (or rostered leader) token.
    Without a room, the rooms with sessions today to choose from."""
    principal = page_principal(request, settings)
    if principal is None:
        return _login(
            request, _here(request), intro="Log in this device with a kiosk or leader token."
        )
    if not principal.has(*KIOSK_ROLES):
        return _forbidden(request, KIOSK_ONLY, principal)
    if not room.strip():
        return await _rooms_today(request, runtime, settings)
    return await _kiosk(request, runtime, settings, room.strip())


@router.post("/kiosk")
async def kiosk_form(
    request: Request,
    runtime: RuntimeDep,
    settings: SettingsDep,
    room: Annotated[str, Form(min_length=1, max_length=200)],
    session_id: Annotated[str, Form(min_length=1)],
    student_number: Annotated[str, Form()],
) -> Response:
    principal = page_principal(request, settings)
    if principal is None:
        return _login(request, f"/kiosk?{urlencode({'room': room})}")
    if not principal.has(*KIOSK_ROLES):
        return _forbidden(request, KIOSK_ONLY, principal)
    who = actor(principal)
    try:
        outcome = await handlers.sign_in(
            runtime,
            settings,
            session_id=session_id,
            student_number=student_number_of(settings, student_number),
            method="kiosk",
            now=now(),
            metadata=command_metadata(principal),
            authorise=lambda session: access.may_use_kiosk(who, session),
        )
    except Rejected as exc:
        return await _kiosk(
            request, runtime, settings, room, {"tone": "bad", "text": exc.message}, exc.status_code
        )
    number = outcome.attendance.student_number
    text = f"{number} is signed in." if outcome.created else f"{number} was already signed in."
    return await _kiosk(
        request,
        runtime,
        settings,
        room,
        {"tone": "ok", "text": text},
        201 if outcome.created else 200,
    )
