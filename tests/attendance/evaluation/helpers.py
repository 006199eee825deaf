"""Putting events in the attendance log for the evaluation tests.

The sessions service's events are recorded as its consumer records them (`store.record`, origin
"sessions"); the attendance service's own sign-ins, revocations and feedback are appended to
the session streams (`attendance-<session>`, `feedback-<id>`) as its handlers append them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import count

from passhub_shared.contracts.attendance import (
    AttendanceRevoked,
    FeedbackSubmitted,
    StudentSignedIn,
)
from passhub_shared.contracts.sessions import SchemeLaunched, SessionScheduled
from passhub_shared.messages.events import Event, Metadata, Recorded, new_event_id
from passhub_shared.operations.service import Runtime

START = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)
_feedback_ids = count(1)


def sessions_event(event: Event, stream: str, version: int = 1) -> Recorded:
    return Recorded(
        id=new_event_id(),
        stream_id=stream,
        stream_version=version,
        type=event.type_name(),
        origin="sessions",
        data=event.model_dump(mode="json"),
        occurred_at=START,
    )


def launched(scheme_id: str, modules: Sequence[str], title: str = "") -> SchemeLaunched:
    year, code = scheme_id[:7], scheme_id[8:]
    return SchemeLaunched(
        scheme_id=scheme_id,
        code=code,
        title=title or f"{code} PASS",
        school=code,
        academic_year=year,
        modules=list(modules),
    )


def scheduled(session_id: str, scheme_id: str, week: int = 0) -> SessionScheduled:
    starts = START + timedelta(weeks=week)
    return SessionScheduled(
        session_id=session_id,
        scheme_id=scheme_id,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        room="R1",
        capacity=40,
    )


async def record_sessions_events(runtime: Runtime, events: Iterable[Event]) -> None:
    """As the consumer of the sessions service's stream would."""
    recorded = []
    for event in events:
        key = getattr(event, "session_id", None) or event.scheme_id  # type: ignore[attr-defined]
        recorded.append(sessions_event(event, f"{event.event_name}-{key}"))
    async with runtime.transaction() as conn:
        await runtime.store.record(conn, recorded)


async def append_own(runtime: Runtime, stream: str, events: Sequence[Event]) -> None:
    async with runtime.transaction() as conn:
        version = await runtime.store.version(conn, stream)
        await runtime.store.append(conn, stream, version, events, Metadata(actor="test"))


def signed_in(
    session_id: str, scheme_id: str, student: str, modules: Sequence[str] = ()
) -> StudentSignedIn:
    return StudentSignedIn(
        session_id=session_id,
        scheme_id=scheme_id,
        modules=list(modules),
        student_number=student,
        signed_in_at=START,
        method="kiosk",
    )


async def sign_in(
    runtime: Runtime,
    session_id: str,
    scheme_id: str,
    students: Iterable[str],
    modules: Sequence[str] = (),
) -> None:
    await append_own(
        runtime,
        f"attendance-{session_id}",
        [signed_in(session_id, scheme_id, s, modules) for s in students],
    )


async def revoke(
    runtime: Runtime, session_id: str, scheme_id: str, student: str, role: str = "student"
) -> None:
    await append_own(
        runtime,
        f"attendance-{session_id}",
        [
            AttendanceRevoked(
                session_id=session_id,
                scheme_id=scheme_id,
                student_number=student,
                role=role,  # type: ignore[arg-type]
                reason="signed in by mistake",
            )
        ],
    )


async def give_feedback(
    runtime: Runtime,
    session_id: str,
    scheme_id: str,
    understanding: int,
    enjoyable: int,
    recommend: int,
    comment: str = "",
    student: str | None = None,
) -> None:
    feedback_id = f"fb-{next(_feedback_ids)}"
    await append_own(
        runtime,
        f"feedback-{feedback_id}",
        [
            FeedbackSubmitted(
                feedback_id=feedback_id,
                session_id=session_id,
                scheme_id=scheme_id,
                student_number=student,
                understanding=understanding,
                enjoyable=enjoyable,
                recommend=recommend,
                comment=comment,
            )
        ],
    )
