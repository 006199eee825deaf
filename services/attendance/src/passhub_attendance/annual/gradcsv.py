"""Reading the graduate outcomes file: `student_number, academic_year, outcome` (also
`student`, `year`, `graduation_year`, `outcome_category`, `category`...). Pure: bytes in, rows
or errors by line out; the whole file is checked before anything is written."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from passhub_attendance.annual.events import GraduateOutcomeRow
from passhub_attendance.annual.settings import outcome_key
from passhub_attendance.evaluation.csvimport import LineError, normalise_year
from passhub_shared.web.csvsafe import CsvProblem, csv_records

ALIASES = {
    "student_number": ("student_number", "student", "student_id", "student_no", "sid"),
    "academic_year": (
        "academic_year",
        "year",
        "graduation_year",
        "year_of_graduation",
        "cohort",
        "survey_year",
    ),
    "outcome": ("outcome", "outcome_category", "category", "activity", "graduate_outcome"),
}


def _key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


@dataclass
class ParsedOutcomes:
    by_year: dict[str, list[GraduateOutcomeRow]] = field(default_factory=dict)
    errors: list[LineError] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(len(v) for v in self.by_year.values())


def _columns(header: list[str]) -> dict[str, int]:
    """Where each canonical column stands in the header (the first alias found wins)."""
    keys = [_key(h) for h in header]
    where: dict[str, int] = {}
    for canonical, names in ALIASES.items():
        for i, k in enumerate(keys):
            if k in names and canonical not in where:
                where[canonical] = i
    return where


def _check_row(line: int, values: dict[str, str]) -> tuple[list[LineError], str | None, str]:
    """The problems of one row, its academic year (None when unreadable) and outcome key."""
    errors = [LineError(line, f"{c} is empty", c) for c in ALIASES if not values[c]]
    year = normalise_year(values["academic_year"]) if values["academic_year"] else None
    if values["academic_year"] and year is None:
        errors.append(
            LineError(
                line,
                f"academic_year {values['academic_year']!r} is not like 2025-26",
                "academic_year",
            )
        )
    outcome = outcome_key(values["outcome"])
    if values["outcome"] and not outcome:
        errors.append(LineError(line, "outcome has no letters or digits", "outcome"))
    elif len(outcome) > 100:
        errors.append(LineError(line, "outcome is longer than 100 characters", "outcome"))
    return errors, year, outcome


def parse_graduate_outcomes(data: bytes) -> ParsedOutcomes:
    parsed = ParsedOutcomes()
    errors = parsed.errors
    try:
        records = csv_records(data)
        header = next(records)[1]
    except StopIteration:
        errors.append(LineError(1, "the file is empty: a header line is needed"))
        return parsed
    except CsvProblem as problem:
        errors.append(LineError(problem.line, problem.message))
        return parsed
    where = _columns(header)
    missing = [c for c in ALIASES if c not in where]
    if missing:
        errors.append(
            LineError(1, f"missing column(s): {', '.join(missing)}; found: {', '.join(header)}")
        )
        return parsed
    seen: dict[tuple[str, str], int] = {}
    try:
        for line, record in records:
            if not any(v.strip() for v in record):
                continue
            record = record + [""] * (len(header) - len(record))
            values = {c: record[i].strip() for c, i in where.items()}
            problems, year, outcome = _check_row(line, values)
            errors.extend(problems)
            if problems or year is None:
                continue
            key = (year, values["student_number"])
            if key in seen:
                errors.append(
                    LineError(
                        line,
                        f"student {values['student_number']} in {year} is also on line {seen[key]}",
                        "student_number",
                    )
                )
                continue
            seen[key] = line
            parsed.by_year.setdefault(year, []).append(
                GraduateOutcomeRow(student_number=values["student_number"], outcome=outcome)
            )
    except CsvProblem as problem:
        errors.append(LineError(problem.line, problem.message))
    if not errors and not parsed.by_year:
        errors.append(LineError(2, "the file has a header but no rows"))
    return parsed
