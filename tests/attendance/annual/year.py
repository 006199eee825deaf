"""A generated year whose every headline figure is known in advance, put in the attendance log
as the services' events and the coordinator's imports would put it there.

2025-26: MATHS (opt-out, module M1, 40 enrolled) and CHEM (opt-in, module C1, 50 enrolled).
MATHS ran 6 weekly sessions from Monday 6 October 2025 and cancelled a seventh; s001-s020 came
to the first four (regular), s021-s030 to the fifth. CHEM ran 4 and cancelled a fifth;
c001-c010 came to the first two, and s001-s005 (not enrolled on C1) to the third.
2024-25 is known only from imported attendance counts: H001-H025 and s001-s010 on M1.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

from passhub_shared.contracts.attendance import LeaderSignedIn
from passhub_shared.contracts.recognition import AwardGranted, AwardWithheld
from passhub_shared.contracts.recruitment import (
    LeaderAppointed,
    LeaderStoodDown,
    TrainingCompleted,
)
from passhub_shared.contracts.sessions import SchemeLaunched, SessionCancelled, SessionScheduled
from passhub_shared.messages.events import Event, Recorded, new_event_id
from passhub_shared.operations.service import Runtime
from tests.attendance.evaluation.helpers import append_own, give_feedback, sign_in

YEAR, LAST = "2025-26", "2024-25"
MATHS, CHEM = f"{YEAR}-MATHS", f"{YEAR}-CHEM"
START = datetime(2025, 10, 6, 13, 0, tzinfo=UTC)
ORGANISER = "ORG1"
_ids = count(1)

MATHS_STUDENTS = [f"s{i:03d}" for i in range(1, 41)]
CHEM_STUDENTS = [f"c{i:03d}" for i in range(1, 51)]
LEADERS = [f"L{i:02d}" for i in range(1, 13)]
PAST_LEADERS = [f"G{i:02d}" for i in range(1, 14)]

#: what the report must state
EXPECTED: dict[str, Any] = {
    "participants": {
        "unique": 40,
        "new_this_year": 30,
        "cumulative": 65,
        "first_year": LAST,
        "regular": 20,
    },
    "sessions": {
        "scheduled": 12,
        "run": 10,
        "cancelled": 2,
        "attendances": 115,
        "mean_per_session": 11.5,
        "median_per_session": 10,
        "max_per_session": 20,
    },
    "per_week": [30, 30, 25, 20, 10, 0],
    "survey": {"understanding": 93.0, "enjoyable": 89.0, "recommend": 100.0},
    "modes": {"opt_out": (40, 30, 0.75, 2.25), "opt_in": (50, 10, 0.2, 0.4)},
    "leaders": {
        "appointed": 12,
        "trained": 10,
        "delivering_sessions": 3,
        "sessions_delivered": 10,
        "leader_sign_ins": 16,
    },
    "awards": {"granted": 7, "withheld": 5},
    # 25 leaders among 200 graduates: 23 positive; 147 of the other 175
    "graduates": {"leaders": (25, 23), "non_leaders": (175, 147), "cohort": (200, 170)},
}


def _recorded(event: Event, origin: str) -> Recorded:
    return Recorded(
        id=new_event_id(),
        stream_id=f"{origin}-{next(_ids)}",
        stream_version=1,
        type=event.type_name(),
        origin=origin,
        data=event.model_dump(mode="json"),
        occurred_at=START,
    )


async def record(runtime: Runtime, origin: str, events: list[Event]) -> None:
    """As the consumer of `origin`'s stream records them."""
    async with runtime.transaction() as conn:
        await runtime.store.record(conn, [_recorded(e, origin) for e in events])


def session_id(scheme: str, week: int) -> str:
    return f"{scheme}-w{week}"


def _at(week: int) -> datetime:
    return START + timedelta(weeks=week)


def csv_text(header: str, rows: list[str]) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def enrolments() -> bytes:
    rows = [f"{s},M1,{YEAR},{100 + i}" for i, s in enumerate(MATHS_STUDENTS)]
    rows += [f"{s},C1,{YEAR},{90 + i}" for i, s in enumerate(CHEM_STUDENTS)]
    return csv_text("student_number,module,academic_year,prior_attainment", rows)


def mark(student: str, i: int, regular: bool) -> float:
    return round(35 + 0.2 * (100 + i) + (6 if regular else 0) + (i % 7) - 3, 1)


def results() -> bytes:
    rows = [f"{s},M1,{YEAR},{mark(s, i, i < 20)}" for i, s in enumerate(MATHS_STUDENTS)]
    rows += [f"{s},C1,{YEAR},{mark(s, i, False)}" for i, s in enumerate(CHEM_STUDENTS)]
    return csv_text("student_number,module,academic_year,mark", rows)


def history() -> bytes:
    rows = [f"H{i:03d},M1,{LAST},3" for i in range(1, 26)]
    rows += [f"{s},M1,{LAST},2" for s in MATHS_STUDENTS[:10]]
    return csv_text("student_number,module,academic_year,sessions_attended", rows)


