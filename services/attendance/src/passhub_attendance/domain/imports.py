"""Paper sign-in sheets typed up as CSV: parsed and checked line by line, all or nothing.

Columns (a header line first; other columns, such as names, are ignored):
`session_id`, `student_number` (required), `signed_in_at` (optional: ISO 8601 date and time,
with or without an offset; the session's start when empty), `role` (optional: `student` or
`leader`; `leader` asks for the leader rules). Every line is a `SignIn` with method `import`,
so the sheet is held to the same rules as a QR code, and a line already recorded (by any
method, or earlier in the file) is counted, not an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from passhub_attendance.domain.attendance import Presence, SignIn, attendance
from passhub_attendance.domain.model import SessionView, Window
from passhub_shared.csvsafe import CsvProblem, csv_records
from passhub_shared.errors import Rejected
from passhub_shared.events import Event

REQUIRED = ("session_id", "student_number")
MAX_LINES = 50_000


@dataclass(frozen=True)
class SheetLine:
    line: int
    session_id: str
    student_number: str
    signed_in_at: datetime | None = None
    as_leader: bool = False


@dataclass(frozen=True)
class LineError:
    line: int
    message: str


@dataclass
class ImportPlan:
    """What an import will append (per (session, student) stream), or why it cannot."""

    events: dict[tuple[str, str], list[Event]] = field(default_factory=dict)
    errors: list[LineError] = field(default_factory=list)
    already_recorded: int = 0

    @property
    def imported(self) -> int:
        return sum(len(v) for v in self.events.values())


def _parse_time(text: str, local: tzinfo) -> datetime:
    value = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    if value.tzinfo is None:
        value = value.replace(tzinfo=local)
    return value


def parse_sheet(
    text: str, local: tzinfo, student_number_pattern: str
) -> tuple[list[SheetLine], list[LineError]]:
    """Lines numbered as in the file (the header is line 1)."""
    pattern = re.compile(student_number_pattern)
    reader = csv_records(text)
    try:
        header = next(reader)[1]
    except StopIteration:
        return [], [LineError(1, "the file is empty: expected a header line")]
    except CsvProblem as problem:
        return [], [LineError(problem.line, problem.message)]
    columns = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        return [], [LineError(1, f"the header lacks the column(s): {', '.join(missing)}")]
    index = {name: columns.index(name) for name in columns}
    lines: list[SheetLine] = []
    errors: list[LineError] = []

    def cell(row: list[str], name: str) -> str:
        i = index.get(name)
        return row[i].strip() if i is not None and i < len(row) else ""

    while True:
        try:
            number, row = next(reader)
        except StopIteration:
            break
        except CsvProblem as problem:
            errors.append(LineError(problem.line, problem.message))
            break
        if number > MAX_LINES + 1:
            errors.append(LineError(number, f"a sheet holds at most {MAX_LINES} lines"))
            break
        if not any(c.strip() for c in row):
            continue
        session_id, student = cell(row, "session_id"), cell(row, "student_number")
        problems = []
        if not session_id:
            problems.append("session_id is empty")
        if not pattern.fullmatch(student):
            problems.append(f"student_number {student!r} is not a student number")
        when: datetime | None = None
        if cell(row, "signed_in_at"):
            try:
                when = _parse_time(cell(row, "signed_in_at"), local)
            except ValueError:
                problems.append(
                    f"signed_in_at {cell(row, 'signed_in_at')!r} is not a date and time "
                    "(e.g. 2026-10-05T14:05)"
                )
        role = cell(row, "role").lower() or "student"
        if role not in ("student", "leader"):
            problems.append(f"role {role!r} is neither student nor leader")
        if problems:
            errors.extend(LineError(number, p) for p in problems)
            continue
        lines.append(SheetLine(number, session_id, student, when, role == "leader"))
    if not lines and not errors:
        errors.append(LineError(1, "the file has a header but no lines"))
    return lines, errors


def plan_import(
    lines: Sequence[SheetLine],
    sessions: Mapping[str, SessionView | None],
    states: Mapping[tuple[str, str], Presence],
    now: datetime,
    window: Window,
) -> ImportPlan:
    """Decide every line against the attendance so far (and the lines before it)."""
    plan = ImportPlan()
    running = dict(states)
    for line in lines:
        key = (line.session_id, line.student_number)
        session = sessions.get(line.session_id)
        state = running.get(key, Presence())
        at = line.signed_in_at
        if at is None:
            at = session.starts_at if session is not None else now
        command = SignIn(
            session_id=line.session_id,
            session=session,
            student_number=line.student_number,
            method="import",
            at=at,
            now=now,
            window=window,
            as_leader=line.as_leader,
        )
        try:
            decided = attendance.decide(command, state)
        except Rejected as exc:
            plan.errors.append(LineError(line.line, exc.message))
            continue
        if not decided:
            plan.already_recorded += 1
            continue
        for event in decided:
            state = attendance.evolve(state, event)
        running[key] = state
        plan.events.setdefault(key, []).extend(decided)
    return plan
