"""The rota: generate it for a scheme or a series, and see it (with short sessions and the
spread of sessions per leader)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_sessions import handlers, queries
from passhub_sessions.api.deps import (
    STAFF,
    Preview,
    context,
    ensure_organises,
    in_transaction,
    organised_scheme,
)
from passhub_sessions.api.schemas import (
    Assignment,
    CandidateOut,
    Candidates,
    GenerateBody,
    ProblemOut,
    RotaGenerated,
    RotaView,
    SessionOut,
    Shortfall,
    ShortSession,
    Skipped,
    SpreadOut,
    local_iso,
)
from passhub_sessions.domain.rota import candidates_for, first_moment, spread_of
from passhub_sessions.domain.scheme import code_of
from passhub_sessions.settings import now, sessions_settings
from passhub_shared.contracts.sessions import session_reference
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require
from passhub_shared.web.errors import Rejected

router = APIRouter(tags=["rota"])


def _skipped_note(skipped: list[Skipped], since: date) -> str | None:
    if not skipped:
        return None
    short = sum(1 for s in skipped if s.rostered < s.needed)
    return (
        f"{len(skipped)} session(s) from {since.isoformat()} had already started and were left "
        f'as they are ({short} of them short of leaders); send "backfill": true to roster '
        "past sessions"
    )


@router.post("/schemes/{scheme_id}/rota")
async def generate_rota(
    scheme_id: str,
    runtime: RuntimeDep,
    body: GenerateBody | None = None,
    principal: Principal = require("coordinator", "organiser"),
) -> RotaGenerated:
    """Fill the sessions up to the scheme's minimum of leaders; report what could not be, and
    the sessions from `from` that had already started (filled only with `backfill`)."""
    body = body or GenerateBody()
    ctx = context(runtime, principal)
    if body.backfill and body.starting_from is None:
        raise Rejected(
            "back-filling needs `from`: the first day whose sessions to fill",
            code="backfill_needs_from",
        )
    since = first_moment(body.starting_from, ctx.tz) if body.starting_from is not None else None
    if body.backfill:
        assert since is not None
        starting_after = since
    else:
        starting_after = max(ctx.now, since) if since is not None else ctx.now

    async def work(conn: AsyncConnection) -> tuple[queries.Row, handlers.GeneratedRota]:
        scheme = await organised_scheme(conn, runtime, principal, scheme_id)
        result = await handlers.generate(
            conn,
            ctx,
            scheme,
            series_id=body.series_id,
            starting_after=starting_after,
            skipped_since=since,
        )
        if body.dry_run:
            raise Preview((scheme, result))
        return scheme, result

    try:
        scheme, result = await in_transaction(runtime, work)
    except Preview as preview:
        scheme, result = preview.result
    plan = result.plan
    minimum = scheme["min_leaders_per_session"]
    code = code_of(scheme_id)

    def named(session_id: str, starts_at: datetime, teaching_week: str | None) -> dict[str, Any]:
        return {
            "session_id": session_id,
            "reference": session_reference(code, starts_at, ctx.tz),
            "starts_at": local_iso(starts_at, ctx.tz),
            "teaching_week": teaching_week,
        }

    skipped = [
        Skipped(
            **named(s.session_id, s.starts_at, s.teaching_week),
            rostered=len(s.rostered),
            needed=minimum,
            reason="already_started",
        )
        for s in result.skipped
    ]
    return RotaGenerated(
        scheme_id=scheme_id,
        series_id=body.series_id,
        backfill=body.backfill,
        dry_run=body.dry_run,
        sessions_considered=result.sessions_considered,
        minimum_per_session=minimum,
        rostered=[
            Assignment(session_id=a.session_id, student_number=a.student_number)
            for a in plan.assignments
        ],
        unfillable=[
            Shortfall(
                **named(s.session_id, s.starts_at, s.teaching_week),
                rostered=s.rostered,
                needed=s.needed,
                reason=s.reason,
            )
            for s in plan.shortfalls
        ],
        past_sessions_skipped=skipped,
        note=_skipped_note(skipped, body.starting_from) if body.starting_from else None,
        leaders_without_availability=result.leaders_without_availability,
        spread=SpreadOut.of(plan.spread),
    )


@router.get("/schemes/{scheme_id}/rota")
async def view_rota(
    scheme_id: str,
    runtime: RuntimeDep,
    starting_from: datetime | None = Query(default=None, alias="from"),
    principal: Principal = require(*STAFF),
) -> RotaView:
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
    sessions = [SessionOut.of(r, tz, on[r["session_id"]]) for r in rows]
    return RotaView(
        scheme_id=scheme_id,
        minimum_per_session=minimum,
        sessions=sessions,
        short=[
            ShortSession(
                session_id=s.session_id,
                starts_at=s.starts_at,
                teaching_week=s.teaching_week,
                rostered=len(s.leaders or []),
                needed=minimum,
            )
            for s in sessions
            if len(s.leaders or []) < minimum
        ],
        spread=SpreadOut.of(spread_of(active)),
    )


@router.get("/sessions/{session_id}/candidates")
async def session_candidates(
    session_id: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator", "organiser"),
) -> Candidates:
    """Every appointed leader of the session's scheme: who is on it, who could be put on it,
    and why each other one may not (the check every rostering change makes): what a rota
    editor shows before saving a change, and why a session is short."""
    settings = sessions_settings(runtime)
    tz = settings.tz
    async with runtime.engine.connect() as conn:
        row = await queries.require_session(conn, session_id)
        scheme = await queries.require_scheme(conn, row["scheme_id"])
        await ensure_organises(conn, runtime, principal, scheme)
        leaders = await queries.leaders_of(conn, scheme["scheme_id"])
        numbers = [r["student_number"] for r in leaders]
        on = (await queries.rostered_on(conn, [session_id]))[session_id]
        commitments = await queries.leader_bookings(
            conn, numbers, row["starts_at"], row["ends_at"], exclude=[session_id]
        )
        availability = await queries.availability_of(conn, scheme["academic_year"], numbers)
        load = await queries.scheme_load(conn, scheme["scheme_id"])
    session = queries.as_rota_session(row, [r["student_number"] for r in on])
    listed = candidates_for(
        session,
        [queries.as_appointment(r) for r in leaders],
        availability,
        commitments,
        load,
        scheme["min_leaders_per_session"],
        tz,
        runtime.settings.leader_title,
    )
    names = {r["student_number"]: r.get("name") for r in leaders}
    return Candidates(
        session_id=session_id,
        reference=session_reference(code_of(row["scheme_id"]), row["starts_at"], tz),
        needed=listed.needed,
        rostered=listed.rostered,
        short=listed.why_short is not None,
        why_short=listed.why_short,
        candidates=[
            CandidateOut(
                student_number=c.student_number,
                name=names.get(c.student_number),
                rostered=c.rostered,
                free=c.problem is None,
                problem=None
                if c.problem is None
                else ProblemOut(
                    kind=c.problem.kind,
                    message=c.problem.message,
                    clash_session_id=c.problem.clash.session_id if c.problem.clash else None,
                ),
                load=c.load,
            )
            for c in listed.candidates
        ],
    )