def graduate_outcomes() -> bytes:
    leaders = LEADERS + PAST_LEADERS
    rows = [
        f"{s},{YEAR},{'Unemployed' if i < 2 else 'Full-time employment'}"
        for i, s in enumerate(leaders)
    ]
    for i in range(175):
        outcome = (
            "Full-time employment"
            if i < 100
            else "Full-time further study"
            if i < 147
            else "Unemployed"
            if i < 165
            else "Other"
        )
        rows.append(f"N{i:03d},{YEAR},{outcome}")
    return csv_text("Student Number,Year,Outcome Category", rows)


def launched(scheme_id: str, module: str, mode: str, organisers: list[str]) -> SchemeLaunched:
    code = scheme_id[8:]
    return SchemeLaunched(
        scheme_id=scheme_id,
        code=code,
        title=f"{code.title()} PASS",
        school=code,
        academic_year=YEAR,
        modules=[module],
        mode=mode,
        organisers=organisers,
    )


def scheduled(scheme: str, week: int) -> SessionScheduled:
    return SessionScheduled(
        session_id=session_id(scheme, week),
        scheme_id=scheme,
        starts_at=_at(week),
        ends_at=_at(week) + timedelta(hours=1),
        room="R1",
        capacity=60,
    )


async def sessions_service(runtime: Runtime) -> None:
    events: list[Event] = [
        launched(MATHS, "M1", "opt_out", [ORGANISER]),
        launched(CHEM, "C1", "opt_in", []),
    ]
    events += [scheduled(MATHS, w) for w in range(7)]
    events += [scheduled(CHEM, w) for w in range(5)]
    events += [
        SessionCancelled(session_id=session_id(MATHS, 6), scheme_id=MATHS, reason="strike"),
        SessionCancelled(session_id=session_id(CHEM, 4), scheme_id=CHEM, reason="room"),
    ]
    await record(runtime, "sessions", events)


async def attendance(runtime: Runtime) -> None:
    for week in range(4):
        await sign_in(runtime, session_id(MATHS, week), MATHS, MATHS_STUDENTS[:20], ["M1"])
    await sign_in(runtime, session_id(MATHS, 4), MATHS, MATHS_STUDENTS[20:30], ["M1"])
    for week in range(2):
        await sign_in(runtime, session_id(CHEM, week), CHEM, CHEM_STUDENTS[:10], ["C1"])
    await sign_in(runtime, session_id(CHEM, 2), CHEM, MATHS_STUDENTS[:5], ["C1"])
    for week in range(6):
        sid = session_id(MATHS, week)
        await append_own(
            runtime,
            f"attendance-{sid}",
            [
                LeaderSignedIn(
                    session_id=sid,
                    scheme_id=MATHS,
                    student_number=leader,
                    signed_in_at=_at(week),
                    method="leader",
                )
                for leader in LEADERS[:2]
            ],
        )
    for week in range(4):
        sid = session_id(CHEM, week)
        await append_own(
            runtime,
            f"attendance-{sid}",
            [
                LeaderSignedIn(
                    session_id=sid,
                    scheme_id=CHEM,
                    student_number=LEADERS[8],
                    signed_in_at=_at(week),
                    method="leader",
                )
            ],
        )
    # 100 sheets on MATHS: 93 agree on understanding, 89 enjoyed it, all would recommend
    for i in range(100):
        await give_feedback(
            runtime,
            session_id(MATHS, i % 4),
            MATHS,
            understanding=5 if i < 93 else 2,
            enjoyable=4 if i < 89 else 3,
            recommend=5,
            comment="The worked examples helped." if i == 0 else "",
        )


def appointed(student: str, year: str, schemes: list[str]) -> LeaderAppointed:
    return LeaderAppointed(
        student_number=student,
        name=f"Leader {student}",
        email=f"{student.lower()}@example.ac.uk",
        academic_year=year,
        role="leader",
        schemes=schemes,
        appointed_on=date(2025, 6, 1),
    )


async def recruitment_and_recognition(runtime: Runtime) -> None:
    events: list[Event] = [
        appointed(s, YEAR, [MATHS] if i < 8 else [CHEM]) for i, s in enumerate(LEADERS)
    ]
    events += [appointed(s, LAST, [f"{LAST}-MATHS"]) for s in PAST_LEADERS]
    events += [
        TrainingCompleted(
            student_number=s,
            academic_year=YEAR,
            training_id="core",
            completed_on=date(2025, 9, 20),
            hours=6,
        )
        for s in LEADERS[:10]
    ]
    events.append(
        LeaderStoodDown(
            student_number=LEADERS[11],
            academic_year=YEAR,
            schemes=[CHEM],
            effective_from=date(2025, 11, 1),
        )
    )
    await record(runtime, "recruitment", events)
    awards: list[Event] = [
        AwardGranted(
            award_id=f"a{i}",
            kind="certificate",
            student_number=s,
            academic_year=YEAR,
            role="PASS Leader",
            schemes=[MATHS],
            sessions_delivered=6,
            hours=6.0,
            policy_version=1,
            verification_code=f"V{i:04d}",
        )
        for i, s in enumerate(LEADERS[:7])
    ]
    awards += [
        AwardWithheld(
            kind="certificate",
            student_number=s,
            academic_year=YEAR,
            unmet=["sessions"],
            policy_version=1,
        )
        for s in LEADERS[7:]
    ]
    await record(runtime, "recognition", awards)
