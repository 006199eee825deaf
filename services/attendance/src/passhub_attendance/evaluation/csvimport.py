"""Reading the student records system's CSV exports: pure functions, no I/O.

A file is read whole and checked whole: every problem is reported with its line number, and an
import with any problem writes nothing. Column names are matched loosely (case, spaces and a
few common aliases); other columns are ignored, as exports carry many.

Enrolments: `student_number, module, academic_year[, prior_attainment]`.
Past attendance: as counts, `student_number, module, academic_year, sessions_attended`; or as
session rows, `student_number, module, academic_year, session_date[, session_ref]`, one row per
session attended.
Results: `student_number, module, academic_year, mark and/or grade[, passed][, withdrawn]`
(a row needs a mark, a grade, `withdrawn` or a withdrawal code; a grade of `W` is a withdrawal
unless the grade scale defines W). `passed` (or `outcome`, `result_code`) takes yes/no words or the
outcome codes of the records system (`P`, `F`, `W` by default: see `OutcomeCodes`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Generic, Literal, TypeVar

from passhub_attendance.evaluation.events import (
    EnrolmentRow,
    HistoryRow,
    HistorySessionRow,
    ResultRow,
    TitleRow,
)
from passhub_shared.web.csvsafe import CsvProblem, csv_records

_ALIASES = {
    "student_number": ("student_number", "student", "student_id", "student_no", "sid"),
    "module": ("module", "module_code", "course", "course_code"),
    "academic_year": ("academic_year", "year", "session_year"),
    "prior_attainment": ("prior_attainment", "prior", "entry_tariff", "tariff"),
    "mark": ("mark", "final_mark", "score", "percentage"),
    "grade": ("grade", "letter_grade", "final_grade"),
    "passed": ("passed", "pass", "outcome", "outcome_code", "result_code"),
    "withdrawn": ("withdrawn", "withdrew", "withdrawal"),
    "sessions_attended": (
        "sessions_attended",
        "sessions",
        "attended",
        "attendances",
        "sessions_count",
    ),
    "title": ("title", "module_title", "module_name", "name", "course_title"),
    "session_date": ("session_date", "date", "attended_on", "session_day", "day"),
    "session_ref": ("session_ref", "session", "session_id", "session_name", "reference", "ref"),
}
_TRUE = {"yes", "y", "true", "t", "1", "pass", "passed", "p"}
_FALSE = {"no", "n", "false", "f", "0", "fail", "failed"}
_YEAR = re.compile(r"^(\d{4})\s*[-/]\s*(\d{2})$")
_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_DAY_FIRST = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")
#: the longest name of a session (`session_ref`) a file may give
MAX_SESSION_REF = 100

#: what an outcome code of a results file means
Outcome = Literal["pass", "fail", "withdrawn"]
OUTCOMES: tuple[Outcome, ...] = ("pass", "fail", "withdrawn")
#: the codes student records systems commonly export
DEFAULT_OUTCOME_CODES: dict[str, Outcome] = {"P": "pass", "F": "fail", "W": "withdrawn"}


def parse_outcome_codes(text: str) -> dict[str, Outcome]:
    """`P=pass,F=fail,W=withdrawn` (or the same as a JSON object) -> {code: outcome}, codes in
    upper case. Raises ValueError naming what is wrong."""
    text = text.strip()
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"outcome codes are not valid JSON: {exc}") from None
        if not isinstance(loaded, dict):
            raise ValueError("outcome codes must be a JSON object of code: outcome")
        pairs = [(str(k), str(v)) for k, v in loaded.items()]
    else:
        pairs = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            code, sep, outcome = part.partition("=")
            if not sep:
                raise ValueError(f"outcome code {part!r} is not like P=pass")
            pairs.append((code, outcome))
    return outcome_codes(dict(pairs))


def outcome_codes(mapping: Mapping[str, str]) -> dict[str, Outcome]:
    """Check and normalise {code: outcome}: codes upper case, outcomes pass, fail or
    withdrawn."""
    codes: dict[str, Outcome] = {}
    for raw_code, raw_outcome in mapping.items():
        code, outcome = raw_code.strip().upper(), raw_outcome.strip().lower()
        if not code:
            raise ValueError("an outcome code cannot be empty")
        if outcome not in OUTCOMES:
            raise ValueError(
                f"outcome code {code!r} means {raw_outcome!r}: it must be pass, fail or withdrawn"
            )
        codes[code] = outcome
    if not codes:
        raise ValueError("at least one outcome code is needed")
    return codes


R = TypeVar("R", EnrolmentRow, ResultRow, HistoryRow, HistorySessionRow, TitleRow)


@dataclass(frozen=True)
class LineError:
    line: int
    message: str
    column: str | None = None


@dataclass
class Parsed(Generic[R]):
    """Rows grouped by academic year, in file order, or the errors that stop the import."""

    by_year: dict[str, list[R]] = field(default_factory=dict)
    errors: list[LineError] = field(default_factory=list)
    #: rows that repeat an earlier row of the file exactly (session rows: counted once)
    duplicates: int = 0

    @property
    def rows(self) -> int:
        return sum(len(v) for v in self.by_year.values())

    @property
    def modules(self) -> list[str]:
        return sorted({r.module for rows in self.by_year.values() for r in rows})


def normalise_year(value: str) -> str | None:
    """`2026-27` or `2026/27` -> `2026-27`; None unless the second year follows the first."""
    match = _YEAR.match(value.strip())
    if not match:
        return None
    first, second = int(match.group(1)), int(match.group(2))
    if (first + 1) % 100 != second:
        return None
    return f"{first}-{second:02d}"


def _key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _records(
    data: bytes, required: tuple[str, ...], optional: tuple[str, ...], errors: list[LineError]
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, {canonical column: value}) for each non-blank record; header problems go to
    `errors` and yield nothing."""
    try:
        records = csv_records(data)
        header = next(records)[1]
    except StopIteration:
        errors.append(LineError(1, "the file is empty: a header line is needed"))
        return
    except CsvProblem as problem:
        errors.append(LineError(problem.line, problem.message))
        return
    keys = [_key(h) for h in header]
    where: dict[str, int] = {}
    for canonical in (*required, *optional):
        for i, k in enumerate(keys):
            if k in _ALIASES[canonical] and canonical not in where:
                where[canonical] = i
    missing = [c for c in required if c not in where]
    if missing:
        hint = (
            " (the file must be comma-separated)" if len(header) == 1 and ";" in header[0] else ""
        )
        errors.append(
            LineError(
                1, f"missing column(s): {', '.join(missing)}; found: {', '.join(header)}{hint}"
            )
        )
        return
    while True:
        try:
            line, record = next(records)
        except StopIteration:
            return
        except CsvProblem as problem:
            errors.append(LineError(problem.line, problem.message))
            return
        if not any(v.strip() for v in record):
            continue
        if len(record) < len(header):
            record = record + [""] * (len(header) - len(record))
        yield line, {c: record[i].strip() for c, i in where.items()}


