"""Schemes: launch, amend, list, appointed leaders; and the term dates in force."""

from __future__ import annotations

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_sessions import handlers, queries
from passhub_sessions.api.deps import READERS, STAFF, context, in_transaction
from passhub_sessions.api.schemas import (
    AmendSchemeBody,
    LaunchSchemeBody,
    SchemeLeaderOut,
    SchemeOut,
    TermDatesOut,
)
from passhub_sessions.domain.scheme import AmendScheme, LaunchScheme
from passhub_sessions.settings import sessions_settings, term_dates
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require

router = APIRouter(tags=["schemes"])


@router.post("/schemes", status_code=201)
async def launch_scheme(
    body: LaunchSchemeBody, runtime: RuntimeDep, principal: Principal = require("coordinator")
) -> SchemeOut:
    ctx = context(runtime, principal)
    command = LaunchScheme(
        code=body.code.strip().upper(),
        title=body.title,
        school=body.school,
        academic_year=body.academic_year.strip(),
        mode=body.mode,
        coordinator=body.coordinator or principal.sub,
        modules=tuple(body.modules),
        organisers=tuple(body.organisers),
        min_leaders_per_session=(
            body.min_leaders_per_session
            if body.min_leaders_per_session is not None
            else ctx.settings.default_min_leaders_per_session
        ),
    )

    async def work(conn: AsyncConnection) -> queries.Row:
        scheme_id = await handlers.launch_scheme(conn, ctx, command)
        return await queries.require_scheme(conn, scheme_id)

    return SchemeOut.of(await in_transaction(runtime, work))


@router.get("/schemes")
async def list_schemes(
    runtime: RuntimeDep,
    academic_year: str | None = Query(default=None),
    principal: Principal = require(*READERS),
) -> list[SchemeOut]:
    async with runtime.engine.connect() as conn:
        return [SchemeOut.of(r) for r in await queries.list_schemes(conn, academic_year)]


@router.get("/schemes/{scheme_id}")
async def get_scheme(
    scheme_id: str, runtime: RuntimeDep, principal: Principal = require(*READERS)
) -> SchemeOut:
    async with runtime.engine.connect() as conn:
        return SchemeOut.of(await queries.require_scheme(conn, scheme_id))


@router.patch("/schemes/{scheme_id}")
async def amend_scheme(
    scheme_id: str,
    body: AmendSchemeBody,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> SchemeOut:
    ctx = context(runtime, principal)
    command = AmendScheme(
        coordinator=body.coordinator,
        organisers=tuple(body.organisers) if body.organisers is not None else None,
        min_leaders_per_session=body.min_leaders_per_session,
    )

    async def work(conn: AsyncConnection) -> queries.Row:
        await queries.require_scheme(conn, scheme_id)
        await handlers.amend_scheme(conn, ctx, scheme_id, command)
        return await queries.require_scheme(conn, scheme_id)

    return SchemeOut.of(await in_transaction(runtime, work))


@router.get("/schemes/{scheme_id}/leaders")
async def scheme_leaders(
    scheme_id: str, runtime: RuntimeDep, principal: Principal = require(*STAFF)
) -> list[SchemeLeaderOut]:
    """Leaders and organisers recruitment appointed to the scheme (stood-down ones too); their
    emails for coordinators, organisers and integrations."""
    contacts = principal.has("coordinator", "organiser", "integration")
    async with runtime.engine.connect() as conn:
        scheme = await queries.require_scheme(conn, scheme_id)
        rows = await queries.leaders_of(conn, scheme_id)
        availability = await queries.availability_rows(
            conn, scheme["academic_year"], [r["student_number"] for r in rows]
        )
    return [
        SchemeLeaderOut(
            student_number=r["student_number"],
            name=r["name"],
            email=r["email"] if contacts else None,
            leader=r["leader"],
            organiser=r["organiser"],
            appointed_on=r["appointed_on"].isoformat(),
            stood_down_from=r["stood_down_from"].isoformat() if r["stood_down_from"] else None,
            availability_stated=r["student_number"] in availability,
        )
        for r in rows
    ]


@router.get("/term-dates/{academic_year}")
async def get_term_dates(
    academic_year: str, runtime: RuntimeDep, principal: Principal = require(*READERS)
) -> TermDatesOut:
    settings = sessions_settings(runtime)
    return TermDatesOut.of(term_dates(settings, academic_year), settings.timezone)
