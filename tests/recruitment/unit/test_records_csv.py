"""Reading the student records CSV: every problem reported by line, nothing half-read."""

from __future__ import annotations

from decimal import Decimal

import pytest

from passhub_recruitment.domain.records import import_events
from passhub_recruitment.domain.records_csv import CsvRejected, decode, parse

HEADER = "student_number,name,email,school,programme,level,year_of_study,year1_mark,year2_mark\n"


def rejected(text: str) -> list[tuple[int, str | None]]:
    with pytest.raises(CsvRejected) as err:
        parse(text)
    return [(e.line, e.column) for e in err.value.errors]


def test_a_good_file() -> None:
    parsed = parse(
        HEADER
        + "S1,Ada Lovelace,ada@example.ac.uk,Physics,BSc Physics,undergraduate,2,59.99,\n"
        + "S2,Alan Turing,alan@example.ac.uk,Mathematics,BSc Maths,UG,3,60.00,71\n"
    )
    first, second = parsed.rows
    assert first.marks == {"1": Decimal("59.99")}
    assert str(first.marks["1"]) == "59.99"
    assert second.marks == {"1": Decimal("60.00"), "2": Decimal("71")}
    assert (first.line, second.line) == (2, 3)
    assert parsed.ignored_columns == []


def test_headers_are_matched_loosely_and_unknown_columns_are_ignored() -> None:
    parsed = parse(
        "Student Number,Name,Email,School,Programme,Level,Year of Study,Year 1 Mark,Tutor\n"
        "S1,Ada,ada@example.ac.uk,Physics,BSc,undergraduate,2,65,Dr X\n"
    )
    assert parsed.rows[0].marks == {"1": Decimal("65")}
    assert parsed.ignored_columns == ["Tutor"]


def test_a_byte_order_mark_and_crlf_line_ends_are_fine() -> None:
    text = decode(
        ("\ufeff" + HEADER + "S1,Ada,ada@example.ac.uk,Physics,BSc,UG,1,,\n")
        .replace("\n", "\r\n")
        .encode()
    )
    assert parse(text).rows[0].student_number == "S1"


def test_every_bad_row_is_reported_with_its_line_and_column() -> None:
    text = (
        HEADER
        + "S1,Ada,ada@example.ac.uk,Physics,BSc,UG,2,65,\n"  # line 2 fine
        + "S2,,not-an-email,Physics,BSc,UG,2,65,\n"  # line 3: name, email
        + "\n"  # line 4 blank: skipped
        + "S3,Cy,cy@example.ac.uk,Physics,BSc,UG,nine,101,abc\n"  # line 5: year, marks
        + "S4,Di,di@example.ac.uk,Physics\n"  # line 6: short
        + "S1,Ada again,ada@example.ac.uk,Physics,BSc,UG,2,65,\n"  # line 7: duplicate
        + '"S5","Ed\nWard",ed@example.ac.uk,Physics,BSc,UG,2,,\n'  # lines 8-9: fine (quoted)
        + "S6,Fi,fi@example.ac.uk,Physics,BSc,UG,2,-1,\n"  # line 10: mark
    )
    assert rejected(text) == [
        (3, "name"),
        (3, "email"),
        (5, "year_of_study"),
        (5, "year1_mark"),
        (5, "year2_mark"),
        (6, None),
        (7, "student_number"),
        (10, "year1_mark"),
    ]


def test_the_error_body_lists_lines_and_counts() -> None:
    with pytest.raises(CsvRejected) as err:
        parse(HEADER + "S1,Ada,ada@example.ac.uk,Physics,BSc,UG,2,sixty,\n")
    assert err.value.details == [
        {"line": 2, "column": "year1_mark", "message": "'sixty' is not a number"}
    ]
    assert "not imported" in err.value.message and "1 problem found" in err.value.message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("", 1),
        ("student_number,name\nS1,Ada\n", 1),
        (HEADER, 1),
        (HEADER.replace("name", "name,name"), 1),
    ],
)
def test_a_file_without_a_usable_header_or_rows(text: str, line: int) -> None:
    assert [err[0] for err in rejected(text)] == [line]


def test_text_that_is_not_utf8_is_reported_with_its_line() -> None:
    raw = (HEADER + "S1,Ada,ada@example.ac.uk,Physics,BSc,UG,2,65,\n").encode() + (
        b"S2,Zo\xe9,zoe@example.ac.uk,Physics,BSc,UG,2,65,\n"
    )
    with pytest.raises(CsvRejected) as err:
        decode(raw)
    assert err.value.errors[0].line == 3


def test_too_many_rows() -> None:
    rows = "".join(f"S{i},N,n{i}@example.ac.uk,Physics,BSc,UG,2,65,\n" for i in range(5))
    with pytest.raises(CsvRejected, match="not imported"):
        parse(HEADER + rows, max_rows=3)


def test_an_import_is_chunked_into_events() -> None:
    rows = "".join(f"S{i},N,n{i}@example.ac.uk,Physics,BSc,UG,2,65,\n" for i in range(7))
    parsed = parse(HEADER + rows)
    events = import_events("imp-1", "sits.csv", parsed.rows, chunk_size=3)
    assert [len(e.records) for e in events] == [3, 3, 1]
    assert {(e.chunks, e.total_rows) for e in events} == {(3, 7)}
    assert not type(events[0]).public
