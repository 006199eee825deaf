"""Test helpers: the sessions service's events, as the attendance service receives them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import nats
from nats.js.errors import NotFoundError

from passhub_attendance.settings import AttendanceSettings
from passhub_shared.contracts.sessions import (
    LeaderRostered,
    SchemeLaunched,
    SessionCancelled,
    SessionScheduled,
)
from passhub_shared.messages import envelope
from passhub_shared.messages.events import Event, Recorded, new_event_id
from passhub_shared.messaging.streams import ensure_stream
from tests.support import Harness

SCHEME = "2026-27-PHYS"
MODULES = ["PHYS101", "PHYS102"]
#: the organiser the sessions service names for the scheme
ORGANISER = "o1"
_versions: dict[str, int] = defaultdict(int)


def now() -> datetime:
    return datetime.now(UTC)


def as_sessions_event(event: Event, stream: str) -> Recorded:
    """A sessions event as it arrives from NATS (its own id, next version of `stream`)."""
    return as_received(event, stream)


def as_received(event: Event, stream: str) -> Recorded:
    """Another service's event as it arrives from NATS (its own id, next version of
    `stream`)."""
    _versions[stream] += 1
    return Recorded(
        id=new_event_id(),
        stream_id=stream,
        stream_version=_versions[stream],
        type=event.type_name(),
        origin=event.service,
        data=event.model_dump(mode="json"),
        occurred_at=now(),
    )


def scheme_launched(
    scheme_id: str = SCHEME,
    modules: Sequence[str] = MODULES,
    organisers: Sequence[str] = (ORGANISER,),
) -> Recorded:
    return as_sessions_event(
        SchemeLaunched(
            scheme_id=scheme_id,
            code=scheme_id.rsplit("-", 1)[-1],
            title="Physics PASS",
            school="Physics",
            academic_year="2026-27",
            modules=list(modules),
            organisers=list(organisers),
        ),
        f"scheme-{scheme_id}",
    )


def session_events(
    session_id: str,
    *,
    starts_at: datetime | None = None,
    minutes: int = 60,
    room: str = "P/T/005",
    leaders: Iterable[str] = ("L100", "L200"),
    scheme_id: str = SCHEME,
) -> list[Recorded]:
    """A session that started 10 minutes ago (sign-in open), with its leaders rostered."""
    start = starts_at or now() - timedelta(minutes=10)
    stream = f"session-{session_id}"
    recorded = [
        as_sessions_event(
            SessionScheduled(
                session_id=session_id,
                scheme_id=scheme_id,
                starts_at=start,
                ends_at=start + timedelta(minutes=minutes),
                room=room,
                capacity=40,
            ),
            stream,
        )
    ]
    for leader in leaders:
        recorded.append(
            as_sessions_event(
                LeaderRostered(session_id=session_id, scheme_id=scheme_id, student_number=leader),
                stream,
            )
        )
    return recorded


def cancelled(session_id: str, scheme_id: str = SCHEME) -> Recorded:
    return as_sessions_event(
        SessionCancelled(session_id=session_id, scheme_id=scheme_id, reason="leader ill"),
        f"session-{session_id}",
    )


async def given(h: Harness, *events: Recorded | Sequence[Recorded]) -> None:
    """Hand sessions events to the service as its consumer would (same transaction path)."""
    flat: list[Recorded] = []
    for item in events:
        flat.extend([item] if isinstance(item, Recorded) else item)
    await h.runtime.applier.apply(flat)


async def given_session(h: Harness, session_id: str = "S1", **kwargs: object) -> None:
    # type: ignore[arg-type]
    await given(h, scheme_launched(), session_events(session_id, **kwargs))


def settings(h: Harness, **overrides: object) -> AttendanceSettings:
    """Set the attendance settings of a running harness."""
    value = AttendanceSettings(**overrides)  # type: ignore[arg-type]
    h.runtime.state["attendance_settings"] = value
    return value


async def publish(nats_url: str, events: Sequence[Recorded], origin: str = "sessions") -> None:
    """Publish events of `origin` on NATS as that service's relay does."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        try:
            await js.stream_info(f"PASSHUB_{origin.upper()}")
        except NotFoundError:
            await ensure_stream(js, origin)
        for event in events:
            await js.publish(
                event.subject,
                envelope.encode(event),
                headers={"Nats-Msg-Id": str(event.id), "Content-Type": envelope.CONTENT_TYPE},
            )
    finally:
        await nc.close()
