"""Feeding the recognition service other services' events, as they would arrive.

`NatsFeed` publishes CloudEvents on JetStream with plain nats-py (the service's consumers pick
them up); `LocalFeed` hands them to the service's event applier directly (record + reaction in
one transaction, exactly what a consumed batch goes through, without the wait).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import nats

from passhub_shared.messages import envelope
from passhub_shared.messages.events import Event, Recorded, new_event_id, utcnow
from passhub_shared.operations.service import Runtime


def _stream_of(event: Event) -> str:
    """An aggregate id in the publishing service's style (only its uniqueness matters here)."""
    data = event.model_dump()
    for key in ("session_id", "scheme_id", "student_number"):
        if key in data:
            return f"{event.service}-{data[key]}"
    raise ValueError(f"no aggregate id for {event!r}")


class _Versions:
    def __init__(self) -> None:
        self.versions: dict[tuple[str, str], int] = defaultdict(int)

    def recorded(self, event: Event) -> Recorded:
        stream_id = _stream_of(event)
        self.versions[(event.service, stream_id)] += 1
        return Recorded(
            id=new_event_id(),
            stream_id=stream_id,
            stream_version=self.versions[(event.service, stream_id)],
            type=event.type_name(),
            origin=event.service,
            data=event.model_dump(mode="json"),
            occurred_at=utcnow(),
        )


class NatsFeed(_Versions):
    def __init__(self, nats_url: str) -> None:
        super().__init__()
        self.nats_url = nats_url

    async def publish(self, events: Sequence[Event]) -> list[Recorded]:
        recorded = [self.recorded(e) for e in events]
        nc = await nats.connect(self.nats_url)
        try:
            js = nc.jetstream()
            for r in recorded:
                await js.publish(r.subject, envelope.encode(r), headers={"Nats-Msg-Id": str(r.id)})
        finally:
            await nc.close()
        return recorded


class LocalFeed(_Versions):
    def __init__(self, runtime: Runtime) -> None:
        super().__init__()
        self.runtime = runtime

    async def apply(self, events: Sequence[Event]) -> list[Recorded]:
        return await self.runtime.applier.apply([self.recorded(e) for e in events])
