"""What every page shares: the signed session cookie, the signed-in person, CSRF tokens,
security headers and error pages."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, TimestampSigner
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from passhub_portal.clients import Services
from passhub_portal.identity import Identity, Roles, roles_at_request
from passhub_portal.settings import PortalSettings

SESSION_COOKIE = "passhub_portal"
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

#: strict: nothing but this origin, no inline script or style, no framing
CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


class PageError(Exception):
    """An error shown as a page with a next step."""

    def __init__(
        self,
        title: str,
        message: str,
        status: int = 400,
        next_href: str = "/",
        next_label: str = "Go to the start page",
    ) -> None:
        super().__init__(message)
        self.title = title
        self.message = message
        self.status = status
        self.next_href = next_href
        self.next_label = next_label
        #: instead of the page, send the browser here (a page that needs a login)
        self.redirect: str | None = None


class SessionCheck:
    """Inside Starlette's SessionMiddleware: notes a session cookie whose signature does not
    hold (tampered with, signed with another key, or too old), which that middleware silently
    treats as no session, so the page can say so. The middleware never writes an empty session,
    so one cookie sent with an empty session is one it refused: the signature is not checked a
    second time. Only when a request carries several such cookies (the middleware reads the
    last) is the first one checked here."""

    def __init__(self, app: ASGIApp, secret: str, max_age: int) -> None:
        self.app = app
        self.signer = TimestampSigner(secret)
        self.max_age = max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            cookies = _cookies(scope, SESSION_COOKIE)
            refused = not scope.get("session")
            if cookies and (refused or (len(cookies) > 1 and not self._holds(cookies[0]))):
                scope.setdefault("state", {})["bad_session_cookie"] = True
        await self.app(scope, receive, send)

    def _holds(self, cookie: str) -> bool:
        try:
            self.signer.unsign(cookie.encode(), max_age=self.max_age)
        except BadSignature:
            return False
        return True


def _cookies(scope: Scope, name: str) -> list[str]:
    """The values of every cookie called `name`, in the order sent (usually none or one)."""
    found = []
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    found.append(v)
    return found


class SecurityHeaders:
    """A strict Content-Security-Policy and friends on every response (encoded once)."""

    def __init__(self, app: ASGIApp, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts
        self.headers = [
            (b"content-security-policy", CSP.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
        ]
        if hsts:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), *self.headers]
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def settings_of(request: Request) -> PortalSettings:
    settings: PortalSettings = request.app.state.portal_settings
    return settings


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


#: a form the hot path reads itself: at most this many bytes and fields
SMALL_FORM_BYTES = 4096
SMALL_FORM_FIELDS = 10


async def small_form(request: Request) -> dict[str, str]:
    """The fields of a small urlencoded form (the first value of each), read without FastAPI's
    form machinery; anything else (too large, another encoding) is a page, not a 500."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if kind != "application/x-www-form-urlencoded" or len(body) > SMALL_FORM_BYTES:
        raise PageError(
            "This form could not be accepted",
            "The form was not sent from this page. Nothing was changed. Go back and try again.",
            status=400,
        )
    try:
        pairs = parse_qsl(
            body.decode(), keep_blank_values=True, max_num_fields=SMALL_FORM_FIELDS, errors="strict"
        )
    except (UnicodeDecodeError, ValueError):
        raise PageError(
            "This form could not be accepted",
            "The form could not be read. Nothing was changed. Go back and try again.",
            status=400,
        ) from None
    fields: dict[str, str] = {}
    for key, value in pairs:
        fields.setdefault(key, value)
    return fields


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def check_csrf(request: Request, submitted: str | None) -> None:
    """Every form carries the session's CSRF token (synchroniser token in the signed session
    cookie); a post without it, or with another, changes nothing."""
    expected = request.session.get("csrf")
    if not expected or not submitted or not hmac.compare_digest(str(expected), submitted):
        raise PageError(
            "This form could not be accepted",
            "The form was not sent from this page, or it is too old. Nothing was changed. "
            "Go back, reload the page and try again.",
            status=403,
        )


