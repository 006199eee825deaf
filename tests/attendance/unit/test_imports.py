"""Paper sheets: parsed and planned line by line, every error reported by its line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from passhub_attendance.domain.attendance import Presence, attendance
from passhub_attendance.domain.imports import parse_sheet, plan_import
from passhub_attendance.domain.model import SessionView, Window
from passhub_shared.contracts.attendance import LeaderSignedIn, StudentSignedIn

LONDON = ZoneInfo("Europe/London")
PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
START = datetime(2026, 10, 5, 13, 0, tzinfo=UTC)  # 14:00 in London (BST)
S1 = SessionView("S1", "PHYS", START, START + timedelta(hours=1), leaders=frozenset({"L1"}))
S2 = SessionView(
    "S2", "PHYS", START, START + timedelta(hours=1), cancelled=True, leaders=frozenset()
)
NOW = START + timedelta(days=2)


def plan(sheet: str, states: dict[tuple[str, str], Presence] | None = None):  # type: ignore[no-untyped-def]
    lines, errors = parse_sheet(sheet, LONDON, PATTERN)
    assert errors == []
    return plan_import(lines, {"S1": S1, "S2": S2}, states or {}, NOW, Window())


def test_a_clean_sheet() -> None:
    result = plan(
        "session_id,student_number,name,signed_in_at,role\n"
        "S1,1001,Ann,2026-10-05 14:02,\n"
        "S1,1002,Bob,,\n"
        "S1,L1,Lee,,leader\n"
    )
    assert result.errors == []
    assert list(result.events) == [("S1", "1001"), ("S1", "1002"), ("S1", "L1")]
    events = [e for decided in result.events.values() for e in decided]
    assert [type(e) for e in events] == [StudentSignedIn, StudentSignedIn, LeaderSignedIn]
    first, second, _ = events
    assert first.signed_in_at == datetime(2026, 10, 5, 13, 2, tzinfo=UTC)  # type: ignore[attr-defined]
    assert second.signed_in_at == START  # type: ignore[attr-defined]
    assert all(e.method == "import" for e in events)  # type: ignore[attr-defined]


def test_duplicates_in_the_sheet_or_already_recorded_are_counted_not_errors() -> None:
    before = attendance.fold(
        [
            StudentSignedIn(
                session_id="S1",
                scheme_id="PHYS",
                student_number="1001",
                signed_in_at=START,
                method="qr",
            )
        ]
    )
    result = plan(
        "session_id,student_number\nS1,1001\nS1,1002\nS1,1002\n", {("S1", "1001"): before}
    )
    assert result.errors == []
    assert result.imported == 1
    assert result.already_recorded == 2


def test_rule_errors_are_reported_by_line() -> None:
    result = plan(
        "session_id,student_number,signed_in_at,role\n"
        "S1,1001,,\n"
        "S2,1002,,\n"  # cancelled
        "S9,1003,,\n"  # unknown session
        "S1,1004,2026-10-05 16:30,\n"  # after the end
        "S1,1005,,leader\n"  # not rostered
    )
    assert [e.line for e in result.errors] == [3, 4, 5, 6]
    assert "cancelled" in result.errors[0].message
    assert "S9" in result.errors[1].message
    assert "closed" in result.errors[2].message
    assert "not rostered" in result.errors[3].message


def test_format_errors_are_reported_by_line() -> None:
    lines, errors = parse_sheet(
        "session_id,student_number,signed_in_at,role\n"
        "S1,1001,,\n"
        "\n"
        ",1002,,\n"
        "S1,not a number!,,\n"
        "S1,1004,yesterday,\n"
        "S1,1005,,visitor\n",
        LONDON,
        PATTERN,
    )
    assert [line.line for line in lines] == [2]
    assert [(e.line, e.message.split()[0]) for e in errors] == [
        (4, "session_id"),
        (5, "student_number"),
        (6, "signed_in_at"),
        (7, "role"),
    ]


def test_missing_columns() -> None:
    _, errors = parse_sheet("session,student\nS1,1001\n", LONDON, PATTERN)
    assert errors[0].line == 1
    assert "session_id" in errors[0].message and "student_number" in errors[0].message


def test_an_empty_sheet() -> None:
    assert parse_sheet("", LONDON, PATTERN)[1][0].message.startswith("the file is empty")
    assert parse_sheet("session_id,student_number\n", LONDON, PATTERN)[1]
