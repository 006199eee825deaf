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

from passhub_shared.messages.events import Event, Metadata, Recorded
from passhub_shared.storage.store import Append, EventStore
from passhub_shared.web.errors import Rejected

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


class Handled(list[Recorded], Generic[S]):
    """What a command appended (a list of its recorded events, maybe none), and `state`: its
    stream's state after them, for an answer that needs more than the events."""

    def __init__(self, recorded: Iterable[Recorded], state: S) -> None:
        super().__init__(recorded)
        self.state = state


#: checks the caller may run a command, once what it is about is loaded; raises `Rejected`
#: (`Forbidden`, `NotFound`) to refuse it
Authorise = Callable[[], None]


async def handle(
    conn: AsyncConnection,
    store: EventStore,
    decider: Decider[C, S],
    stream_id: str,
    command: C,
    metadata: Metadata | None = None,
    *,
    authorise: Authorise | None = None,
    people: Iterable[str] = (),
) -> Handled[S]:
    """Load `stream_id`, decide `command` against it, append what was decided.

    Runs in the caller's transaction. A `Rejected` from `authorise` or the decider propagates
    (and the caller's transaction rolls back, so nothing is written); a concurrent writer gives
    `ConcurrencyConflict`. `people`: the persons the new events name, whose keys are read with
    the stream (`EventStore.load_many`).
    """
    outcome = (
        await handle_many(
            conn, store, decider, [Command(stream_id, command, metadata, authorise)], people=people
        )
    )[0]
    if isinstance(outcome, Rejected):
        raise outcome
    return outcome


@dataclass(frozen=True)
class Command(Generic[C]):
    """A command for `handle_many`: what to do, to which stream, on whose behalf, and the check
    that they may (run before the decider; its `Rejected` refuses this command alone)."""

    stream_id: str
    command: C
    metadata: Metadata | None = None
    authorise: Authorise | None = None


async def handle_many(
    conn: AsyncConnection,
    store: EventStore,
    decider: Decider[C, S],
    commands: Sequence[Command[C]],
    *,
    people: Iterable[str] = (),
) -> list[Handled[S] | Rejected]:
    """`handle` for many commands in a fixed number of statements: their streams are loaded in
    one query and what they decide is appended in one statement. Each command gets its own
    outcome, in order: what it appended with its stream's state after it, or the `Rejected`
    its `authorise` or decider raised (which appends nothing and leaves the others alone).
    Commands on the same stream are decided in order, each seeing the events of those before
    it. A concurrent writer gives `ConcurrencyConflict` for the whole batch. Pairs with
    `batching.GroupCommit`."""
    histories = await store.load_many(conn, (c.stream_id for c in commands), people=people)
    streams = {
        stream_id: (decider.fold(r.decode() for r in history), len(history))
        for stream_id, history in histories.items()
    }
    decisions: list[tuple[int, Append, S] | Rejected] = []
    appends: list[Append] = []
    offset = 0  # where each append's events will be in what append_many returns
    for item in commands:
        state, version = streams[item.stream_id]
        try:
            if item.authorise is not None:
                item.authorise()
            decided = list(decider.decide(item.command, state))
        except Rejected as refused:
            decisions.append(refused)
            continue
        for event in decided:
            state = decider.evolve(state, event)
        streams[item.stream_id] = (state, version + len(decided))
        append = Append(item.stream_id, version, decided, item.metadata)
        decisions.append((offset, append, state))
        if decided:
            appends.append(append)
        offset += len(decided)
    recorded = await store.append_many(conn, appends)
    return [
        d if isinstance(d, Rejected) else Handled(recorded[d[0] : d[0] + len(d[1].events)], d[2])
        for d in decisions
    ]


__all__ = ["Authorise", "Command", "Decider", "Handled", "Rejected", "handle", "handle_many"]
