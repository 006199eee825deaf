"""Projections: read models kept in the service's own database.

A projection is updated inline, in the same transaction that appends (or records a consumed)
event, so a read model never disagrees with the log it was built from. `passhub replay`
rebuilds every projection from the log alone.

Two rules keep a replay equal to the live tables row for row:
- a row is written only by events of one stream (their order is fixed by stream version), or
  its updates commute (counters, sets), because the log's position order is not necessarily the
  order in which concurrent transactions touched a shared row;
- `apply` reads nothing but its own tables and the events it is given (no clock, no randomness).

`apply` takes a batch: replay and consumers hand over hundreds of events at a time, and a
projection that folds a batch in memory and writes once is what makes replay fast.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_shared.events import Recorded


class Projection(ABC):
    #: unique within a service; shown by `passhub replay`
    name: str = ""
    #: tables this projection owns: emptied before a replay, compared after it
    tables: Sequence[Table] = ()
    #: event types (CloudEvents type names) it reads; others are filtered out before `apply`
    handles: frozenset[str] = frozenset()

    def wants(self, event: Recorded) -> bool:
        return event.type in self.handles

    @abstractmethod
    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        """Fold `events` (all of types in `handles`, in log order) into the tables."""


async def apply_all(
    conn: AsyncConnection, projections: Sequence[Projection], events: Sequence[Recorded]
) -> None:
    if not events:
        return
    types = {e.type for e in events}
    for projection in projections:
        if type(projection).wants is not Projection.wants:
            wanted = [e for e in events if projection.wants(e)]
        elif types <= projection.handles:
            wanted = list(events)  # a replay batch is often all of one projection's types
        elif types.isdisjoint(projection.handles):
            continue
        else:
            handles = projection.handles
            wanted = [e for e in events if e.type in handles]
        if wanted:
            await projection.apply(conn, wanted)
