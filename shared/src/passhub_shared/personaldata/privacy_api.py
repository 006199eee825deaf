"""Every service's privacy routes (coordinators only): erase people here, export what this
service holds about a person, read the privacy audit. The portal, or `passhub erase` and
`passhub subject-access`, call them on all four services (docs/privacy.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from passhub_shared.personaldata.privacy import audit_rows, erase, subject_access
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require

router = APIRouter(prefix="/privacy", tags=["privacy"])

_NUMBER = r"^\S{1,64}$"


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    student_numbers: list[str] = Field(min_length=1, max_length=1000)
    reason: str = Field(min_length=3, max_length=500, pattern=r"\S")


@router.post("/erasures")
async def erase_people(
    body: ErasureIn,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> dict[str, Any]:
    """Erase these people from this service (their keys deleted, their awards withdrawn in
    recognition, every projection rebuilt). Safe to repeat; someone unknown is recorded so
    that nothing about them is kept later. Audited, without the student numbers."""
    people = [n.strip() for n in body.student_numbers if n.strip()]
    report = await erase(runtime, people, reason=body.reason.strip(), actor=principal.sub)
    return {
        "service": report.service,
        "people": report.people,
        "keys_deleted": report.keys_deleted,
        "seconds": round(report.seconds, 3),
    }


@router.get("/subject-access/{student_number}")
async def export_subject(
    runtime: RuntimeDep,
    student_number: str,
    reason: str = Query(min_length=3, max_length=500),
    principal: Principal = require("coordinator"),
) -> dict[str, Any]:
    """Everything this service holds about the person: their events (opened) and the rows of
    its tables naming them. Audited."""
    return await subject_access(
        runtime, student_number.strip(), actor=principal.sub, reason=reason.strip()
    )


@router.get("/audit")
async def privacy_audit(
    runtime: RuntimeDep, principal: Principal = require("coordinator")
) -> list[dict[str, Any]]:
    """Erasures, subject access exports and retention runs: who, when, why, how many."""
    return await audit_rows(runtime)
