"""Appointed leaders and student organisers."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query

from passhub_recruitment import queries
from passhub_recruitment.api.deps import ANYONE, LEADER_READERS, ensure_own, settings
from passhub_recruitment.api.schemas import LeaderView
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require

router = APIRouter(tags=["leaders"])

#: the query parameters of the lists of appointments
AS_OF = Query(
    default=None, description="only those in post that day (default: all not stood down by today)"
)
INCLUDE_PAST = Query(default=False, description="also those who stood down")


async def _appointed(
    runtime: RuntimeDep,
    principal: Principal,
    as_of: date | None,
    include_past: bool,
    *,
    scheme_id: str | None = None,
    academic_year: str | None = None,
) -> list[LeaderView]:
    """The appointments of a scheme or a year: in post on `as_of`, else every one ever made
    (`include_past`), else those not stood down by today; as the caller may see them."""
    async with runtime.engine.connect() as conn:
        found = await queries.leaders(
            conn,
            scheme_id=scheme_id,
            academic_year=academic_year,
            as_of=as_of,
            not_stood_down_on=None if include_past or as_of else settings().today(),
        )
    return [leader.seen_by(principal) for leader in found]


@router.get("/schemes/{scheme_id}/leaders", response_model=list[LeaderView])
async def scheme_leaders(
    scheme_id: str,
    runtime: RuntimeDep,
    as_of: date | None = AS_OF,
    include_past: bool = INCLUDE_PAST,
    principal: Principal = require(*LEADER_READERS),
) -> list[LeaderView]:
    """The leaders and organisers appointed to a scheme (emails for coordinators, organisers
    and integrations; why one stood down for coordinators only)."""
    return await _appointed(runtime, principal, as_of, include_past, scheme_id=scheme_id)


@router.get("/leaders", response_model=list[LeaderView])
async def all_leaders(
    runtime: RuntimeDep,
    academic_year: str = Query(examples=["2026-27"]),
    as_of: date | None = AS_OF,
    include_past: bool = INCLUDE_PAST,
    principal: Principal = require(*LEADER_READERS),
) -> list[LeaderView]:
    """Every leader and organiser of a year (emails for coordinators, organisers and
    integrations; why one stood down for coordinators only)."""
    return await _appointed(runtime, principal, as_of, include_past, academic_year=academic_year)


@router.get("/people/{student_number}/appointments", response_model=list[LeaderView])
async def person_appointments(
    student_number: str,
    runtime: RuntimeDep,
    principal: Principal = require(*ANYONE),
) -> list[LeaderView]:
    """One person's appointments in force today, in every scheme and year (none: an empty
    list). The portal asks this at each request to know who is a leader right now, so a stand-down
    takes effect at once. Students and leaders see only their own."""
    if not principal.has("integration", "academic"):
        ensure_own(principal, student_number, "appointments")
    async with runtime.engine.connect() as conn:
        found = await queries.leaders(conn, student_number=student_number, as_of=settings().today())
    return [leader.seen_by(principal) for leader in found]
