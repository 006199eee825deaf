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
projection that folds a batch in memory and writes once is what makes replay fast. A projection
may also offer a `Rebuild`: replay then folds the whole log into it in memory and it writes each
final row once, into the emptied tables, instead of rewriting rows batch after batch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

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

    def rebuild(self) -> Rebuild | None:
        """A fold of the log from empty tables for `passhub replay`, or None: replay then calls
        `apply` batch by batch."""
        return None


class Rebuild(ABC):
    """A projection's state folded in memory from the start of the log, written once.

    Replay empties the projection's tables, hands every batch of the log to `fold` (pure: no
    I/O), and calls `write` once at the end, so each final row is written once (with `COPY`)
    rather than rewritten by every batch that touches it. The rows written must be exactly those
    `apply` would have left; the replay tests compare the two. Should `size` outgrow replay's
    memory bound, replay calls `write` early and goes on with `apply` from the rows written.
    """

    @abstractmethod
    def fold(self, events: Sequence[Recorded]) -> None:
        """Fold `events` (of the projection's types, in log order) into the state."""

    @property
    @abstractmethod
    def size(self) -> int:
        """Rows (or entries) held: what replay weighs against its memory bound."""

    @abstractmethod
    async def write(self, conn: AsyncConnection) -> None:
        """Write the folded state into the projection's empty tables."""


def wanted_by(
    projection: Projection, events: Sequence[Recorded], types: set[str]
) -> Sequence[Recorded]:
    """The events of `events` (whose types are `types`) that `projection` takes, in order."""
    if type(projection).wants is not Projection.wants:
        return [e for e in events if projection.wants(e)]
    if types <= projection.handles:
        return events  # a replay batch is often all of one projection's types
    if types.isdisjoint(projection.handles):
        return ()
    handles = projection.handles
    return [e for e in events if e.type in handles]


async def apply_all(
    conn: AsyncConnection, projections: Sequence[Projection], events: Sequence[Recorded]
) -> None:
    if not events:
        return
    types = {e.type for e in events}
    for projection in projections:
        if wanted := wanted_by(projection, events, types):
            await projection.apply(conn, wanted)


async def copy_rows(conn: AsyncConnection, table: Table, rows: Iterable[Sequence[Any]]) -> None:
    """`COPY` rows (tuples in the order of `table`'s columns) into `table`, on the connection's
    own transaction: the fast way for a `Rebuild` to write its final rows."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_records_to_table(
        table.name, records=rows, columns=[c.name for c in table.columns]
    )


async def copy_mappings(
    conn: AsyncConnection, table: Table, rows: Iterable[Mapping[str, Any]]
) -> None:
    """`copy_rows` for rows held as mappings keyed by column name."""
    columns = [c.name for c in table.columns]
    await copy_rows(conn, table, [[row[c] for c in columns] for row in rows])