def _text(values: dict[str, str], column: str, line: int, errors: list[LineError]) -> str:
    value = values.get(column, "")
    if not value:
        errors.append(LineError(line, f"{column} is empty", column))
    return value


def _year(values: dict[str, str], line: int, errors: list[LineError]) -> str | None:
    raw = _text(values, "academic_year", line, errors)
    if not raw:
        return None
    year = normalise_year(raw)
    if year is None:
        errors.append(
            LineError(line, f"academic_year {raw!r} is not like 2026-27", "academic_year")
        )
    return year


def _number(
    values: dict[str, str],
    column: str,
    line: int,
    errors: list[LineError],
    low: float | None = None,
    high: float | None = None,
) -> float | None:
    raw = values.get(column, "")
    if not raw:
        return None
    try:
        number = float(raw)
    except ValueError:
        errors.append(LineError(line, f"{column} {raw!r} is not a number", column))
        return None
    if not math.isfinite(number):
        errors.append(LineError(line, f"{column} {raw!r} is not a number", column))
        return None
    if (low is not None and number < low) or (high is not None and number > high):
        errors.append(
            LineError(line, f"{column} {raw} is not between {low:g} and {high:g}", column)
        )
        return None
    return number


def _flag(values: dict[str, str], column: str, line: int, errors: list[LineError]) -> bool | None:
    raw = values.get(column, "").lower()
    if not raw:
        return None
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    errors.append(LineError(line, f"{column} {values[column]!r} is not yes or no", column))
    return None


