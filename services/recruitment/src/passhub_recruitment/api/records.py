"""Student records: the CSV import from the student records system."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Query, Request, status

from passhub_recruitment import handlers, queries
from passhub_recruitment.api.deps import run, settings
from passhub_recruitment.api.schemas import (
    ColumnSeen,
    ImportPreview,
    ImportResult,
    LineProblem,
    NamesBody,
    PreviewRow,
    RecordImportView,
    StudentFound,
    StudentNames,
    StudentRecordView,
)
from passhub_recruitment.domain import records_csv
from passhub_shared.web.app import RuntimeDep
from passhub_shared.web.auth import Principal, require
from passhub_shared.web.errors import NotFound, Rejected
from passhub_shared.web.offload import collector_paused, off_loop, release

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
    with collector_paused():
        # the only reference to what was read, so that `release` frees it off the event loop
        box = [await handlers.read_records(raw, source, settings())]
        done = await run(
            runtime, principal, lambda conn, ctx: handlers.import_records(conn, ctx, box[0])
        )
        await release(box)
    return ImportResult(**asdict(done))


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


@router.post("/records/names", response_model=StudentNames)
async def student_names(
    body: NamesBody, runtime: RuntimeDep, principal: Principal = require(*IMPORTERS)
) -> StudentNames:
    """The names of many students at once (a roster's), from their records: at most 1,000
    student numbers, in the body so that hundreds make no long address. A number whose record
    is not held is absent from the answer; one asked twice answers once."""
    async with runtime.engine.connect() as conn:
        return StudentNames(names=await queries.student_names(conn, body.student_numbers))


@router.get("/records/{student_number}", response_model=StudentRecordView)
async def get_record(
    student_number: str, runtime: RuntimeDep, principal: Principal = require(*IMPORTERS)
) -> StudentRecordView:
    async with runtime.engine.connect() as conn:
        return await queries.student_record_view(conn, student_number)


#: who may look students up by name: a leader or organiser only on a scheme they are appointed to
FINDERS = ("coordinator", "organiser", "leader")
#: at most this many students answer a search
FOUND_AT_MOST = 10


@router.get("/schemes/{scheme_id}/students", response_model=list[StudentFound])
async def find_students(
    scheme_id: str,
    runtime: RuntimeDep,
    name: str = Query(min_length=2, max_length=100, description="part of the name, any case"),
    principal: Principal = require(*FINDERS),
) -> list[StudentFound]:
    """Students of the scheme's school (from the imported records) whose name holds `name`,
    by name, at most ten: what a leader needs to add a student who cannot scan the code. A
    leader or student organiser searches only a scheme they are appointed to today (another
    scheme is not found, 404)."""
    wanted = " ".join(name.split())
    if len(wanted) < 2:
        raise Rejected("give at least two letters of the name", code="name_too_short")
    async with runtime.engine.connect() as conn:
        if not principal.has("coordinator"):
            mine = await queries.leaders(
                conn, scheme_id=scheme_id, student_number=principal.sub, as_of=settings().today()
            )
            if not mine:
                raise NotFound(f"no scheme {scheme_id} of yours")
        found = await queries.students_named(conn, scheme_id, wanted, FOUND_AT_MOST)
    return [StudentFound(student_number=n, name=full) for n, full in found]
