"""Student data as evidence: what the student records say, and what an applicant declared."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from passhub_recruitment.domain.events import StudentRecordRow, StudentRecordsImported
from passhub_shared.web.errors import Rejected

#: the student records system's level codes, as the words applicants use
LEVEL_ALIASES = {
    "ug": "undergraduate",
    "pgt": "postgraduate taught",
    "pgr": "postgraduate research",
    "pg": "postgraduate",
}


def normalise(text: str) -> str:
    """For comparing names, schools, emails: case and spacing do not make a mismatch."""
    return " ".join(text.split()).casefold()


def canonical_level(level: str) -> str:
    text = normalise(level)
    return LEVEL_ALIASES.get(text, text)


def is_undergraduate(level: str) -> bool:
    return canonical_level(level) == "undergraduate"


@dataclass(frozen=True)
class StudentRecord:
    """One student's row from the student records system (the evidence of record)."""

    student_number: str
    name: str
    email: str
    school: str
    programme: str
    level: str
    year_of_study: int
    #: exam mark per year of study (1, 2, ...), exact
    marks: Mapping[int, Decimal] = field(default_factory=dict)
    import_id: str = ""


@dataclass(frozen=True)
class Declared:
    """What the applicant said about themself (unverified until a record backs it)."""

    name: str
    email: str
    school: str
    programme: str = ""
    level: str = ""
    year_of_study: int | None = None
    marks: Mapping[int, Decimal] = field(default_factory=dict)


def record_from_row(row: StudentRecordRow, import_id: str = "") -> StudentRecord:
    return StudentRecord(
        student_number=row.student_number,
        name=row.name,
        email=row.email,
        school=row.school,
        programme=row.programme,
        level=row.level,
        year_of_study=row.year_of_study,
        marks={int(year): mark for year, mark in row.marks.items()},
        import_id=import_id,
    )


def import_events(
    import_id: str, source: str, rows: Sequence[StudentRecordRow], chunk_size: int = 500
) -> list[StudentRecordsImported]:
    """An import as events: chunks of at most `chunk_size` rows, appended together."""
    if not rows:
        raise Rejected("the file holds no student records", code="empty_import")
    numbers = [r.student_number for r in rows]
    if len(set(numbers)) != len(numbers):
        raise Rejected("a student number appears twice in one import", code="duplicate_student")
    chunks = [rows[i : i + chunk_size] for i in range(0, len(rows), chunk_size)]
    return [
        StudentRecordsImported(
            import_id=import_id,
            source=source,
            chunk=n,
            chunks=len(chunks),
            total_rows=len(rows),
            records=list(chunk),
        )
        for n, chunk in enumerate(chunks, start=1)
    ]