def _outcome(
    values: dict[str, str],
    codes: Mapping[str, Outcome],
    line: int,
    errors: list[LineError],
) -> Outcome | None:
    """The `passed` column: an outcome code of the records system (first), or yes/no."""
    raw = values.get("passed", "")
    if not raw:
        return None
    code = codes.get(raw.upper())
    if code is not None:
        return code
    if raw.lower() in _TRUE:
        return "pass"
    if raw.lower() in _FALSE:
        return "fail"
    known = ", ".join(f"{c} = {o}" for c, o in codes.items())
    errors.append(
        LineError(line, f"passed {raw!r} is not yes, no or an outcome code ({known})", "passed")
    )
    return None


def _duplicate(
    seen: dict[tuple[str, str, str], int],
    key: tuple[str, str, str],
    line: int,
    errors: list[LineError],
) -> bool:
    first = seen.setdefault(key, line)
    if first != line:
        errors.append(
            LineError(line, f"student {key[2]} on {key[1]} in {key[0]} is also on line {first}")
        )
        return True
    return False


def parse_enrolments(data: bytes) -> Parsed[EnrolmentRow]:
    parsed: Parsed[EnrolmentRow] = Parsed()
    errors = parsed.errors
    seen: dict[tuple[str, str, str], int] = {}
    for line, values in _records(
        data, ("student_number", "module", "academic_year"), ("prior_attainment",), errors
    ):
        before = len(errors)
        student = _text(values, "student_number", line, errors)
        module = _text(values, "module", line, errors)
        year = _year(values, line, errors)
        prior = _number(values, "prior_attainment", line, errors)
        if len(errors) > before or year is None:
            continue
        if _duplicate(seen, (year, module, student), line, errors):
            continue
        parsed.by_year.setdefault(year, []).append(
            EnrolmentRow(student_number=student, module=module, prior_attainment=prior)
        )
    if not errors and not parsed.by_year:
        errors.append(LineError(2, "the file has a header but no rows"))
    return parsed


def parse_results(
    data: bytes,
    grades: Collection[str],
    codes: Mapping[str, Outcome] = DEFAULT_OUTCOME_CODES,
) -> Parsed[ResultRow]:
    """`grades`: the letters of the grade scale (upper case); `codes`: the outcome codes the
    `passed` column may hold besides yes/no (upper case)."""
    parsed: Parsed[ResultRow] = Parsed()
    errors = parsed.errors
    seen: dict[tuple[str, str, str], int] = {}
    known = {g.upper() for g in grades}
    for line, values in _records(
        data,
        ("student_number", "module", "academic_year"),
        ("mark", "grade", "passed", "withdrawn"),
        errors,
    ):
        before = len(errors)
        student = _text(values, "student_number", line, errors)
        module = _text(values, "module", line, errors)
        year = _year(values, line, errors)
        mark = _number(values, "mark", line, errors, 0.0, 100.0)
        outcome = _outcome(values, codes, line, errors)
        passed = None if outcome in (None, "withdrawn") else outcome == "pass"
        withdrawn = bool(_flag(values, "withdrawn", line, errors)) or outcome == "withdrawn"
        grade: str | None = values.get("grade", "").upper() or None
        if grade is not None and grade not in known:
            if grade == "W":
                withdrawn, grade = True, None
            else:
                errors.append(
                    LineError(
                        line,
                        f"grade {grade!r} is not in the grade scale ({', '.join(sorted(known))})",
                        "grade",
                    )
                )
        if len(errors) == before and mark is None and grade is None and not withdrawn:
            errors.append(LineError(line, "a result needs a mark, a grade or withdrawn = yes"))
        if len(errors) > before or year is None:
            continue
        if _duplicate(seen, (year, module, student), line, errors):
            continue
        parsed.by_year.setdefault(year, []).append(
            ResultRow(
                student_number=student,
                module=module,
                mark=mark,
                grade=grade,
                passed=passed,
                withdrawn=withdrawn,
            )
        )
    if not errors and not parsed.by_year:
        errors.append(LineError(2, "the file has a header but no rows"))
    return parsed


def parse_history(data: bytes) -> Parsed[HistoryRow]:
    """Past attendance as counts: `student_number, module, academic_year, sessions_attended`
    (a whole number, 0 or more)."""
    parsed: Parsed[HistoryRow] = Parsed()
    errors = parsed.errors
    seen: dict[tuple[str, str, str], int] = {}
    for line, values in _records(
        data, ("student_number", "module", "academic_year", "sessions_attended"), (), errors
    ):
        before = len(errors)
        student = _text(values, "student_number", line, errors)
        module = _text(values, "module", line, errors)
        year = _year(values, line, errors)
        raw = _text(values, "sessions_attended", line, errors)
        count = 0
        if raw:
            if raw.isdigit():
                count = int(raw)
            else:
                errors.append(
                    LineError(
                        line,
                        f"sessions_attended {raw!r} is not a whole number of sessions",
                        "sessions_attended",
                    )
                )
        if len(errors) > before or year is None:
            continue
        if _duplicate(seen, (year, module, student), line, errors):
            continue
        parsed.by_year.setdefault(year, []).append(
            HistoryRow(student_number=student, module=module, sessions_attended=count)
        )
    if not errors and not parsed.by_year:
        errors.append(LineError(2, "the file has a header but no rows"))
    return parsed


