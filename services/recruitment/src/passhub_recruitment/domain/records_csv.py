"""Reading the student records system's CSV export (the kit's `csvsafe` over stdlib `csv`;
`email-validator` for emails).

Every row is checked and every problem is reported with its line number; a file with any
problem is refused whole, so nothing is ever half-imported.

Columns (header names are matched ignoring case, spaces and hyphens): `student_number`, `name`,
`email`, `school`, `programme`, `level`, `year_of_study`, and one optional column per year of
exam marks, `year1_mark`, `year2_mark`, ... (blank when there is no mark yet). Other columns
are ignored and listed in the response.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from email_validator import EmailNotValidError, validate_email

from passhub_recruitment.domain.application import MAX_YEAR_OF_STUDY
from passhub_recruitment.domain.events import StudentRecordRow
from passhub_recruitment.domain.identifiers import is_student_number
from passhub_shared.web.csvsafe import CsvProblem, csv_records, decode_csv
from passhub_shared.web.errors import Rejected

REQUIRED = ("student_number", "name", "email", "school", "programme", "level", "year_of_study")
_MARK_COLUMN = re.compile(r"^year_?(\d)_mark$")


@dataclass(frozen=True)
class LineError:
    line: int
    message: str
    column: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "message": self.message}


class CsvRejected(Rejected):
    """The file was refused; `errors` lists each problem with its line."""

    def __init__(self, errors: list[LineError]) -> None:
        count = len(errors)
        super().__init__(
            f"the file was not imported: {count} problem{'s' if count != 1 else ''} found; "
            "fix them and import the whole file again",
            code="bad_csv",
            details=[e.as_dict() for e in errors],
        )
        self.errors = errors
        #: the rows that read well (a preview shows them beside the problems)
        self.rows: list[StudentRecordRow] = []


@dataclass
class Parsed:
    rows: list[StudentRecordRow] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def _column_name(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


def decode(raw: bytes) -> str:
    """The file as text; not UTF-8, or a NUL in it, refuses it with the line."""
    try:
        return decode_csv(raw)
    except CsvProblem as problem:
        raise CsvRejected([LineError(problem.line, problem.message)]) from None


def _mark(value: str) -> Decimal:
    try:
        mark = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    if not mark.is_finite() or not Decimal(0) <= mark <= Decimal(100):
        raise ValueError(f"{value!r} is not a mark between 0 and 100")
    return mark


def _row(
    cells: dict[str, str], marks: dict[str, int], line: int
) -> tuple[StudentRecordRow | None, list[LineError]]:
    errors: list[LineError] = []

    def required(column: str) -> str:
        value = " ".join(cells.get(column, "").split())
        if not value:
            errors.append(LineError(line, f"{column} is empty", column))
        return value

    number = required("student_number")
    if number and not is_student_number(number):
        errors.append(
            LineError(
                line, f"{number!r} is not a student number (letters and digits)", "student_number"
            )
        )
    name = required("name")
    email = required("email")
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            errors.append(LineError(line, f"{email!r} is not an email address: {exc}", "email"))
    school = required("school")
    programme = required("programme")
    level = required("level")
    year_text = required("year_of_study")
    year = 0
    if year_text:
        if year_text.isdigit() and 1 <= int(year_text) <= MAX_YEAR_OF_STUDY:
            year = int(year_text)
        else:
            errors.append(
                LineError(
                    line,
                    f"{year_text!r} is not a year of study (1 to {MAX_YEAR_OF_STUDY})",
                    "year_of_study",
                )
            )
    parsed_marks: dict[str, Decimal] = {}
    for column, mark_year in marks.items():
        value = cells.get(column, "").strip()
        if not value:
            continue
        try:
            parsed_marks[str(mark_year)] = _mark(value)
        except ValueError as exc:
            errors.append(LineError(line, str(exc), column))
    if errors:
        return None, errors
    return (
        StudentRecordRow(
            student_number=number,
            name=name,
            email=email,
            school=school,
            programme=programme,
            level=level,
            year_of_study=year,
            marks=parsed_marks,
            line=line,
        ),
        [],
    )


def _header(records: Iterator[tuple[int, list[str]]]) -> list[str]:
    """The header's cells; `CsvRejected` if it is unreadable or empty."""
    try:
        header = next(records, (1, None))[1]
    except CsvProblem as problem:
        raise CsvRejected(
            [LineError(problem.line, f"unreadable header: {problem.message}")]
        ) from None
    if not header or not any(h.strip() for h in header):
        raise CsvRejected([LineError(1, "the file is empty: expected a header row")])
    return header


