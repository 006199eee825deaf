"""Bearer JWT auth with roles.

Issuer, audience and keys are settings, so an institution's single sign-on can issue the
tokens: a shared secret (HS256, the dev default) or a PEM public key (RS256/ES256/EdDSA).
Claims used: `sub` (the user; for students and leaders, their student number), `roles` (a list),
optional `name`. Every token must carry `iat` and `exp`, at most `PASSHUB_JWT_MAX_LIFETIME_SECONDS`
apart, so a token made or stolen once does not open passhub for years.

With `PASSHUB_JWT_JWKS_URL` set (the portal's `/.well-known/jwks.json`), a token whose header
names a key id (`kid`) is verified with that key from the JWKS, fetched and cached by PyJWT's
`PyJWKClient`; tokens without a key id (`passhub token`) are verified as before.
"""

from __future__ import annotations

import base64
import binascii
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import jwt
import orjson
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from passhub_shared.operations.settings import Settings
from passhub_shared.web.guards import unstorable

Role = Literal["coordinator", "organiser", "leader", "student", "academic", "integration"]
ROLES: tuple[str, ...] = (
    "coordinator",
    "organiser",
    "leader",
    "student",
    "academic",
    "integration",
)

_bearer = HTTPBearer(auto_error=False)


@dataclass(frozen=True)
class Principal:
    sub: str
    roles: frozenset[str]
    name: str | None = None

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class TokenLifetimeTooLong(jwt.InvalidTokenError):
    """`exp - iat` is longer than the services accept."""


def check_lifetime(claims: dict[str, Any], max_seconds: int) -> None:
    """Refuse a token whose `exp` is more than `max_seconds` after its `iat`."""
    lifetime = float(claims["exp"]) - float(claims["iat"])
    if lifetime > max_seconds:
        raise TokenLifetimeTooLong(
            f"the token lasts {lifetime / 3600:g} hours, longer than the "
            f"{max_seconds / 3600:g} hours accepted (PASSHUB_JWT_MAX_LIFETIME_SECONDS)"
        )


def make_token(
    settings: Settings,
    sub: str,
    roles: list[str],
    name: str | None = None,
    ttl: timedelta | None = None,
) -> str:
    """A token signed with the dev secret (`passhub token`, tests); it lasts `ttl`, at most
    (and by default) the longest lifetime the services accept."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}; choose from {ROLES}")
    longest = timedelta(seconds=settings.jwt_max_lifetime_seconds)
    ttl = longest if ttl is None else ttl
    if ttl > longest:
        raise ValueError(
            f"a token may last at most {longest.total_seconds() / 3600:g} hours "
            "(PASSHUB_JWT_MAX_LIFETIME_SECONDS)"
        )
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": sub,
        "roles": roles,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl,
    }
    if name:
        claims["name"] = name
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


#: what a JWKS key may sign with (never HS256: the JWKS is public)
JWKS_ALGORITHMS = ["EdDSA", "ES256", "RS256"]
_jwks_clients: dict[str, jwt.PyJWKClient] = {}
_jwks_lock = threading.Lock()


def jwks_client(url: str) -> jwt.PyJWKClient:
    """One caching client per JWKS URL: keys are kept for `lifespan` seconds, and an unknown
    key id makes it fetch the set again (a rotated key is picked up at once)."""
    with _jwks_lock:
        client = _jwks_clients.get(url)
        if client is None:
            client = jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5)
            _jwks_clients[url] = client
        return client


def verification_key(settings: Settings, token: str) -> tuple[object, list[str]]:
    """The key and algorithms to verify `token` with: the JWKS key its `kid` names, when a JWKS
    URL is set and the token has one; otherwise the configured public key or shared secret.

    A JWKS that cannot be fetched, or has no such key, is an invalid token (401), not a 500.
    """
    if settings.jwt_jwks_url:
        kid = key_id(token)
        if kid:
            try:
                found = jwks_client(settings.jwt_jwks_url).get_signing_key(kid)
            except jwt.PyJWKClientError as error:
                raise jwt.InvalidTokenError(f"no key for this token: {error}") from None
            return found.key, JWKS_ALGORITHMS
    return settings.jwt_public_key or settings.jwt_secret, settings.jwt_algorithms


def key_id(token: str) -> str | None:
    """The `kid` of a token's header, read from the first segment alone. Only to choose the
    key: `jwt.decode` then checks the whole token. Reading it with `jwt.get_unverified_header`
    parsed and checked every segment a first time, a sixth of the cost of verifying a portal
    token in `bench.portal`."""
    segment = token.split(".", 1)[0]
    try:
        header = orjson.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error):
        raise jwt.InvalidTokenError("the token's header cannot be read") from None
    kid = header.get("kid") if isinstance(header, dict) else None
    return str(kid) if kid else None


def verify_token(settings: Settings, token: str) -> Principal:
    key, algorithms = verification_key(settings, token)
    claims = jwt.decode(
        token,
        key,  # type: ignore[arg-type]
        algorithms=algorithms,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        options={"require": ["sub", "exp", "iat"]},
    )
    check_lifetime(claims, settings.jwt_max_lifetime_seconds)
    roles = claims.get("roles") or []
    if isinstance(roles, str):
        roles = roles.split()
    sub, name = str(claims["sub"]), claims.get("name")
    for claim, value in (("sub", sub), ("name", name)):
        # the subject is written into every event the caller appends
        problem = unstorable(value) if isinstance(value, str) else None
        if problem is not None or (claim == "sub" and not sub.strip()):
            raise jwt.InvalidTokenError(f"the {claim} claim holds {problem or 'nothing'}")
    return Principal(sub=sub, roles=frozenset(roles), name=name if isinstance(name, str) else None)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise _unauthorized("a bearer token is required")
    settings: Settings = request.app.state.settings
    try:
        return verify_token(settings, credentials.credentials)
    except jwt.ExpiredSignatureError:
        raise _unauthorized("the token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise _unauthorized(f"invalid token: {exc}") from None


def require(*roles: str):  # type: ignore[no-untyped-def]
    """Dependency: the caller must hold one of `roles` (403 otherwise)."""

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if not principal.has(*roles):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"this needs one of the roles: {', '.join(roles)}",
            )
        return principal

    return Depends(dependency)
