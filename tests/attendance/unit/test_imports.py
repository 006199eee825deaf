"""Paper sheets: parsed and planned line by line, every error reported by its line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from passhub_attendance.domain.attendance import Presence, attendance
from passhub_attendance.domain.imports import parse_sheet, plan_import, resolve_sessions
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


def test_every_error_of_every_line_in_one_pass() -> None:
    """A line's own cells and its session's rules are checked together: a bad student number
    on a line of a cancelled session gives both errors, and a line with only a rule error is
    reported beside lines with only format errors."""
    lines, errors = parse_sheet(
        "session_id,student_number,signed_in_at,role\n"
        "S1,1001,,\n"
        "\n"
        ",1002,,\n"
        "S1,not a number!,,\n"
        "S1,1004,yesterday,\n"
        "S1,1005,,visitor\n"
        "S2,bad one,,\n"  # cancelled, and a bad number
        "S1,1008,2026-10-05 16:30,\n"  # after the end: a rule error only
        "S9,1009,,\n",  # no such session
        LONDON,
        PATTERN,
    )
    assert errors == []
    assert [line.line for line in lines] == [2, 4, 5, 6, 7, 8, 9, 10]
    result = plan_import(lines, {"S1": S1, "S2": S2}, {}, NOW, Window(), LONDON)
    assert [(e.line, e.column, e.message.split()[0]) for e in result.errors] == [
        (4, "session_id", "session_id"),
        (5, "student_number", "student_number"),
        (6, "signed_in_at", "signed_in_at"),
        (7, "role", "role"),
        (8, "student_number", "student_number"),
        (8, None, "session"),
        (9, None, "sign-in"),
        (10, None, "no"),
    ]
    assert "cancelled" in result.errors[5].message
    assert "closed at 2026-10-05 15:00 BST" in result.errors[6].message
    assert list(result.events) == [("S1", "1001")]  # the handler writes none of it


def test_missing_columns() -> None:
    _, errors = parse_sheet("sess,student\nS1,1001\n", LONDON, PATTERN)
    assert errors[0].line == 1
    assert "session" in errors[0].message and "student_number" in errors[0].message


def test_an_empty_sheet() -> None:
    assert parse_sheet("", LONDON, PATTERN)[1][0].message.startswith("the file is empty")
    assert parse_sheet("session_id,student_number\n", LONDON, PATTERN)[1]


# -- sessions named as people read them ----------------------------------------------------------

PHYS = "2026-27-PHYS"
MON = datetime(2026, 10, 5, 13, 0, tzinfo=UTC)  # Monday 14:00 in London
A = SessionView("A", PHYS, MON, MON + timedelta(hours=1), room="P/T/005", scheme_code="PHYS")
B = SessionView("B", PHYS, MON, MON + timedelta(hours=1), room="P/T/006", scheme_code="PHYS")
C = SessionView("C", "2026-27-CHEM", MON, MON + timedelta(hours=1), room="C/1", scheme_code="CHEM")
WINTER = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # Monday 14:00 in London (GMT)
D = SessionView("D", PHYS, WINTER, WINTER + timedelta(hours=1), room="P/T/005", scheme_code="PHYS")
LATER = datetime(2026, 11, 3, tzinfo=UTC)


def resolved(sheet: str, candidates: list[SessionView]) -> list:  # type: ignore[type-arg]
    lines, errors = parse_sheet(sheet, LONDON, PATTERN)
    assert errors == []
    return resolve_sessions(lines, candidates, LONDON)


def test_a_reference_names_a_session_by_scheme_and_local_start() -> None:
    lines = resolved(
        "session,student_number\n"
        "CHEM-2026-10-05-14:00,1001\n"
        "chem-2026-10-05-14.00,1002\n"  # case and a dot forgiven
        "2026-27-CHEM-2026-10-05-14:00,1003\n"  # the scheme's id for its code
        "PHYS-2026-11-02-14:00,1004\n"  # 14:00 GMT
        "C,1005\n",  # an id is taken as it is
        [A, B, C, D],
    )
    assert [(line.session_id, line.problems) for line in lines] == [
        ("C", ()),
        ("C", ()),
        ("C", ()),
        ("D", ()),
        ("C", ()),
    ]


def test_two_sessions_at_once_are_told_apart_by_room() -> None:
    lines = resolved(
        "session,student_number,room\n"
        "PHYS-2026-10-05-14:00,1001,\n"
        "PHYS-2026-10-05-14:00,1002,p/t/006\n"
        "PHYS-2026-10-05-14:00,1003,P/T/999\n"
        "PHYS-2026-10-05-15:00,1004,\n",
        [A, B, C, D],
    )
    assert lines[1].session_id == "B" and lines[1].problems == ()
    messages = [[p.message for p in line.problems] for line in lines]
    assert messages[0] == [
        "PHYS-2026-10-05-14:00 names 2 sessions (rooms P/T/005, P/T/006): add a room column, "
        "or give the session id"
    ]
    assert messages[2] == [
        "PHYS-2026-10-05-14:00 is not in room 'P/T/999' (it is in P/T/005, P/T/006)"
    ]
    assert messages[3] == ["no session PHYS-2026-10-05-15:00 is scheduled"]


def test_a_sheet_by_references_plans_like_one_by_ids() -> None:
    lines = resolved(
        "session,student_number,name,room\n"
        "PHYS-2026-11-02-14:00,1001,Ann,\n"
        "PHYS-2026-10-05-14:00,1002,Bob,P/T/005\n",
        [A, B, D],
    )
    result = plan_import(lines, {"A": A, "B": B, "D": D}, {}, LATER, Window(), LONDON)
    assert result.errors == []
    assert list(result.events) == [("D", "1001"), ("A", "1002")]
