"""Reading the student records CSV exports (pure: bytes in, rows or line errors out)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from passhub_attendance.evaluation.csvimport import (
    normalise_year,
    parse_enrolments,
    parse_outcome_codes,
    parse_results,
)
from passhub_attendance.evaluation.settings import EvaluationSettings

GRADES = ["A", "B", "C", "D", "F"]


def errors(parsed) -> list[tuple[int, str | None]]:
    return [(e.line, e.column) for e in parsed.errors]


def test_enrolments_with_aliases_bom_extra_columns_and_years():
    data = (
        "\ufeffStudent ID,Module Code,Year,Entry Tariff,Surname\n"
        "1001,PHYS101,2026-27,128,Smith\n"
        "\n"
        "1002,PHYS101,2026/27,,Jones\n"
        "1001,PHYS101,2025-26,128,Smith\n"
    ).encode()
    parsed = parse_enrolments(data)
    assert parsed.errors == []
    assert parsed.rows == 3
    assert sorted(parsed.by_year) == ["2025-26", "2026-27"]
    first, second = parsed.by_year["2026-27"]
    assert (first.student_number, first.module, first.prior_attainment) == ("1001", "PHYS101", 128)
    assert second.prior_attainment is None
    assert parsed.modules == ["PHYS101"]


def test_enrolment_errors_are_reported_by_line_all_at_once():
    data = (
        b"student_number,module,academic_year,prior_attainment\n"
        b"1001,PHYS101,2026-27,128\n"  # line 2: fine
        b",PHYS101,2026-27,\n"  # line 3: no student
        b'1003,"PHYS\n101",2026-28,abc\n'  # lines 4-5: a quoted newline; bad year and prior
        b"1001,PHYS101,2026-27,\n"  # line 6: duplicate of line 2
    )
    parsed = parse_enrolments(data)
    assert errors(parsed) == [
        (3, "student_number"),
        (4, "academic_year"),
        (4, "prior_attainment"),
        (6, None),
    ]
    assert "line 2" in parsed.errors[-1].message


def test_missing_columns_empty_files_and_non_utf8():
    assert errors(parse_enrolments(b"student_number,module\n1,M\n")) == [(1, None)]
    assert "academic_year" in parse_enrolments(b"student_number,module\n").errors[0].message
    semicolons = parse_enrolments(b"student_number;module;academic_year\n1;M;2026-27\n")
    assert "comma-separated" in semicolons.errors[0].message
    assert errors(parse_enrolments(b"")) == [(1, None)]
    assert "no rows" in parse_enrolments(b"student_number,module,academic_year\n").errors[0].message
    latin1 = "student_number,module,academic_year\n1,M\xf6,2026-27\n".encode("latin-1")
    assert errors(parse_enrolments(latin1)) == [(2, None)]
    assert "UTF-8" in parse_enrolments(latin1).errors[0].message


def test_results_marks_grades_flags_and_withdrawals():
    data = (
        b"student_number,module,academic_year,mark,grade,passed,withdrawn\n"
        b"1,M,2026-27,67.5,,,\n"
        b"2,M,2026-27,,b,,\n"
        b"3,M,2026-27,35,,yes,\n"
        b"4,M,2026-27,,,,Y\n"
        b"5,M,2026-27,,W,,\n"  # W is a withdrawal when the scale has no W
        b"6,M,2026-27,72,A,Pass,no\n"
    )
    parsed = parse_results(data, GRADES)
    assert parsed.errors == []
    rows = {r.student_number: r for r in parsed.by_year["2026-27"]}
    assert rows["1"].mark == 67.5 and rows["1"].passed is None and not rows["1"].withdrawn
    assert rows["2"].grade == "B" and rows["2"].mark is None
    assert rows["3"].passed is True
    assert rows["4"].withdrawn
    assert rows["5"].withdrawn and rows["5"].grade is None
    assert (rows["6"].mark, rows["6"].grade, rows["6"].passed) == (72, "A", True)


def test_result_errors():
    data = (
        b"student,module,academic_year,mark,grade,passed\n"
        b"1,M,2026-27,101,,\n"
        b"2,M,2026-27,-1,,\n"
        b"3,M,2026-27,nan,,\n"
        b"4,M,2026-27,,E,\n"
        b"5,M,2026-27,50,,perhaps\n"
        b"6,M,2026-27,,,\n"
        b"7,M,27,50,,\n"
    )
    parsed = parse_results(data, GRADES)
    assert errors(parsed) == [
        (2, "mark"),
        (3, "mark"),
        (4, "mark"),
        (5, "grade"),
        (6, "passed"),
        (7, None),
        (8, "academic_year"),
    ]
    assert parsed.by_year == {}


def test_normalise_year():
    assert normalise_year("2026-27") == "2026-27"
    assert normalise_year(" 2026 / 27 ") == "2026-27"
    assert normalise_year("2099-00") == "2099-00"
    assert normalise_year("2026-28") is None
    assert normalise_year("2026") is None


def test_outcome_codes_of_a_records_system_pass_fail_and_withdraw():
    data = (
        b"student_number,module,academic_year,mark,outcome\n"
        b"1,M,2026-27,67,P\n"
        b"2,M,2026-27,35,f\n"
        b"3,M,2026-27,,W\n"  # withdrawn: no mark needed
        b"4,M,2026-27,50,yes\n"  # yes/no words still work
        b"5,M,2026-27,50,X\n"
    )
    parsed = parse_results(data, GRADES)
    assert errors(parsed) == [(6, "passed")]
    assert "P = pass, F = fail, W = withdrawn" in parsed.errors[0].message
    good = parse_results(data.rsplit(b"5,M", 1)[0], GRADES)
    assert good.errors == []
    rows = {r.student_number: r for r in good.by_year["2026-27"]}
    assert (rows["1"].passed, rows["1"].withdrawn) == (True, False)
    assert (rows["2"].passed, rows["2"].withdrawn) == (False, False)
    assert (rows["3"].passed, rows["3"].withdrawn, rows["3"].mark) == (None, True, None)
    assert rows["4"].passed is True


def test_outcome_codes_are_configurable():
    data = (
        b"student_number,module,academic_year,mark,result_code\n1,M,2026-27,,WD\n2,M,2026-27,55,W\n"
    )
    codes = parse_outcome_codes("PA=pass, FA=fail, WD=withdrawn")
    assert codes == {"PA": "pass", "FA": "fail", "WD": "withdrawn"}
    parsed = parse_results(data, GRADES, codes)
    assert errors(parsed) == [(3, "passed")]  # W is not a code of this institution
    assert (
        parse_results(data.split(b"\n2,")[0] + b"\n", GRADES, codes).by_year["2026-27"][0].withdrawn
    )


def test_outcome_codes_setting_as_pairs_or_json(monkeypatch):
    assert EvaluationSettings().outcome_codes == {"P": "pass", "F": "fail", "W": "withdrawn"}
    monkeypatch.setenv("PASSHUB_ATTENDANCE_EVALUATION_OUTCOME_CODES", "p=pass,r=fail,wd=withdrawn")
    assert EvaluationSettings().outcome_codes == {"P": "pass", "R": "fail", "WD": "withdrawn"}
    monkeypatch.setenv("PASSHUB_ATTENDANCE_EVALUATION_OUTCOME_CODES", '{"S": "pass", "U": "fail"}')
    assert EvaluationSettings().outcome_codes == {"S": "pass", "U": "fail"}
    assert EvaluationSettings().public()["outcome_codes"] == {"S": "pass", "U": "fail"}
    for bad in ("P=passed", "P", '{"P": 1}', "[1]", ""):
        monkeypatch.setenv("PASSHUB_ATTENDANCE_EVALUATION_OUTCOME_CODES", bad)
        with pytest.raises(ValidationError, match="outcome code"):
            EvaluationSettings()
