"""Live headcounts: the sessions on now or next, with their headcounts and leaders, for the
coordinator's console (read in the database, paged: `queries.live_sessions`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from passhub_attendance import queries
from passhub_attendance.api.deps import SettingsDep, now, scoped
from passhub_attendance.api.schemas import LivePage, LiveSession
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require
from passhub_shared.web.errors import Rejected

router = APIRouter(tags=["overview"])


@router.get("/headcounts", response_model=LivePage)
async def live_headcounts(
    runtime: RuntimeDep,
    settings: SettingsDep,
    start: Annotated[
        datetime | None, Query(description="ending at or after (default: now)")
    ] = None,
    end: Annotated[
        datetime | None, Query(description="starting before (default: the end of today, local)")
    ] = None,
    scheme_id: Annotated[str | None, Query(max_length=100)] = None,
    include_cancelled: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    principal: Principal = require("coordinator", "organiser", "academic", "integration"),
) -> LivePage:
    """The sessions on between `start` and `end` (by default those under way or still to come
    today), soonest first, each with its live headcount, its rostered leaders and which of them
    signed in. An organiser sees the schemes they organise only."""
    who = await scoped(runtime, principal)
    tz = settings.tz
    at = now()
    since = start or at
    if since.tzinfo is None:
        since = since.replace(tzinfo=tz)
    if end is None:
        local = since.astimezone(tz)
        until = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tz)
    else:
        until = end if end.tzinfo is not None else end.replace(tzinfo=tz)
    if until <= since:
        raise Rejected("`end` must be after `start`", code="invalid_range")
    organises = None
    if who.has("organiser") and not who.has("coordinator", "academic", "integration"):
        organises = who.organises
    async with runtime.engine.connect() as conn:
        total, rows = await queries.live_sessions(
            conn,
            since=since,
            until=until,
            at=at,
            tz=tz,
            scheme_id=scheme_id,
            include_cancelled=include_cancelled,
            organises=organises,
            offset=offset,
            limit=limit,
        )
    sessions = [LiveSession.model_validate(row) for row in rows]
    return LivePage(at=at, total=total, offset=offset, limit=limit, sessions=sessions)
