"""The rota: generate it for a scheme or a series, and see it (with short sessions and the
spread of sessions per leader)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from passhub_sessions import handlers, queries
from passhub_sessions.api.deps import STAFF, Preview, context, ensure_organises
from passhub_sessions.domain.rota import Spread, candidates_for, first_moment, spread_of
from passhub_sessions.domain.scheme import code_of
from passhub_sessions.settings import now, sessions_settings
from passhub_shared.app import RuntimeDep
from passhub_shared.auth import Principal, require
from passhub_shared.contracts.sessions import session_reference
from passhub_shared.errors import Rejected

router = APIRouter(tags=["rota"])


class GenerateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    #: only this series (default: every session of the scheme)
    series_id: str | None = Field(default=None, max_length=64)
    #: fill sessions on or after this date (default: from now). Sessions that have already
    #: started are left as they are, and listed in `past_sessions_skipped`, unless `backfill`
    starting_from: date | None = Field(default=None, alias="from")
    #: also fill the sessions from `from` that have already started (it needs `from`), with the
    #: same rules: appointment and stand-down dates, stated availability, no double booking
    backfill: bool = False
    #: work out the rota and answer as if it were saved, but save nothing (a preview)
    dry_run: bool = False


class Assignment(BaseModel):
    session_id: str
    student_number: str


class Shortfall(BaseModel):
    session_id: str
    reference: str
    starts_at: str
    teaching_week: str | None
    rostered: int
    needed: int
    reason: str


class Skipped(BaseModel):
    """A session of the request's range that was not filled, and why."""

    session_id: str
    #: what people call it: `PHYS-2026-10-06-14:00` (local date and start)
    reference: str
    starts_at: str
    teaching_week: str | None
    rostered: int
    needed: int
    #: always `already_started` (the only reason a session of the range is skipped)
    reason: Literal["already_started"]


class SpreadOut(BaseModel):
    leaders: int
    min: int
    max: int
    mean: float
    per_leader: dict[str, int]


class RotaGenerated(BaseModel):
    scheme_id: str
    series_id: str | None
    #: true when the sessions from `from` that had already started were filled too
    backfill: bool
    #: true when nothing was saved (a preview)
    dry_run: bool = False
    #: sessions filled (or found full) by this request, past ones included when back-filling
    sessions_considered: int
    minimum_per_session: int
    rostered: list[Assignment]
    unfillable: list[Shortfall]
    #: sessions from `from` that had already started, left as they are (send `backfill: true`
    #: to fill them); empty when `from` is not in the past or when back-filling
    past_sessions_skipped: list[Skipped]
    #: what was skipped and why, in a sentence (None when nothing was)
    note: str | None
    leaders_without_availability: list[str]
    spread: SpreadOut


def spread_view(spread: Spread) -> dict[str, Any]:
    return {
        "leaders": spread.leaders,
        "min": spread.min,
        "max": spread.max,
        "mean": spread.mean,
        "per_leader": dict(spread.per_leader),
    }


def _skipped_note(skipped: list[Skipped], since: date) -> str | None:
    if not skipped:
        return None
    short = sum(1 for s in skipped if s.rostered < s.needed)
    return (
        f"{len(skipped)} session(s) from {since.isoformat()} had already started and were left "
        f'as they are ({short} of them short of leaders); send "backfill": true to roster '
        "past sessions"
    )


@router.post("/schemes/{scheme_id}/rota", response_model=RotaGenerated)
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
    try:
        async with runtime.transaction() as conn:
            scheme = await queries.require_scheme(conn, scheme_id)
            await ensure_organises(conn, runtime, principal, scheme)
            result = await handlers.generate(
                conn,
                ctx,
                scheme,
                series_id=body.series_id,
                starting_after=starting_after,
                skipped_since=since,
            )
            if body.dry_run:
                raise Preview(result)
    except Preview as preview:
        result = preview.result
    plan = result.plan
    minimum = scheme["min_leaders_per_session"]
    code = code_of(scheme_id)
    skipped = [
        Skipped(
            session_id=s.session_id,
            reference=session_reference(code, s.starts_at, ctx.tz),
            starts_at=queries.local_iso(s.starts_at, ctx.tz),
            teaching_week=s.teaching_week,
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
                session_id=s.session_id,
                reference=session_reference(code, s.starts_at, ctx.tz),
                starts_at=queries.local_iso(s.starts_at, ctx.tz),
                teaching_week=s.teaching_week,
                rostered=s.rostered,
                needed=s.needed,
                reason=s.reason,
            )
            for s in plan.shortfalls
        ],
        past_sessions_skipped=skipped,
        note=_skipped_note(skipped, body.starting_from) if body.starting_from else None,
        leaders_without_availability=result.leaders_without_availability,
        spread=SpreadOut(**spread_view(plan.spread)),
    )


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


class ProblemOut(BaseModel):
    #: not_appointed, not_yet_appointed, stood_down, no_availability, unavailable or clash
    kind: str
    message: str
    #: for a clash, the leader's other session
    clash_session_id: str | None = None


class CandidateOut(BaseModel):
    student_number: str
    name: str | None
    #: on the session now
    rostered: bool
    #: may be put on it (rostered or not, no problem)
    free: bool
    problem: ProblemOut | None
    #: uncancelled sessions of the scheme the leader is rostered on
    load: int


class Candidates(BaseModel):
    session_id: str
    reference: str
    needed: int
    rostered: int
    short: bool
    #: why the session is short, in the generator's words ("of 3 other appointed leaders: 2
    #: not available then, 1 already booked then"); null when it is not short
    why_short: str | None
    candidates: list[CandidateOut]


@router.get("/sessions/{session_id}/candidates", response_model=Candidates)
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
