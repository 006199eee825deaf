"""Logging in with the institution's OpenID Connect provider (authorization code flow with
PKCE, through Authlib), and logging out."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Annotated, Any
from urllib.parse import urlencode

from authlib.integrations.base_client.errors import OAuthError
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from passhub_portal.identity import NoNumber, identity_from_claims
from passhub_portal.web import PageError, check_csrf, page, settings_of

router = APIRouter()
log = logging.getLogger("passhub.portal.auth")


def safe_next(value: str | None) -> str:
    """Only paths on this site: never another origin (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


@router.get("/login")
async def login(request: Request, next: str = "/") -> Response:
    settings = settings_of(request)
    request.session["next"] = safe_next(next)
    client = request.app.state.oauth.idp
    try:
        return await client.authorize_redirect(request, f"{settings.public_url}/auth/callback")
    except Exception:
        log.exception("the identity provider did not answer")
        raise PageError(
            "The university login is not answering",
            "passhub could not reach the login page. Wait a moment and try again.",
            status=503,
            next_href=f"/login?{urlencode({'next': safe_next(next)})}",
            next_label="Try again",
        ) from None


@router.get("/auth/callback")
async def callback(request: Request) -> Response:
    settings = settings_of(request)
    client = request.app.state.oauth.idp
    next_url = safe_next(request.session.get("next"))
    try:
        token: dict[str, Any] = await client.authorize_access_token(request)
    except OAuthError as error:
        log.info("login failed: %s", error)
        raise PageError(
            "You are not logged in",
            "The university login did not complete (it was cancelled or took too long). "
            "Nothing was changed.",
            status=400,
            next_href=f"/login?{urlencode({'next': next_url})}",
            next_label="Log in again",
        ) from None
    claims = dict(token.get("userinfo") or {})
    try:
        identity = identity_from_claims(settings, claims)
    except NoNumber:
        request.session.clear()
        raise PageError(
            "Your login has no student or staff number",
            f"You logged in, but your {settings.institution} account did not tell passhub your "
            "student or staff number, so passhub cannot show you anything. Ask the PASS "
            "coordinators or the IT service desk to check your account, then try again.",
            status=403,
            next_href="/",
            next_label="Back to the start page",
        ) from None
    request.session.clear()
    request.session["who"] = identity.as_session()
    request.session["until"] = int(time.time()) + settings.login_ttl_seconds
    request.session["csrf"] = secrets.token_urlsafe(32)
    if token.get("id_token"):
        request.session["id_token"] = token["id_token"]
    log.info("logged in: %s", identity.number)
    return RedirectResponse(next_url, status_code=303)


@router.post("/logout")
async def logout(request: Request, csrf: Annotated[str | None, Form()] = None) -> Response:
    check_csrf(request, csrf)
    settings = settings_of(request)
    id_token = request.session.get("id_token")
    request.session.clear()
    end_session = None
    try:
        metadata = await request.app.state.oauth.idp.load_server_metadata()
        endpoint = metadata.get("end_session_endpoint")
    except Exception:
        endpoint = None
    if endpoint:
        params = {"post_logout_redirect_uri": f"{settings.public_url}/"}
        if id_token:
            params["id_token_hint"] = id_token
        end_session = f"{endpoint}?{urlencode(params)}"
    return page(
        request,
        "logged_out.html",
        {"title": "You are logged out", "end_session": end_session},
    )
