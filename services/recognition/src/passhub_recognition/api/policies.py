"""The recognition policy of a year: read by everyone involved, changed by coordinators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from passhub_recognition import tables
from passhub_recognition.domain.policy import KINDS, Policy, check_academic_year, default_policy
from passhub_recognition.domain.wording import criteria_narrative
from passhub_recognition.handlers import set_policy
from passhub_recognition.queries import policy_state
from passhub_shared.app import RuntimeDep, command_metadata
from passhub_shared.auth import Principal, require

router = APIRouter(tags=["policy"])


def _policy_json(year: str, version: int, policy: Policy) -> dict[str, Any]:
    return {
        "academic_year": year,
        "version": version,
        "adopted": version > 0,
        "policy": policy.model_dump(mode="json"),
        "criteria": {k: criteria_narrative(policy.rules(k)) for k in KINDS},
    }


@router.get("/policies/{academic_year}")
async def get_policy(
    academic_year: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator", "organiser", "leader", "student", "academic"),
) -> dict[str, Any]:
    """The current policy; version 0 means the defaults, not yet adopted (the first awards run
    or the first change adopts them as version 1)."""
    check_academic_year(academic_year)
    async with runtime.engine.connect() as conn:
        state = await policy_state(conn, runtime.store, academic_year)
    return _policy_json(academic_year, state.version, state.policy or default_policy())


@router.put("/policies/{academic_year}")
async def put_policy(
    academic_year: str,
    body: Policy,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> dict[str, Any]:
    """Replace the year's policy (kinds left out get the defaults). Applies to decisions made
    from now on; an unchanged policy makes no new version."""
    async with runtime.transaction() as conn:
        state = await set_policy(
            conn, runtime.store, academic_year, body, command_metadata(principal)
        )
    assert state.policy is not None
    return _policy_json(academic_year, state.version, state.policy)


@router.get("/policies/{academic_year}/versions")
async def policy_versions(
    academic_year: str,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> list[dict[str, Any]]:
    check_academic_year(academic_year)
    t = tables.policies
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(
            select(t).where(t.c.academic_year == academic_year).order_by(t.c.version)
        )
        return [
            {
                "version": r.version,
                "set_at": r.set_at,
                "set_by": r.set_by,
                "policy": r.policy,
            }
            for r in rows
        ]
