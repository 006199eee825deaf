"""The recognition policy of a year: read by everyone involved, changed by coordinators."""

from __future__ import annotations

from fastapi import APIRouter

from passhub_recognition import handlers, queries
from passhub_recognition.api.deps import handler_context, in_transaction
from passhub_recognition.api.schemas import PolicyOut, PolicyVersionOut
from passhub_recognition.domain.policy import KINDS, Policy, check_academic_year
from passhub_recognition.domain.wording import criteria_narrative
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require

router = APIRouter(tags=["policy"])


def policy_out(year: str, version: int, policy: Policy) -> PolicyOut:
    return PolicyOut(
        academic_year=year,
        version=version,
        adopted=version > 0,
        policy=policy,
        criteria={k: criteria_narrative(policy.rules(k)) for k in KINDS},
    )


@router.get("/policies/{academic_year}")
async def get_policy(
    academic_year: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator", "organiser", "leader", "student", "academic"),
) -> PolicyOut:
    """The current policy; version 0 means the defaults, not yet adopted (the first awards run
    or the first change adopts them as version 1)."""
    ctx = handler_context(runtime, principal)
    async with runtime.engine.connect() as conn:
        policy, version = await handlers.current_policy(conn, ctx, academic_year)
    return policy_out(academic_year, version, policy)


@router.put("/policies/{academic_year}")
async def put_policy(
    academic_year: str,
    body: Policy,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> PolicyOut:
    """Replace the year's policy (kinds left out get the defaults). Applies to decisions made
    from now on; an unchanged policy makes no new version."""
    ctx = handler_context(runtime, principal)
    state = await in_transaction(
        runtime, lambda conn: handlers.set_policy(conn, ctx, academic_year, body)
    )
    assert state.policy is not None
    return policy_out(academic_year, state.version, state.policy)


@router.get("/policies/{academic_year}/versions")
async def policy_versions(
    academic_year: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> list[PolicyVersionOut]:
    check_academic_year(academic_year)
    async with runtime.engine.connect() as conn:
        rows = await queries.policy_versions(conn, academic_year)
    return [PolicyVersionOut.model_validate(r) for r in rows]
