"""Bearer JWT auth with roles.

Issuer, audience and keys are settings, so an institution's single sign-on can issue the
tokens: a shared secret (HS256, the dev default) or a PEM public key (RS256/ES256/EdDSA).
Claims used: `sub` (the user; for students and leaders, their student number), `roles` (a list),
optional `name`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from passhub_shared.guards import unstorable
from passhub_shared.settings import Settings

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


def make_token(
    settings: Settings,
    sub: str,
    roles: list[str],
    name: str | None = None,
    ttl: timedelta = timedelta(hours=12),
) -> str:
    """A token signed with the dev secret (`passhub token`, tests)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}; choose from {ROLES}")
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


def verify_token(settings: Settings, token: str) -> Principal:
    key = settings.jwt_public_key or settings.jwt_secret
    claims = jwt.decode(
        token,
        key,
        algorithms=settings.jwt_algorithms,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        options={"require": ["sub", "exp"]},
    )
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
