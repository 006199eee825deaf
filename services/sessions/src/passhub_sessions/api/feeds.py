"""iCalendar feeds per leader and per scheme, served as text/calendar.

Read with a bearer token like any route, or with the signed `?token=` of the feed's link
(`GET .../link`), which calendar apps can subscribe to as it is.
"""

from __future__ import annotations

from typing import Annotated

import jwt
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_sessions import feeds, queries
from passhub_sessions.api.deps import READERS, ensure_speaks_for
from passhub_sessions.api.schemas import FeedLink
from passhub_sessions.settings import sessions_settings
from passhub_shared.operations.service import Runtime
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require, verify_token
from passhub_shared.web.errors import Forbidden

router = APIRouter(tags=["feeds"])
_bearer = HTTPBearer(auto_error=False)
CALENDAR = "text/calendar; charset=utf-8"


class Unauthorised(Exception):
    pass


def feed_secret(runtime: Runtime) -> str:
    return sessions_settings(runtime).feed_secret


async def _principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    if credentials is None:
        return None
    try:
        return verify_token(request.app.state.settings, credentials.credentials)
    except jwt.InvalidTokenError:
        return None


OptionalPrincipal = Annotated[Principal | None, Depends(_principal)]


def _authorised_by_token(runtime: Runtime, kind: str, ident: str, token: str | None) -> bool:
    if token is None:
        return False
    if not feeds.token_matches(feed_secret(runtime), kind, ident, token):
        raise Forbidden("this feed link is not valid (it may have been revoked)")
    return True


def _unauthorised() -> Response:
    return Response(
        '{"detail": "a bearer token or a signed feed link is required", "code": "unauthorised"}',
        status_code=401,
        media_type="application/json",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _link(request: Request, runtime: Runtime, kind: str, ident: str, path: str) -> FeedLink:
    """The feed's signed link: `path` on the public URL (or the one the request came in on)."""
    token = feeds.feed_token(feed_secret(runtime), kind, ident)
    base = sessions_settings(runtime).public_url.rstrip("/") or str(request.base_url).rstrip("/")
    return FeedLink(url=f"{base}{path}?token={token}", token=token)


async def _leader_feed(conn: AsyncConnection, runtime: Runtime, student_number: str) -> bytes:
    settings = sessions_settings(runtime)
    rows = await queries.leader_sessions(conn, student_number)
    on = await queries.rostered_on(conn, [r["session_id"] for r in rows])
    title = runtime.settings.leader_title
    entries = []
    for r in rows:
        others = [x["name"] or x["student_number"] for x in on[r["session_id"]]]
        if r["rostered"]:
            description = f"{title}s: " + ", ".join(others)
        else:
            description = "You are no longer rostered on this session"
            if r["unrostered_reason"]:
                description += f" ({r['unrostered_reason']})"
        if r["cancelled"]:
            description = f"Cancelled: {r['cancel_reason']}"
        entries.append(
            feeds.FeedEntry(
                session_id=r["session_id"],
                starts_at=r["starts_at"],
                ends_at=r["ends_at"],
                summary=f"{r['scheme_title'] or r['scheme_id']} ({title})",
                location=r["room"],
                description=description,
                cancelled=r["cancelled"] or not r["rostered"],
                sequence=r["sequence"],
                created=r["scheduled_at"],
                changed=r["updated_at"],
            )
        )
    return feeds.render(
        f"{title} sessions: {student_number}", entries, settings.tz, settings.calendar_domain
    )


async def _scheme_feed(conn: AsyncConnection, runtime: Runtime, scheme_id: str) -> bytes:
    settings = sessions_settings(runtime)
    scheme = await queries.require_scheme(conn, scheme_id)
    rows = await queries.scheme_sessions(conn, scheme_id)
    entries = [
        feeds.FeedEntry(
            session_id=r["session_id"],
            starts_at=r["starts_at"],
            ends_at=r["ends_at"],
            summary=scheme["title"],
            location=r["room"],
            description=(
                f"Cancelled: {r['cancel_reason']}"
                if r["cancelled"]
                else f"{scheme['title']} ({scheme['school']}); room {r['room']}, "
                f"up to {r['capacity']} students"
            ),
            cancelled=r["cancelled"],
            sequence=r["sequence"],
            created=r["scheduled_at"],
            changed=r["updated_at"],
        )
        for r in rows
    ]
    return feeds.render(scheme["title"], entries, settings.tz, settings.calendar_domain)


@router.get("/feeds/leaders/{student_number}.ics", response_class=Response)
async def leader_feed(
    student_number: str,
    runtime: RuntimeDep,
    principal: OptionalPrincipal,
    token: str | None = Query(default=None),
) -> Response:
    async with runtime.engine.connect() as conn:
        if not _authorised_by_token(runtime, "leader", student_number, token):
            if principal is None:
                return _unauthorised()
            await ensure_speaks_for(conn, runtime, principal, student_number)
        body = await _leader_feed(conn, runtime, student_number)
    return Response(body, media_type=CALENDAR)


@router.get("/feeds/schemes/{scheme_id}.ics", response_class=Response)
async def scheme_feed(
    scheme_id: str,
    runtime: RuntimeDep,
    principal: OptionalPrincipal,
    token: str | None = Query(default=None),
) -> Response:
    async with runtime.engine.connect() as conn:
        if not _authorised_by_token(runtime, "scheme", scheme_id, token):
            if principal is None:
                return _unauthorised()
            if not principal.has(*READERS):
                raise Forbidden("no role that may read this feed")
        body = await _scheme_feed(conn, runtime, scheme_id)
    return Response(body, media_type=CALENDAR)


@router.get("/feeds/leaders/{student_number}/link")
async def leader_feed_link(
    student_number: str,
    request: Request,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator", "organiser", "leader"),
) -> FeedLink:
    """A link to subscribe to in a calendar app (anyone holding it can read the feed)."""
    async with runtime.engine.connect() as conn:
        await ensure_speaks_for(conn, runtime, principal, student_number)
    path = f"/feeds/leaders/{student_number}.ics"
    return _link(request, runtime, "leader", student_number, path)


@router.get("/feeds/schemes/{scheme_id}/link")
async def scheme_feed_link(
    scheme_id: str,
    request: Request,
    runtime: RuntimeDep,
    principal: Principal = require(*READERS),
) -> FeedLink:
    async with runtime.engine.connect() as conn:
        await queries.require_scheme(conn, scheme_id)
    path = f"/feeds/schemes/{scheme_id}.ics"
    return _link(request, runtime, "scheme", scheme_id, path)
