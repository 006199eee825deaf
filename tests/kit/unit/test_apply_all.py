"""`apply_all` hands each projection exactly its events, in log order."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from passhub_shared.messages.events import Recorded
from passhub_shared.storage.projections import Projection, apply_all


def event(type_: str, n: int) -> Recorded:
    return Recorded(uuid4(), f"s-{n}", 1, type_, "kittest", {"n": n}, datetime.now(UTC), n)


class Seen(Projection):
    def __init__(self, handles: set[str]) -> None:
        self.handles = frozenset(handles)
        self.batches: list[list[int]] = []

    async def apply(self, conn: Any, events: Sequence[Recorded]) -> None:
        self.batches.append([e.position for e in events])


class EvenOnly(Seen):
    def wants(self, event: Recorded) -> bool:
        return event.position % 2 == 0


def run(projections: Sequence[Projection], events: Sequence[Recorded]) -> None:
    asyncio.run(apply_all(None, projections, events))  # type: ignore[arg-type]


def test_each_projection_gets_its_types_in_log_order() -> None:
    log = [event("a", 1), event("b", 2), event("a", 3), event("c", 4), event("b", 5)]
    everything, some, none, custom = (
        Seen({"a", "b", "c"}),
        Seen({"a", "b"}),
        Seen({"z"}),
        EvenOnly(set()),
    )
    run([everything, some, none, custom], log)
    assert everything.batches == [[1, 2, 3, 4, 5]]
    assert some.batches == [[1, 2, 3, 5]]
    assert none.batches == []
    assert custom.batches == [[2, 4]]


def test_an_empty_batch_calls_nothing() -> None:
    seen = Seen({"a"})
    run([seen], [])
    assert seen.batches == []
