"""Events of the other services (by their published contracts), for the recognition tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

from passhub_shared.contracts.attendance import AttendanceRevoked, LeaderSignedIn
from passhub_shared.contracts.recruitment import (
    LeaderAppointed,
    LeaderStoodDown,
    TrainingCompleted,
)
from passhub_shared.contracts.sessions import (
    SchemeLaunched,
    SessionCancelled,
    SessionRescheduled,
    SessionScheduled,
)

YEAR = "2026-27"
PHYS = f"{YEAR}-PHYS"
CHEM = f"{YEAR}-CHEM"
FIRST_SESSION = datetime(2026, 10, 5, 14, 0, tzinfo=UTC)


def launched(scheme_id: str = PHYS, title: str = "Physics") -> SchemeLaunched:
    return SchemeLaunched(
        scheme_id=scheme_id,
        code=scheme_id.rsplit("-", 1)[-1],
        title=title,
        school="School of Physics and Astronomy",
        academic_year=YEAR,
    )


def appointed(
    student: str = "S1",
    schemes: list[str] | None = None,
    name: str = "Ada Lovelace",
    role: Literal["leader", "organiser"] = "leader",
    on: date = date(2026, 9, 20),
) -> LeaderAppointed:
    return LeaderAppointed(
        student_number=student,
        name=name,
        email=f"{student.lower()}@example.ac.uk",
        academic_year=YEAR,
        role=role,
        schemes=[PHYS] if schemes is None else schemes,
        appointed_on=on,
    )


def trained(
    student: str = "S1", hours: float = 0.0, training_id: str = "core"
) -> TrainingCompleted:
    return TrainingCompleted(
        student_number=student,
        academic_year=YEAR,
        training_id=training_id,
        completed_on=date(2026, 9, 25),
        hours=hours,
    )


def session_id(n: int, scheme_id: str = PHYS) -> str:
    return f"{scheme_id}-s{n:02d}"


def scheduled(n: int, scheme_id: str = PHYS, hours: float = 1.0) -> SessionScheduled:
    starts = FIRST_SESSION + timedelta(weeks=n - 1)
    return SessionScheduled(
        session_id=session_id(n, scheme_id),
        scheme_id=scheme_id,
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
        room="Room 1.01",
        capacity=30,
    )


def rescheduled(n: int, hours: float, scheme_id: str = PHYS) -> SessionRescheduled:
    starts = FIRST_SESSION + timedelta(weeks=n - 1, days=1)
    return SessionRescheduled(
        session_id=session_id(n, scheme_id),
        scheme_id=scheme_id,
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
        room="Room 2.02",
        capacity=30,
    )


def cancelled(n: int, scheme_id: str = PHYS) -> SessionCancelled:
    return SessionCancelled(
        session_id=session_id(n, scheme_id), scheme_id=scheme_id, reason="room flooded"
    )


def signed_in(n: int, student: str = "S1", scheme_id: str = PHYS) -> LeaderSignedIn:
    return LeaderSignedIn(
        session_id=session_id(n, scheme_id),
        scheme_id=scheme_id,
        student_number=student,
        signed_in_at=FIRST_SESSION + timedelta(weeks=n - 1, minutes=-5),
        method="qr",
    )


def revoked(
    n: int,
    student: str = "S1",
    role: Literal["student", "leader"] = "leader",
    scheme_id: str = PHYS,
) -> AttendanceRevoked:
    return AttendanceRevoked(
        session_id=session_id(n, scheme_id),
        scheme_id=scheme_id,
        student_number=student,
        role=role,
        reason="signed in by mistake",
    )


def stood_down(on: date, student: str = "S1", schemes: list[str] | None = None) -> LeaderStoodDown:
    return LeaderStoodDown(
        student_number=student,
        academic_year=YEAR,
        schemes=schemes or [],
        effective_from=on,
        reason="left the scheme",
    )


def delivered(count: int, student: str = "S1", start: int = 1, hours: float = 1.0) -> list:
    """`count` sessions scheduled and signed in at by `student`."""
    out: list = []
    for n in range(start, start + count):
        out += [scheduled(n, hours=hours), signed_in(n, student)]
    return out
