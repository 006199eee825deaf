"""HEAR and skills-award records for the registry, as CSV or JSON."""

from __future__ import annotations

import json
from typing import Literal

from fastapi import APIRouter, Query, Response

from passhub_recognition.api.deps import RecognitionDep
from passhub_recognition.domain.exports import records, to_csv
from passhub_recognition.domain.policy import check_academic_year
from passhub_recognition.queries import awards_of_year
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require

router = APIRouter(tags=["exports"])


@router.get("/exports/{academic_year}/{kind}", response_class=Response)
async def export(
    academic_year: str,
    kind: Literal["hear", "psa"],
    runtime: RuntimeDep,
    ctx: RecognitionDep,
    format: Literal["csv", "json"] = Query(default="csv"),
    principal: Principal = require("coordinator", "integration"),
) -> Response:
    """One record per granted award of `kind` that stands (withdrawn ones are left out)."""
    check_academic_year(academic_year)
    async with runtime.engine.connect() as conn:
        views = await awards_of_year(conn, academic_year, [kind], "granted")
    rows = records(views, ctx.settings.verifying_body)
    name = f"{kind}-{academic_year}.{format}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "json":
        return Response(
            json.dumps(rows, ensure_ascii=False, indent=1),
            media_type="application/json",
            headers=disposition,
        )
    return Response(to_csv(rows), media_type="text/csv; charset=utf-8", headers=disposition)
