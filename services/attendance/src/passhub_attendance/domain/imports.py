"""Paper sign-in sheets typed up as CSV: checked whole, in one pass, all or nothing.

Columns (a header line first; other columns, such as names, are ignored):
`session` (or `session_id`) and `student_number` (required); `signed_in_at` (optional: ISO 8601
date and time, with or without an offset; the session's start when empty), `role` (optional:
`student` or `leader`; `leader` asks for the leader rules) and `room` (optional).

A session is named by its id or by its reference as the sessions service shows it,
`<scheme code>-<YYYY-MM-DD>-<HH:MM>` in local time (`PHYS-2026-10-05-14:00`; the scheme's id,
`2026-27-PHYS`, may stand for its code). When two sessions of a scheme start at the same minute,
the line's `room` says which.

Every line is a `SignIn` with method `import`, so the sheet is held to the same rules as a QR
code, and a line already recorded (by any method, or earlier in the file) is counted, not an
error. Every error of every line is found in the same pass: a line whose own cells are wrong
is still checked against its session (that it exists, is not cancelled, and that its time is
in the sign-in window), so one answer lists everything to correct.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo

from passhub_attendance.domain.attendance import Presence, SignIn, attendance, check_open
from passhub_attendance.domain.model import SessionView, Window
from passhub_shared.contracts.sessions import SessionReference, parse_session_reference
from passhub_shared.messages.events import Event
from passhub_shared.web.csvsafe import CsvProblem, csv_records
from passhub_shared.web.errors import Rejected

#: the columns that may name the session, in order of preference
SESSION_COLUMNS = ("session", "session_id", "session_reference", "reference")
MAX_LINES = 50_000


@dataclass(frozen=True)
class LineError:
    line: int
    message: str
    column: str | None = None


@dataclass(frozen=True)
class SheetLine:
    """One line of a sheet. `session` is the cell as written; `session_id` the session it
    names (empty until a reference is resolved, see `resolve_sessions`). `problems` are what is
    wrong with the line's own cells."""

    line: int
    session: str
    student_number: str
    signed_in_at: datetime | None = None
    as_leader: bool = False
    room: str = ""
    session_id: str = ""
    problems: tuple[LineError, ...] = ()
    #: the signed_in_at cell could not be read (so the window cannot be checked)
    bad_time: bool = False

    @property
    def reference(self) -> SessionReference | None:
        return parse_session_reference(self.session) if self.session else None


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


def room_key(room: str) -> str:
    """Rooms compared as people type them: case and spacing do not matter."""
    return " ".join(room.split()).casefold()


def _sheet_line(
    number: int,
    cells: dict[str, str],
    session_cell: tuple[str | None, str],
    pattern: re.Pattern[str],
    local: tzinfo,
) -> SheetLine:
    """One line of a sheet, with its own problems. `cells`: its student_number, signed_in_at,
    role and room; `session_cell`: the session column's name and cell."""
    session_column, session = session_cell
    student = cells["student_number"]
    problems: list[LineError] = []
    if not session:
        problems.append(LineError(number, f"{session_column} is empty", session_column))
    if not pattern.fullmatch(student):
        problems.append(
            LineError(
                number, f"student_number {student!r} is not a student number", "student_number"
            )
        )
    when: datetime | None = None
    bad_time = False
    if cells["signed_in_at"]:
        try:
            when = _parse_time(cells["signed_in_at"], local)
        except (ValueError, OverflowError):
            bad_time = True
            problems.append(
                LineError(
                    number,
                    f"signed_in_at {cells['signed_in_at']!r} is not a date and time "
                    "(e.g. 2026-10-05T14:05)",
                    "signed_in_at",
                )
            )
    role = cells["role"].lower() or "student"
    if role not in ("student", "leader"):
        problems.append(LineError(number, f"role {role!r} is neither student nor leader", "role"))
    return SheetLine(
        line=number,
        session=session,
        student_number=student,
        signed_in_at=when,
        as_leader=role == "leader",
        room=cells["room"],
        problems=tuple(problems),
        bad_time=bad_time,
    )


