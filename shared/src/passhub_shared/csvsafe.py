"""Every CSV passhub reads or writes goes through here.

Reading (`decode_csv`, `csv_records`): uploads come from student records systems and from
people typing up paper sheets, so a file may hold anything. A NUL byte (which PostgreSQL cannot
store), bytes that are not UTF-8, a field longer than the csv module's limit (131,072
characters) or a broken quote are each reported as a `CsvProblem` with the line it is on,
for the importer to list with its other errors, instead of a 500 from deep inside.

Writing (`write_csv`, `safe_cell`): every CSV passhub writes is opened in a spreadsheet by
someone, and a cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is taken
for a formula there (`=HYPERLINK(...)`, `=cmd|' /C calc'!A0`). Following OWASP's advice on
CSV injection, such text is written with a leading single quote, which spreadsheets show as
text. Numbers (int, float, Decimal) are written as they are: a negative figure is no formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

#: text beginning with one of these is a formula to a spreadsheet (OWASP, CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class CsvProblem(Exception):
    """The file cannot be read from `line` on (1 is the first line)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


def _line_of(text: str | bytes, index: int) -> int:
    newline: Any = "\n" if isinstance(text, str) else b"\n"
    return text.count(newline, 0, index) + 1


def decode_csv(data: bytes) -> str:
    """The file as text: UTF-8, a leading byte order mark dropped. `CsvProblem` on the line
    of the first byte that is not UTF-8, or of the first NUL."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvProblem(
            _line_of(data, exc.start), "the file is not UTF-8 text (save it as CSV UTF-8)"
        ) from None
    check_text(text)
    return text


def check_text(text: str) -> None:
    """`CsvProblem` on the line of the first NUL character (PostgreSQL cannot store one)."""
    at = text.find("\x00")
    if at >= 0:
        raise CsvProblem(
            _line_of(text, at),
            "the line holds a NUL character (is this a spreadsheet saved as CSV?)",
        )


def csv_records(text: str, *, strict: bool = False) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, its fields) for every record, the header included; text
    with a NUL or a record the csv module cannot read raises `CsvProblem` with its line."""
    check_text(text)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), strict=strict)
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvProblem(start, _reason(exc)) from None
        yield start, record


def _reason(exc: csv.Error) -> str:
    message = str(exc)
    if "field larger than field limit" in message:
        return f"a field is longer than {csv.field_size_limit():,} characters"
    return f"this line cannot be read as CSV: {message}"


def safe_cell(value: Any, text: str | None = None) -> str:
    """A CSV cell for `value` (`text`, when given, is how it is written): a number as it is,
    anything else with a leading `'` when a spreadsheet would take it for a formula."""
    if text is None:
        text = "" if value is None else str(value)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return text
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


def write_csv(
    header: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    *,
    fmt: Callable[[Any], str] = _plain,
) -> str:
    """A CSV document (`\\r\\n` line ends, as RFC 4180 and spreadsheets want): the header, then
    each row's values under it (missing ones empty, others ignored), each cell written by
    `safe_cell` after `fmt` has formatted it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(name) for name in header])
    for row in rows:
        writer.writerow([safe_cell(row.get(k), fmt(row.get(k))) for k in header])
    return out.getvalue()
