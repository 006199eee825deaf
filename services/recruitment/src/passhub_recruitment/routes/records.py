"""Student records: the CSV import from the student records system."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, status

from passhub_recruitment import queries, records_csv, usecases
from passhub_recruitment.routes.common import settings
from passhub_recruitment.views import (
    ColumnSeen,
    ImportPreview,
    ImportResult,
    LineProblem,
    PreviewRow,
    RecordImportView,
    StudentRecordView,
)
from passhub_shared.app import RuntimeDep, command_metadata
from passhub_shared.auth import Principal, require
from passhub_shared.offload import off_loop

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


#: rows of a preview shown as they would be imported
PREVIEW_SAMPLE = 10


@router.post(
    "/records/imports/preview",
    response_model=ImportPreview,
    openapi_extra={"requestBody": _CSV_BODY["requestBody"]},
)
async def preview_import(
    request: Request, runtime: RuntimeDep, principal: Principal = require(*IMPORTERS)
) -> ImportPreview:
    """What importing this CSV would do, without importing it: the rows, how each column is
    read (recognised or ignored), the required columns missing, and every problem by line."""
    raw = await request.body()
    own = settings()
    if len(raw) > own.max_import_bytes:
        seen = records_csv.Preview(
            problems=[
                records_csv.LineError(1, f"the file is larger than {own.max_import_bytes} bytes")
            ]
        )
    else:
        seen = await off_loop(lambda: records_csv.preview(raw, max_rows=own.max_import_rows))
    async with runtime.engine.connect() as conn:
        open_count = await queries.open_applications_of(conn, [r.student_number for r in seen.rows])
    return ImportPreview(
        rows=len(seen.rows),
        columns=[ColumnSeen(header=h, read_as=c) for h, c in seen.columns],
        recognised_columns=[h for h, c in seen.columns if c is not None],
        ignored_columns=[h for h, c in seen.columns if c is None],
        missing_columns=seen.missing,
        problems=[
            LineProblem(line=e.line, column=e.column, message=e.message) for e in seen.problems
        ],
        sample=[
            PreviewRow(
                line=r.line,
                student_number=r.student_number,
                name=r.name,
                school=r.school,
                programme=r.programme,
                level=r.level,
                year_of_study=r.year_of_study,
                marks=r.marks,
            )
            for r in seen.rows[:PREVIEW_SAMPLE]
        ],
        open_applications=open_count,
        importable=bool(seen.rows) and not seen.problems,
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
