"""Every CSV passhub reads or writes goes through here.

Reading (`csv_records`; `decode_csv` for a small file wanted whole): uploads come from student
records systems and from people typing up paper sheets, so a file may hold anything. A NUL
byte (which PostgreSQL cannot store), bytes that are not UTF-8, a field longer than the csv
module's limit (131,072 characters) or a broken quote are each reported as a `CsvProblem`
with the line it is on, for the importer to list with its other errors, instead of a 500
from deep inside.

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


NOT_UTF8 = "the file is not UTF-8 text (save it as CSV UTF-8)"
HOLDS_NUL = "the line holds a NUL character (is this a spreadsheet saved as CSV?)"


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
    """A small file as text: UTF-8, a leading byte order mark dropped. `CsvProblem` on the
    line of the first byte that is not UTF-8, or of the first NUL. (A large file is better
    read with `csv_records` straight from its bytes.)"""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvProblem(_line_of(data, exc.start), NOT_UTF8) from None
    at = text.find("\x00")
    if at >= 0:
        raise CsvProblem(_line_of(text, at), HOLDS_NUL)
    return text


def csv_records(data: bytes | str, *, strict: bool = False) -> Iterator[tuple[int, list[str]]]:
    """(line the record starts on, its fields) for every record, the header included. Bytes
    are decoded as UTF-8 (a byte order mark dropped) as they are read, a few kilobytes at a
    time, so that no single step of reading a large file holds the interpreter for long. Bytes
    that are not UTF-8, a NUL, or a record the csv module cannot read raise `CsvProblem` with
    the line."""
    if isinstance(data, bytes):
        stream: io.TextIOBase = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    else:
        stream = io.StringIO(data.removeprefix("\ufeff"), newline="")
    reader = csv.reader(stream, strict=strict)
    while True:
        start = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise CsvProblem(start, _reason(exc)) from None
        except UnicodeDecodeError:
            # the stream decodes ahead of the reader: find the line of the byte once more
            assert isinstance(data, bytes)
            decode_csv(data)
            raise CsvProblem(start, NOT_UTF8) from None
        for field in record:
            if "\x00" in field:
                raise CsvProblem(start, HOLDS_NUL)
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