def _header_errors(columns: list[str]) -> list[LineError]:
    errors: list[LineError] = []
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        errors.append(
            LineError(1, f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
        )
    repeated = sorted({c for c in columns if c and columns.count(c) > 1})
    if repeated:
        errors.append(LineError(1, f"repeated column: {', '.join(repeated)}"))
    return errors


def _lines(
    records: Iterator[tuple[int, list[str]]], width: int, errors: list[LineError]
) -> Iterator[tuple[int, list[str]]]:
    """The non-blank rows with as many cells as the header; the others become errors."""
    while True:
        try:
            line, cells = next(records)
        except StopIteration:
            return
        except CsvProblem as problem:
            errors.append(LineError(problem.line, f"unreadable CSV: {problem.message}"))
            return
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != width:
            errors.append(
                LineError(line, f"expected {width} fields as in the header, found {len(cells)}")
            )
            continue
        yield line, cells


def parse(data: str | bytes, max_rows: int = 100_000) -> Parsed:
    """Every row of the export (bytes: UTF-8), or `CsvRejected` listing every problem by
    line."""
    records = csv_records(data, strict=True)
    header = _header(records)
    columns = [_column_name(h) for h in header]
    errors = _header_errors(columns)
    if errors:
        raise CsvRejected(errors)
    marks = {c: int(m.group(1)) for c in columns if (m := _MARK_COLUMN.match(c))}
    known = set(REQUIRED) | set(marks)
    result = Parsed(
        ignored_columns=[h for h, c in zip(header, columns, strict=True) if c not in known]
    )
    first_line: dict[str, int] = {}
    for line, cells in _lines(records, len(columns), errors):
        row, row_errors = _row(dict(zip(columns, cells, strict=True)), marks, line)
        errors.extend(row_errors)
        if row is None:
            continue
        if row.student_number in first_line:
            errors.append(
                LineError(
                    line,
                    f"student {row.student_number} is already on line "
                    f"{first_line[row.student_number]}",
                    "student_number",
                )
            )
            continue
        first_line[row.student_number] = line
        result.rows.append(row)
        if len(result.rows) > max_rows:
            errors.append(LineError(line, f"more than {max_rows} rows: split the file"))
            break
    if errors:
        refused = CsvRejected(errors)
        refused.rows = result.rows
        raise refused
    if not result.rows:
        raise CsvRejected([LineError(1, "the file has a header but no student rows")])
    return result


@dataclass
class Preview:
    """What `parse` makes of a file, without refusing it: the header's columns and how each is
    read, the rows that read well, and every problem by line."""

    columns: list[tuple[str, str | None]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    rows: list[StudentRecordRow] = field(default_factory=list)
    problems: list[LineError] = field(default_factory=list)


def preview(data: str | bytes, max_rows: int = 100_000) -> Preview:
    """`parse` run as a dry run: what an import would take and what it would refuse."""
    result = Preview()
    try:
        text = decode(data) if isinstance(data, bytes) else data
    except CsvRejected as refused:
        result.problems = refused.errors
        return result
    first = text.split("\n", 1)[0]
    try:
        header = next(csv_records(first, strict=True), (1, None))[1] or []
    except CsvProblem:
        header = []
    columns = [_column_name(h) for h in header]
    marks = {c for c in columns if _MARK_COLUMN.match(c)}
    known = set(REQUIRED) | marks
    result.columns = [(h, c if c in known else None) for h, c in zip(header, columns, strict=True)]
    result.missing = [c for c in REQUIRED if c not in columns]
    try:
        parsed = parse(text, max_rows=max_rows)
    except CsvRejected as refused:
        result.problems = refused.errors
        result.rows = refused.rows
        return result
    result.rows = parsed.rows
    return result
