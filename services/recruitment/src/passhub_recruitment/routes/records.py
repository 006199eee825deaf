"""Student records: the CSV import from the student records system."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, status

from passhub_recruitment import queries, usecases
from passhub_recruitment.routes.common import settings
from passhub_recruitment.views import ImportResult, RecordImportView, StudentRecordView
from passhub_shared.app import RuntimeDep, command_metadata
from passhub_shared.auth import Principal, require

router = APIRouter(tags=["student records"])

IMPORTERS = ("coordinator", "integration")

_CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {"type": "string"},
                "example": (
                    "student_number,name,email,school,programme,level,year_of_study,"
                    "year1_mark,year2_mark\n"
                    "S1000001,Ada Lovelace,ada@example.ac.uk,Physics,BSc Physics,"
                    "undergraduate,2,71.5,\n"
                ),
            }
        },
    },
    "responses": {
        "422": {
            "description": "the file was refused: every problem with its line, nothing imported"
        }
    },
}


@router.post(
    "/records/imports",
    status_code=status.HTTP_201_CREATED,
    response_model=ImportResult,
    openapi_extra=_CSV_BODY,
)
async def import_records(
    request: Request,
    runtime: RuntimeDep,
    source: str = Query(default="upload", max_length=200, description="where the file came from"),
    principal: Principal = require(*IMPORTERS),
) -> ImportResult:
    """Import the CSV export of the student records system (the request body, `text/csv`).
    All or nothing: any bad row refuses the file, with every problem listed by line."""
    raw = await request.body()
    return await usecases.import_records(
        runtime, raw, source, settings(), command_metadata(principal)
    )


@router.get("/records/imports", response_model=list[RecordImportView])
async def list_imports(
    runtime: RuntimeDep, principal: Principal = require(*IMPORTERS)
) -> list[RecordImportView]:
    async with runtime.engine.connect() as conn:
        return await queries.list_imports(conn)


@router.get("/records/{student_number}", response_model=StudentRecordView)
async def get_record(
    student_number: str, runtime: RuntimeDep, principal: Principal = require(*IMPORTERS)
) -> StudentRecordView:
    async with runtime.engine.connect() as conn:
        return await queries.student_record_view(conn, student_number)