@lru_cache(maxsize=256)
def year_span(academic_year: str) -> tuple[date, date]:
    """The first and last day of an academic year (`2024-25`: 1 August 2024 to 31 July 2025,
    as passhub counts years everywhere)."""
    first = int(academic_year[:4])
    return date(first, 8, 1), date(first + 1, 7, 31)


@lru_cache(maxsize=8192)
def _date(raw: str) -> date | None:
    """`2024-10-14` or, day first, `14/10/2024`; None for anything else or a day that does not
    exist. (Cached: a file of a year's sessions repeats a few hundred days.)"""
    if match := _ISO_DATE.match(raw):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DAY_FIRST.match(raw):
        day, month, year = (int(g) for g in match.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_history_sessions(data: bytes) -> Parsed[HistorySessionRow]:
    """Past attendance as one row per session attended: `student_number, module,
    academic_year, session_date[, session_ref]`. The date is `2024-10-14` or `14/10/2024` (day
    first) and must fall within the academic year (August to July). A row that repeats an
    earlier one (student, module, day and session name) is the same attendance: counted once
    (`duplicates`), not an error."""
    parsed: Parsed[HistorySessionRow] = Parsed()
    errors = parsed.errors
    seen: set[tuple[str, str, str, date, str]] = set()
    for line, values in _records(
        data,
        ("student_number", "module", "academic_year", "session_date"),
        ("session_ref",),
        errors,
    ):
        before = len(errors)
        student = _text(values, "student_number", line, errors)
        module = _text(values, "module", line, errors)
        year = _year(values, line, errors)
        raw = _text(values, "session_date", line, errors)
        day = None
        if raw:
            day = _date(raw)
            if day is None:
                errors.append(
                    LineError(
                        line,
                        f"session_date {raw!r} is not a date like 2024-10-14 or 14/10/2024",
                        "session_date",
                    )
                )
        ref = values.get("session_ref", "")
        if len(ref) > MAX_SESSION_REF:
            errors.append(
                LineError(
                    line,
                    f"session_ref is longer than {MAX_SESSION_REF} characters",
                    "session_ref",
                )
            )
        if year is not None and day is not None:
            first, last = year_span(year)
            if not first <= day <= last:
                errors.append(
                    LineError(
                        line,
                        f"session_date {day.isoformat()} is not in academic year {year}"
                        f" ({first.isoformat()} to {last.isoformat()})",
                        "session_date",
                    )
                )
        if len(errors) > before or year is None or day is None:
            continue
        key = (year, module, student, day, ref)
        if key in seen:
            parsed.duplicates += 1
            continue
        seen.add(key)
        parsed.by_year.setdefault(year, []).append(
            HistorySessionRow(
                student_number=student, module=module, session_date=day, session_ref=ref or None
            )
        )
    if not errors and not parsed.by_year:
        errors.append(LineError(2, "the file has a header but no rows"))
    return parsed


def parse_titles(data: bytes) -> tuple[list[TitleRow], list[LineError]]:
    """Module titles: `module, title` (200 characters at most); a module listed twice is an
    error."""
    errors: list[LineError] = []
    rows: list[TitleRow] = []
    seen: dict[str, int] = {}
    for line, values in _records(data, ("module", "title"), (), errors):
        before = len(errors)
        module = _text(values, "module", line, errors)
        title = _text(values, "title", line, errors)
        if len(title) > 200:
            errors.append(LineError(line, "title is longer than 200 characters", "title"))
        if len(errors) > before:
            continue
        first = seen.setdefault(module, line)
        if first != line:
            errors.append(LineError(line, f"module {module} is also on line {first}", "module"))
            continue
        rows.append(TitleRow(module=module, title=title))
    if not errors and not rows:
        errors.append(LineError(2, "the file has a header but no rows"))
    return rows, errors