@dataclass
class Person:
    """The signed-in person at this request."""

    identity: Identity
    roles: Roles
    services: Services

    def token(self) -> str:
        """A short-lived bearer token for calls on this person's behalf (one per person and
        roles, kept for half its lifetime: see `Services.person_token`)."""
        if self.roles.kiosk:
            return self.services.person_token(self.identity.number, ("integration",), None)
        return self.services.person_token(
            self.identity.number, self.roles.names, self.identity.name
        )


def _login_required(request: Request, next_url: str, settings: PortalSettings) -> PageError:
    if request.scope.get("state", {}).get("bad_session_cookie"):
        request.session.clear()
        return PageError(
            "Please log in again",
            "Your login on this device could not be checked (the cookie was changed or is "
            "from an old key), so you have been logged out. Nothing was changed.",
            status=400,
            next_href=login_href(next_url),
            next_label="Log in again",
        )
    if request.session.get("expired_at"):
        request.session.pop("expired_at")
        return PageError(
            "Your login has expired",
            f"For your safety passhub logs you out after a while. Log in again with your "
            f"{settings.institution} account to carry on.",
            status=401,
            next_href=login_href(next_url),
            next_label="Log in again",
        )
    error = PageError(
        "Please log in",
        f"Log in with your {settings.institution} account to carry on.",
        status=401,
        next_href=login_href(next_url),
        next_label="Log in",
    )
    if request.method == "GET":
        error.redirect = login_href(next_url)  # straight to the login: one tap fewer
    return error


def login_href(next_url: str) -> str:
    from urllib.parse import urlencode

    return "/login?" + urlencode({"next": next_url})


def signed_in_identity(request: Request) -> Identity | None:
    data = request.session.get("who")
    if not data:
        return None
    if float(request.session.get("until", 0)) < time.time():
        request.session.clear()
        request.session["expired_at"] = int(time.time())
        return None
    return Identity.from_session(data)


async def person(request: Request, *, as_leader: bool = True) -> Person:
    """The signed-in person, with their roles at this request: a leader appointment is asked of
    recruitment now, so a stand-down counts at once. Pages a student uses whether or not they
    lead (`as_leader=False`: the QR sign-in, My PASS, feedback) do not ask, and their calls
    carry the student role only. Not signed in: a `PageError` (401)."""
    settings = settings_of(request)
    identity = signed_in_identity(request)
    if identity is None:
        next_url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise _login_required(request, next_url, settings)
    services = services_of(request)
    ask = as_leader and identity.kiosk_room is None
    leader = await services.is_leader(identity.number) if ask else False
    return Person(identity, roles_at_request(identity, leader), services)


def local(settings: PortalSettings, when: str | datetime, fmt: str = "%A %d %B, %H:%M") -> str:
    value = datetime.fromisoformat(when) if isinstance(when, str) else when
    return value.astimezone(settings.tz).strftime(fmt).replace(" 0", " ")


def page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    settings = settings_of(request)
    # an unexpected error's page is made outside the session middleware: no session then
    # (a new CSRF token also replaces a cookie that could not be read)
    has_session = "session" in request.scope
    session: dict[str, Any] = request.session if has_session else {}
    identity = session.get("who")
    flash = session.pop("flash", None)
    return TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "csrf": csrf_token(request) if has_session else "",
            "who": identity,
            "flash": flash,
            "institution": settings.institution,
            "leader_title": settings.leader_title,
            **context,
        },
        status_code=status_code,
    )


def error_page(request: Request, error: PageError) -> Response:
    if error.redirect:
        return RedirectResponse(error.redirect, status_code=303)
    return page(
        request,
        "message.html",
        {
            "title": error.title,
            "message": error.message,
            "next_href": error.next_href,
            "next_label": error.next_label,
            "bad": True,
        },
        status_code=error.status,
    )


def flash(request: Request, text: str, kind: str = "ok") -> None:
    request.session["flash"] = {"text": text, "kind": kind}
