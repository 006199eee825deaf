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

The toolkit for writing one: `on` marks a method as the handler of some event types and
`Dispatch` calls, for each event, the method marked for its type (and derives `handles` from
them), in place of a chain of `if e.type == ...`; `load_rows` reads the rows a batch touches by
primary key; `upsert` writes them back, every row of a batch in one pipelined round trip, the
one way the kit's projections write (and `copy_rows` for a `Rebuild`'s empty tables).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from typing import Any, ClassVar, TypeVar

import orjson
from sqlalchemy import Table, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_shared.messages.events import Event, Recorded
from passhub_shared.storage import driver

Row = dict[str, Any]
F = TypeVar("F", bound=Callable[..., Any])


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


# -- dispatch by event type ------------------------------------------------------------------


def on(*events: type[Event]) -> Callable[[F], F]:
    """Mark a `Dispatch` method as the handler of `events`:
    `method(self, state, recorded, event)`, `event` being the decoded body."""

    def mark(method: F) -> F:
        method.__dict__.setdefault("_passhub_on", []).extend(e.type_name() for e in events)
        return method

    return mark


class Dispatch(Projection):
    """A projection whose events are handled by the methods marked with `on`. `handles` is
    derived from them (unless the class sets it), and `dispatch` runs the batch through them."""

    _handlers: ClassVar[dict[str, Callable[..., Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[str, Callable[..., Any]] = {}
        for klass in reversed(cls.__mro__):
            for value in vars(klass).values():
                for type_name in getattr(value, "_passhub_on", ()):
                    handlers[type_name] = value
        cls._handlers = handlers
        if "handles" not in vars(cls):
            cls.handles = frozenset(handlers)

    def dispatch(self, state: Any, events: Iterable[Recorded]) -> None:
        """Each event to the method marked for its type (events of no marked type are skipped)."""
        handlers = self._handlers
        for recorded in events:
            method = handlers.get(recorded.type)
            if method is not None:
                method(self, state, recorded, recorded.decode())


# -- reading and writing rows ----------------------------------------------------------------


def key_columns(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns]


async def load_rows(
    conn: AsyncConnection, table: Table, keys: Iterable[tuple[Any, ...]]
) -> dict[tuple[Any, ...], Row]:
    """The existing rows of `table` with these primary keys, by key (a tuple, even of one)."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return {}
    names = key_columns(table)
    columns = [table.c[n] for n in names]
    condition = (
        columns[0].in_([k[0] for k in wanted])
        if len(columns) == 1
        else tuple_(*columns).in_(wanted)
    )
    result = await conn.execute(select(table).where(condition))
    return {tuple(row._mapping[n] for n in names): dict(row._mapping) for row in result}


@cache
def _upsert_sql(table: Table, columns: tuple[str, ...], add: tuple[str, ...]) -> str:
    """The upsert of rows with these columns, written once per table and columns: the rows
    arrive as one JSON array, which PostgreSQL unpacks into the table's row type."""
    keys = key_columns(table)
    name = f'"{table.name}"'
    listed = ", ".join(f'"{c}"' for c in columns)
    conflicting = ", ".join(f'"{k}"' for k in keys)
    updates = [
        f'"{c}" = {name}."{c}" + excluded."{c}"' if c in add else f'"{c}" = excluded."{c}"'
        for c in columns
        if c not in keys
    ]
    conflict = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
    return (
        f"INSERT INTO {name} ({listed}) SELECT {listed}"
        f" FROM json_populate_recordset(NULL::{name}, $1::json)"
        f" ON CONFLICT ({conflicting}) {conflict}"
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)  # Decimal, asyncpg's UUID, ...


def rows_json(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows as the one JSON array `json_populate_recordset` reads (a naive time taken as UTC;
    column names as SQLAlchemy's rows give them, a subclass of `str`)."""
    options = orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS
    return orjson.dumps(rows, default=_json_default, option=options).decode()


async def upsert(
    conn: AsyncConnection,
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    *,
    add: Sequence[str] = (),
) -> None:
    """Insert `rows` (mappings of column name to value, all with the same columns), or replace
    the rows with the same primary key; the columns in `add` are added to what the row holds
    instead (counters). One statement however many rows, the rows as one JSON parameter: the
    kit's one way of writing many rows (a binding per column costs the client microseconds a
    row in the driver's array encoder); on the kit's own statement path
    (`passhub_shared.storage.driver`)."""
    batch = rows if isinstance(rows, list) else list(rows)
    if not batch:
        return
    sql = _upsert_sql(table, tuple(batch[0]), tuple(add))
    await driver.execute(conn, sql, rows_json(batch))
