"""The rota: generate it for a scheme or a series, and see it (with short sessions and the
spread of sessions per leader)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from passhub_sessions import handlers, queries
from passhub_sessions.api.deps import STAFF, context, ensure_organises
from passhub_sessions.domain.rota import Spread, first_moment, spread_of
from passhub_sessions.settings import now, sessions_settings
from passhub_shared.app import RuntimeDep
from passhub_shared.auth import Principal, require

router = APIRouter(tags=["rota"])


class GenerateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: only this series (default: every session of the scheme)
    series_id: str | None = Field(default=None, max_length=64)
    #: fill sessions on or after this date (default: from now; sessions already started are
    #: never touched)
    starting_from: date | None = Field(default=None, alias="from")


def spread_view(spread: Spread) -> dict[str, Any]:
    return {
        "leaders": spread.leaders,
        "min": spread.min,
        "max": spread.max,
        "mean": spread.mean,
        "per_leader": dict(spread.per_leader),
    }


@router.post("/schemes/{scheme_id}/rota")
async def generate_rota(
    scheme_id: str,
    runtime: RuntimeDep,
    body: GenerateBody | None = None,
    principal: Principal = require("coordinator", "organiser"),
) -> dict[str, Any]:
    """Fill the sessions up to the scheme's minimum of leaders; report what could not be."""
    body = body or GenerateBody()
    ctx = context(runtime, principal)
    starting_after = ctx.now
    if body.starting_from is not None:
        starting_after = max(starting_after, first_moment(body.starting_from, ctx.tz))
    async with runtime.transaction() as conn:
        scheme = await queries.require_scheme(conn, scheme_id)
        await ensure_organises(conn, runtime, principal, scheme)
        result = await handlers.generate(
            conn, ctx, scheme, series_id=body.series_id, starting_after=starting_after
        )
    plan = result.plan
    return {
        "scheme_id": scheme_id,
        "series_id": body.series_id,
        "sessions_considered": result.sessions_considered,
        "minimum_per_session": scheme["min_leaders_per_session"],
        "rostered": [
            {"session_id": a.session_id, "student_number": a.student_number}
            for a in plan.assignments
        ],
        "unfillable": [
            {
                "session_id": s.session_id,
                "starts_at": queries.local_iso(s.starts_at, ctx.tz),
                "teaching_week": s.teaching_week,
                "rostered": s.rostered,
                "needed": s.needed,
                "reason": s.reason,
            }
            for s in plan.shortfalls
        ],
        "leaders_without_availability": result.leaders_without_availability,
        "spread": spread_view(plan.spread),
    }


@router.get("/schemes/{scheme_id}/rota")
async def view_rota(
    scheme_id: str,
    runtime: RuntimeDep,
    starting_from: datetime | None = Query(default=None, alias="from"),
    principal: Principal = require(*STAFF),
) -> dict[str, Any]:
    """Uncancelled sessions with their leaders, the short ones, and the spread per leader."""
    tz = sessions_settings(runtime).tz
    since = starting_from or now(runtime)
    if since.tzinfo is None:
        since = since.replace(tzinfo=tz)
    async with runtime.engine.connect() as conn:
        scheme = await queries.require_scheme(conn, scheme_id)
        rows = await queries.scheme_sessions(
            conn, scheme_id, starting_after=since, include_cancelled=False
        )
        on = await queries.rostered_on(conn, [r["session_id"] for r in rows])
        leaders = await queries.leaders_of(conn, scheme_id)
        load = await queries.scheme_load(conn, scheme_id)
    minimum = scheme["min_leaders_per_session"]
    active = {
        r["student_number"]: load.get(r["student_number"], 0)
        for r in leaders
        if r["leader"] and r["stood_down_from"] is None
    }
    sessions = [queries.session_view(r, tz, on[r["session_id"]]) for r in rows]
    return {
        "scheme_id": scheme_id,
        "minimum_per_session": minimum,
        "sessions": sessions,
        "short": [
            {
                "session_id": s["session_id"],
                "starts_at": s["starts_at"],
                "teaching_week": s["teaching_week"],
                "rostered": len(s["leaders"]),
                "needed": minimum,
            }
            for s in sessions
            if len(s["leaders"]) < minimum
        ],
        "spread": spread_view(spread_of(active)),
    }
