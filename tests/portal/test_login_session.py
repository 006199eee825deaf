"""The portal's login session without a browser: the redirect to the provider with PKCE, an
expired or forged session cookie, a form posted without its CSRF token, the security headers
and the JWKS. The portal runs in-process (no services are called on these paths)."""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from itsdangerous import TimestampSigner

from passhub_portal.app import create_portal
from passhub_portal.tokens import TokenIssuer
from passhub_shared.dev.oidcserver import OidcProvider
from passhub_shared.operations.settings import Settings
from passhub_shared.web.auth import verify_token
from tests.portal.stack import portal_settings


@pytest.fixture
async def portal(oidc: OidcProvider) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    urls = {
        name: "http://127.0.0.1:9"
        for name in ("recruitment", "sessions", "attendance", "recognition")
    }
    settings = portal_settings({"portal": "http://portal.test", **urls}, oidc)
    app = create_portal(settings, Settings(log_json=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
            yield client, settings


def cookie_for(settings: Any, data: dict[str, Any]) -> str:
    """A session cookie as Starlette's SessionMiddleware signs it."""
    payload = base64.b64encode(json.dumps(data).encode())
    return TimestampSigner(settings.session_secret.get_secret_value()).sign(payload).decode()


def who(until: float) -> dict[str, Any]:
    return {
        "who": {"number": "S1", "name": "Ada", "staff_roles": [], "kiosk_room": None},
        "until": until,
        "csrf": "known-token",
    }


async def test_a_page_sends_a_stranger_to_the_provider_with_pkce(portal: Any) -> None:
    client, settings = portal
    first = await client.get("/me")
    assert first.status_code == 303 and first.headers["location"] == "/login?next=%2Fme"
    login = await client.get(first.headers["location"])
    assert login.status_code == 302
    target = urlsplit(login.headers["location"])
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}" == settings.oidc_issuer
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"]
    assert query["redirect_uri"] == ["http://portal.test/auth/callback"]
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie


async def test_an_expired_login_and_a_forged_cookie_get_pages_that_say_so(portal: Any) -> None:
    client, settings = portal
    client.cookies.set("passhub_portal", cookie_for(settings, who(time.time() - 1)))
    expired = await client.get("/me")
    assert expired.status_code == 401 and "Your login has expired" in expired.text
    assert 'href="/login?next=%2Fme"' in expired.text

    client.cookies.set("passhub_portal", cookie_for(settings, who(time.time() + 60))[:-2] + "xx")
    forged = await client.get("/me")
    assert forged.status_code == 400 and "Please log in again" in forged.text

    other_key = TimestampSigner(secrets.token_urlsafe(32)).sign(
        base64.b64encode(json.dumps(who(time.time() + 60)).encode())
    )
    client.cookies.set("passhub_portal", other_key.decode())
    assert (await client.get("/leader")).status_code == 400


async def test_a_form_without_its_csrf_token_changes_nothing(portal: Any) -> None:
    client, settings = portal
    client.cookies.set("passhub_portal", cookie_for(settings, who(time.time() + 60)))
    for path in ("/logout", "/kiosk", "/feedback/S1", "/leader/sessions/S1/add"):
        for form in ({}, {"csrf": "another-token"}):
            r = await client.post(path, data=form)
            assert r.status_code == 403, (path, r.text)
            assert "This form could not be accepted" in r.text
    # still logged in: the logout did not happen
    assert "passhub_portal" in client.cookies


async def test_pages_carry_a_strict_csp_and_the_jwks_verifies_the_tokens(portal: Any) -> None:
    client, settings = portal
    page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert "<script>" not in page.text and "style=" not in page.text
    jwks = (await client.get("/.well-known/jwks.json")).json()
    [key] = jwks["keys"]
    assert key["kty"] == "OKP" and key["alg"] == "EdDSA" and "d" not in key
    issuer = client._transport.app.state.issuer  # type: ignore[attr-defined]
    assert isinstance(issuer, TokenIssuer)
    token = issuer.issue("S1", ["student"], "Ada")
    header = jwt.get_unverified_header(token)
    assert header["kid"] == key["kid"]
    claims = jwt.decode(
        token,
        jwt.PyJWK(key).key,
        algorithms=["EdDSA"],
        audience="passhub",
        issuer="passhub",
    )
    assert claims["exp"] - claims["iat"] == settings.token_ttl_seconds
    with pytest.raises(jwt.InvalidTokenError):
        verify_token(Settings(), token)  # a service without the JWKS refuses it


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def test_unknown_pages_and_bad_forms_are_pages_not_json(portal: Any) -> None:
    client, _ = portal
    missing = await client.get("/no-such-page")
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert missing.headers["content-type"].startswith("text/html")
    # the sign-in reads its form itself: another encoding, a huge body or a form without its
    # session are pages too
    code = "/s/S1.AAAAAA.abcdefghijklmnop"
    for kwargs, status in (
        ({"json": {"session_id": "S1"}}, 400),
        ({"data": {"session_id": "S1", "x": "y" * 5000}}, 400),
        ({"data": {"csrf": "x"}}, 422),
        ({"content": b"session_id=%ff%fe", "headers": FORM}, 400),
    ):
        r = await client.post(code, **kwargs)
        assert r.status_code == status, (kwargs, r.text)
        assert r.headers["content-type"].startswith("text/html")


async def test_an_unexpected_error_is_a_page_too(portal: Any, monkeypatch: Any) -> None:
    client, settings = portal

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("starts_at")

    from passhub_portal.clients import Services

    monkeypatch.setattr(Services, "call", broken)
    client.cookies.set("passhub_portal", cookie_for(settings, who(time.time() + 60)))
    # type: ignore[attr-defined]
    transport = httpx.ASGITransport(app=client._transport.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as c:
        c.cookies.set("passhub_portal", cookie_for(settings, who(time.time() + 60)))
        r = await c.get("/me")
    assert r.status_code == 500 and "Something went wrong" in r.text
    assert r.headers["content-type"].startswith("text/html")
