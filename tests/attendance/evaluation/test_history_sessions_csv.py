"""Reading past attendance as session rows (pure: bytes in, rows or line errors out): dates in
either form, the academic year they must fall in, repeated rows counted once, and hostile
files reported line by line."""

from __future__ import annotations

from datetime import date

from passhub_attendance.evaluation.csvimport import (
    MAX_SESSION_REF,
    parse_history_sessions,
    year_span,
)


def errors(parsed) -> list[tuple[int, str | None]]:
    return [(e.line, e.column) for e in parsed.errors]


def test_rows_with_both_date_forms_aliases_and_an_optional_session_name():
    data = (
        "\ufeffStudent ID,Module Code,Year,Date,Session,Notes\n"
        "1001,PHYS101,2024-25,2024-10-14,week 3 group B,came late\n"
        "1001,PHYS101,2024/25,14/10/2024,week 3 group A,\n"  # same day, another session
        "1002,PHYS101,2024-25,1/8/2024,,\n"  # the year's first day, day first
        "\n"
        "1002,PHYS101,2023-24,31/07/2024,,\n"  # the previous year's last day
    ).encode()
    parsed = parse_history_sessions(data)
    assert parsed.errors == []
    assert parsed.rows == 4 and parsed.duplicates == 0
    assert sorted(parsed.by_year) == ["2023-24", "2024-25"]
    rows = parsed.by_year["2024-25"]
    assert [(r.student_number, r.session_date, r.session_ref) for r in rows] == [
        ("1001", date(2024, 10, 14), "week 3 group B"),
        ("1001", date(2024, 10, 14), "week 3 group A"),
        ("1002", date(2024, 8, 1), None),
    ]
    assert parsed.by_year["2023-24"][0].session_date == date(2024, 7, 31)


def test_a_repeated_row_is_one_attendance_not_an_error():
    data = (
        b"student_number,module,academic_year,session_date\n"
        b"1001,PHYS101,2024-25,2024-10-14\n"
        b"1001,PHYS101,2024-25,14/10/2024\n"  # the same day written the other way
        b"1001,PHYS101,2024-25,2024-10-21\n"
        b"1001,PHYS102,2024-25,2024-10-14\n"  # another module
    )
    parsed = parse_history_sessions(data)
    assert parsed.errors == []
    assert parsed.rows == 3 and parsed.duplicates == 1


def test_the_academic_year_runs_from_august_to_july():
    assert year_span("2024-25") == (date(2024, 8, 1), date(2025, 7, 31))


def test_bad_dates_and_dates_outside_the_year_are_reported_by_line_all_at_once():
    data = (
        b"student_number,module,academic_year,session_date,session_ref\n"
        b"1001,PHYS101,2024-25,2024-10-14,\n"  # line 2: fine
        b"1001,PHYS101,2024-25,2025-02-30,\n"  # 3: no such day
        b"1001,PHYS101,2024-25,31/31/2024,\n"  # 4: no such month
        b"1001,PHYS101,2024-25,yesterday,\n"  # 5: not a date
        b"1001,PHYS101,2024-25,2024-10-14T10:00,\n"  # 6: a time is not a day
        b"1001,PHYS101,2024-25,10/14/2024,\n"  # 7: month first
        b"1001,PHYS101,2024-25,2024-07-31,\n"  # 8: the day before the year
        b"1001,PHYS101,2024-25,2025-08-01,\n"  # 9: the day after it
        b"1001,PHYS101,2024-26,2024-10-14,\n"  # 10: not an academic year
        b"1001,PHYS101,2024-25,,\n"  # 11: no date
        b",PHYS101,2024-25,2024-10-14,\n"  # 12: no student
        b"1001,PHYS101,2024-25,2024-10-15," + b"x" * (MAX_SESSION_REF + 1) + b"\n"  # 13
        b"1001,PHYS101,2024-25,\xd9\xa2\xd9\xa0\xd9\xa2\xd9\xa4-10-14,\n"  # 14: Arabic digits
    )
    parsed = parse_history_sessions(data)
    assert errors(parsed) == [
        (3, "session_date"),
        (4, "session_date"),
        (5, "session_date"),
        (6, "session_date"),
        (7, "session_date"),
        (8, "session_date"),
        (9, "session_date"),
        (10, "academic_year"),
        (11, "session_date"),
        (12, "student_number"),
        (13, "session_ref"),
        (14, "session_date"),
    ]
    outside = parsed.errors[5].message
    assert "not in academic year 2024-25" in outside and "2024-08-01 to 2025-07-31" in outside


def test_hostile_files_nul_bytes_not_utf8_missing_columns_and_empty():
    nul = (
        b"student_number,module,academic_year,session_date\n"
        b"1001,PHYS101,2024-25,2024-10-14\n"
        b"1002,PHYS\x00101,2024-25,2024-10-14\n"
    )
    parsed = parse_history_sessions(nul)
    assert errors(parsed) == [(3, None)] and "NUL" in parsed.errors[0].message
    latin1 = b"student_number,module,academic_year,session_date\n1001,M\xe9,2024-25,2024-10-14\n"
    assert errors(parse_history_sessions(latin1)) == [(2, None)]
    counts = b"student_number,module,academic_year,sessions_attended\n1001,M,2024-25,3\n"
    missing = parse_history_sessions(counts)
    assert errors(missing) == [(1, None)] and "session_date" in missing.errors[0].message
    assert errors(parse_history_sessions(b"")) == [(1, None)]
    header_only = b"student_number,module,academic_year,session_date\n"
    assert errors(parse_history_sessions(header_only)) == [(2, None)]
