"""Aggregates as deciders: `decide(command, state) -> events` and `evolve(state, event) -> state`.

Both are pure functions, so a service's rules are tested as given/when/then without I/O:
given these past events, when this command, then these new events (or this `Rejected`).
`handle` is the one place that loads a stream, runs a decider and appends the result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_shared.errors import Rejected
from passhub_shared.events import Event, Metadata, Recorded
from passhub_shared.store import EventStore

S = TypeVar("S")
C = TypeVar("C")


@dataclass(frozen=True)
class Decider(Generic[C, S]):
    initial: Callable[[], S]
    decide: Callable[[C, S], Sequence[Event]]
    evolve: Callable[[S, Event], S]

    def fold(self, history: Iterable[Event]) -> S:
        state = self.initial()
        for event in history:
            state = self.evolve(state, event)
        return state

    def given_when(self, given: Iterable[Event], command: C) -> list[Event]:
        """Test helper: the events `command` decides after `given`."""
        return list(self.decide(command, self.fold(given)))


async def handle(
    conn: AsyncConnection,
    store: EventStore,
    decider: Decider[C, S],
    stream_id: str,
    command: C,
    metadata: Metadata | None = None,
) -> list[Recorded]:
    """Load `stream_id`, decide `command` against it, append what was decided.

    Runs in the caller's transaction. A `Rejected` from the decider propagates (and the
    caller's transaction rolls back, so nothing is written); a concurrent writer gives
    `ConcurrencyConflict`.
    """
    history = await store.load(conn, stream_id)
    state = decider.fold(r.decode() for r in history)
    decided = list(decider.decide(command, state))
    return await store.append(conn, stream_id, len(history), decided, metadata)


__all__ = ["Decider", "Rejected", "handle"]