def parse_sheet(
    text: str, local: tzinfo, student_number_pattern: str
) -> tuple[list[SheetLine], list[LineError]]:
    """Every line (with its own problems), numbered as in the file (the header is line 1), and
    the errors of the file as a whole (no header, no lines, too many lines)."""
    pattern = re.compile(student_number_pattern)
    reader = csv_records(text)
    try:
        header = next(reader)[1]
    except StopIteration:
        return [], [LineError(1, "the file is empty: expected a header line")]
    except CsvProblem as problem:
        return [], [LineError(problem.line, problem.message)]
    columns = [h.strip().lower().replace(" ", "_") for h in header]
    session_column = next((c for c in SESSION_COLUMNS if c in columns), None)
    missing = [
        name
        for name, present in (
            ("session (or session_id)", session_column is not None),
            ("student_number", "student_number" in columns),
        )
        if not present
    ]
    if missing:
        return [], [LineError(1, f"the header lacks the column(s): {', '.join(missing)}")]
    index = {name: columns.index(name) for name in columns}
    lines: list[SheetLine] = []
    errors: list[LineError] = []

    def cell(row: list[str], name: str | None) -> str:
        i = index.get(name) if name is not None else None
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
        line = _sheet_line(
            number,
            {name: cell(row, name) for name in ("student_number", "signed_in_at", "role", "room")},
            (session_column, cell(row, session_column)),
            pattern,
            local,
        )
        if line.session and line.reference is None:
            line = replace(line, session_id=line.session)
        lines.append(line)
    if not lines and not errors:
        errors.append(LineError(1, "the file has a header but no lines"))
    return lines, errors


def matches(session: SessionView, reference: SessionReference, tz: tzinfo) -> bool:
    """Whether `reference` names `session` (by its scheme's code or id and its local start)."""
    if reference.scheme not in (session.scheme_code.upper(), session.scheme_id.upper()):
        return False
    local = session.starts_at.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
    return local == reference.starts


def resolve_sessions(
    lines: Sequence[SheetLine], candidates: Sequence[SessionView], tz: tzinfo
) -> list[SheetLine]:
    """Each line that names its session by reference, with the id of the one session it names
    among `candidates` (the sessions the references could name), or with a problem saying why
    it names none or several. Lines that give an id are returned as they are."""
    resolved: list[SheetLine] = []
    for line in lines:
        reference = line.reference
        if reference is None:
            resolved.append(line)
            continue
        found = [s for s in candidates if matches(s, reference, tz)]
        if line.room:
            in_room = [s for s in found if room_key(s.room) == room_key(line.room)]
            if found and not in_room:
                rooms = ", ".join(sorted({s.room for s in found}))
                resolved.append(
                    _with_problem(
                        line, f"{reference} is not in room {line.room!r} (it is in {rooms})", "room"
                    )
                )
                continue
            found = in_room
        if len(found) > 1 and any(not s.cancelled for s in found):
            found = [s for s in found if not s.cancelled]
        if not found:
            resolved.append(_with_problem(line, f"no session {reference} is scheduled", "session"))
        elif len(found) > 1:
            rooms = ", ".join(sorted(s.room for s in found))
            resolved.append(
                _with_problem(
                    line,
                    f"{reference} names {len(found)} sessions (rooms {rooms}): add a room "
                    "column, or give the session id",
                    "session",
                )
            )
        else:
            resolved.append(replace(line, session_id=found[0].session_id))
    return resolved


def _with_problem(line: SheetLine, message: str, column: str) -> SheetLine:
    return replace(line, problems=(*line.problems, LineError(line.line, message, column)))


def plan_import(
    lines: Sequence[SheetLine],
    sessions: Mapping[str, SessionView | None],
    states: Mapping[tuple[str, str], Presence],
    now: datetime,
    window: Window,
    tz: tzinfo = UTC,
) -> ImportPlan:
    """Decide every line against the attendance so far (and the lines before it); every error
    of every line, in line order. `tz`: the zone times in messages are written in."""
    plan = ImportPlan()
    running = dict(states)
    for line in lines:
        session = sessions.get(line.session_id) if line.session_id else None
        at = line.signed_in_at
        if at is None:
            at = session.starts_at if session is not None else now
        command = SignIn(
            session_id=line.session_id or line.session,
            session=session,
            student_number=line.student_number,
            method="import",
            at=at,
            now=now,
            window=window,
            as_leader=line.as_leader,
            tz=tz,
        )
        if line.problems:
            plan.errors.extend(line.problems)
            if line.session_id and not line.bad_time:
                try:  # the session's own rules, which the bad cells do not change
                    check_open(command)
                except Rejected as exc:
                    plan.errors.append(LineError(line.line, exc.message))
            continue
        key = (line.session_id, line.student_number)
        state = running.get(key, Presence())
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
