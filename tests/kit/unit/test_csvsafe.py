"""The kit's CSV reading and writing: given a hostile file or hostile values, when read or
written, then a line-numbered problem or a cell a spreadsheet shows as text."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from passhub_shared.web.csvsafe import CsvProblem, csv_records, decode_csv, safe_cell, write_csv


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_text_starting_like_a_formula_gets_a_leading_quote(start: str) -> None:
    assert safe_cell(f"{start}1+1") == f"'{start}1+1"


@pytest.mark.parametrize("value", [-1, -2.5, Decimal("-0.1"), 0, "plain", "a=b", None, True])
def test_numbers_and_plain_text_are_written_as_they_are(value: object) -> None:
    assert safe_cell(value) == ("" if value is None else str(value))


def test_a_formatted_number_stays_a_number_and_formatted_text_is_quoted() -> None:
    assert safe_cell(-0.123456789, "-0.123457") == "-0.123457"
    assert safe_cell("-x", "-x") == "'-x"


def test_write_csv_quotes_formulas_in_every_cell_and_reads_back() -> None:
    text = write_csv(
        ["title", "n"],
        [{"title": '=HYPERLINK("http://x")', "n": -3}, {"title": "ok"}, {"n": 1, "extra": "="}],
    )
    assert text.endswith("\r\n")
    assert list(csv.reader(io.StringIO(text, newline=""))) == [
        ["title", "n"],
        ['\'=HYPERLINK("http://x")', "-3"],
        ["ok", ""],
        ["", "1"],
    ]


def records(data: bytes | str) -> list[tuple[int, list[str]]]:
    return list(csv_records(data))


def test_records_come_with_the_line_they_start_on() -> None:
    data = b'\xef\xbb\xbfa,b\n1,"two\nlines"\n\n3,4\n'
    assert records(data) == [(1, ["a", "b"]), (2, ["1", "two\nlines"]), (4, []), (5, ["3", "4"])]
    assert records(data.decode("utf-8-sig")) == records(data)


def test_a_nul_is_a_problem_on_its_line() -> None:
    with pytest.raises(CsvProblem) as raised:
        records(b"a,b\n1,2\n3,\x004\n")
    assert raised.value.line == 3 and "NUL" in raised.value.message
    with pytest.raises(CsvProblem) as raised:
        decode_csv(b"a,b\n\x00\n")
    assert raised.value.line == 2


def test_bytes_that_are_not_utf8_are_a_problem_on_their_line() -> None:
    data = b"a,b\n" + b"1,2\n" * 5000 + b"3,\xff\n"
    with pytest.raises(CsvProblem) as raised:
        records(data)
    assert raised.value.line == 5002 and "UTF-8" in raised.value.message


def test_a_field_over_the_csv_modules_limit_is_a_problem_on_its_line() -> None:
    data = b"a,b\n1,2\n3," + b"x" * 200_000 + b"\n"
    with pytest.raises(CsvProblem) as raised:
        records(data)
    assert raised.value.line == 3 and "longer than 131,072 characters" in raised.value.message


def test_a_broken_quote_is_a_problem_when_strict() -> None:
    with pytest.raises(CsvProblem) as raised:
        list(csv_records('a,b\n1,"x"y\n', strict=True))
    assert raised.value.line == 2
