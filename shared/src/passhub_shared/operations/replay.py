"""Rebuild a service's projections from its own event log.

`rebuild` runs in one transaction that first takes `EXCLUSIVE` on `events` (appends and
consumers wait; reads of the log go on) and `ACCESS EXCLUSIVE` on the projection tables,
digests them (while the log is being read), empties them before the first row is written,
re-applies every event in log order, and digests them again. With `commit=False` the
transaction is rolled back, so it is a check that the live tables equal what the log says, and
changes nothing.

A projection that offers a `Rebuild` is folded in memory over the whole log and writes its final
rows once at the end, into tables whose indexes are dropped for the load and built after it (a
sorted build, much cheaper than inserting every row into every index); the others are applied
batch by batch as the log streams past. A fold that grows past `fold_limit` entries is written
there and then, and its projection goes on with `apply` from those rows, so memory stays bounded
however long the log.

The log is read on a second connection, in a read-only transaction begun after the lock is
held (so it sees exactly the locked log), one page ahead of the projections: PostgreSQL reads
and sends the next page while this process folds the current one.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from passhub_shared.messages.events import Recorded
from passhub_shared.personaldata.keys import DataKey
from passhub_shared.storage.projections import Projection, Rebuild, wanted_by
from passhub_shared.storage.store import EventStore

#: events per batch handed to the projections: large, so that a projection folding a batch in
#: memory writes each of its rows a few times per replay rather than once per event
DEFAULT_BATCH_SIZE = 20_000
#: entries a projection's in-memory fold may hold before it is written and left for `apply`
#: (200 to 500 bytes each in the attendance service: up to about 500 MB per projection)
DEFAULT_FOLD_LIMIT = 1_000_000


@dataclass
class ReplayReport:
    events: int
    seconds: float
    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)
    committed: bool = True
    #: seconds per phase: `digest before` (beside the reading), `read and apply` (the log
    #: streamed through, with `apply` and folds), `write folds`, `digest after`
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def identical(self) -> bool:
        return self.before == self.after

    @property
    def differing_tables(self) -> list[str]:
        return sorted(t for t in self.after if self.before.get(t) != self.after[t])

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def projection_tables(projections: Sequence[Projection]) -> list[Table]:
    seen: dict[str, Table] = {}
    for projection in projections:
        for table in projection.tables:
            seen[table.name] = table
    return list(seen.values())


async def table_digest(conn: AsyncConnection, table: Table) -> str:
    """Order-independent digest of every row of `table`: the row count and the sum of a 64-bit
    hash of each row's text (PostgreSQL's own `hashtextextended`: a third of the time of md5,
    and the digest guards against drift, not against an adversary). A sum needs no sort, so it
    costs one scan; any row added, removed or changed changes it, barring a 1-in-2^64
    coincidence."""
    row = await conn.execute(
        text(
            f'SELECT count(*), coalesce(sum(hashtextextended(t::text, 0)), 0) FROM "{table.name}" t'
        )
    )
    count, digest = row.one()
    return f"{count}:{digest}"


async def digests(conn: AsyncConnection, tables: Sequence[Table]) -> dict[str, str]:
    return {t.name: await table_digest(conn, t) for t in tables}


async def rebuild(
    engine: AsyncEngine,
    store: EventStore,
    *,
    commit: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
    fold_limit: int = DEFAULT_FOLD_LIMIT,
    progress: Callable[[int], None] | None = None,
    total: Callable[[int], None] | None = None,
    prepare: Callable[[AsyncConnection], Awaitable[None]] | None = None,
) -> ReplayReport:
    """Rebuild (or, with `commit=False`, check) the projections from the log.

    `prepare`, when given, runs in the replay's transaction once the locks are held and before
    the log is read: an erasure deletes keys there, so that the rebuilt tables already show
    the erased people as placeholders and nothing can append in between."""
    tables = projection_tables(store.projections)
    started = time.perf_counter()
    count = 0
    names = ", ".join(f'"{t.name}"' for t in tables)
    async with engine.connect() as conn:
        transaction = await conn.begin()
        digesting: asyncio.Task[tuple[dict[str, str], float]] | None = None
        try:
            await conn.execute(text("LOCK TABLE events IN EXCLUSIVE MODE"))
            if tables:
                # At once, as a TRUNCATE would: a transaction that read or wrote a projection
                # table and then waited for `events` would deadlock with a lock taken later.
                await conn.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))
            if prepare is not None:
                await prepare(conn)
            keys = None
            if store.privacy is not None:
                # the keys as this transaction sees them (an erasure's deletions included),
                # for the reader, whose own snapshot would not see them
                keys = await store.privacy.keys.snapshot(conn)
            if total is not None:
                total(await store.count(conn))
            digesting = asyncio.create_task(_timed_digests(conn, tables))
            before: dict[str, str] = {}
            phases: dict[str, float] = {}

            async def empty() -> None:
                nonlocal before
                before, phases["digest before"] = await digesting
                if tables:
                    await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))

            folds = _Folds(store.projections, fold_limit, empty)
            mark = time.perf_counter()
            with _paused_gc():
                async with _ReadAhead(engine, store, batch_size, keys) as batches:
                    while (batch := await batches.get()) is not None:
                        await folds.take(conn, batch)
                        count += len(batch)
                        if progress is not None:
                            progress(len(batch))
                mark = _lap(phases, "read and apply", mark)
                await folds.write(conn)
                mark = _lap(phases, "write folds", mark)
            after = await digests(conn, tables)
            _lap(phases, "digest after", mark)
        except BaseException:
            if digesting is not None:
                with suppress(BaseException):
                    await digesting  # a statement of its own must end before the rollback
            await transaction.rollback()
            raise
        if commit:
            await transaction.commit()
        else:
            await transaction.rollback()
    return ReplayReport(count, time.perf_counter() - started, before, after, commit, phases)


def _lap(phases: dict[str, float], name: str, since: float) -> float:
    now = time.perf_counter()
    phases[name] = now - since
    return now


async def _timed_digests(
    conn: AsyncConnection, tables: Sequence[Table]
) -> tuple[dict[str, str], float]:
    """The tables' digests as they stand, and the seconds they took. Run beside the reading of
    the log, on the replay's own connection, which nothing else uses until the first row is
    written (`_Folds` awaits this first)."""
    started = time.perf_counter()
    return await digests(conn, tables), time.perf_counter() - started


class _Folds:
    """Hands each batch to every projection: into its `Rebuild` while it has one within the
    limit, else to `apply`. `empty` (digest, then truncate the tables) runs once, before the
    first row is written: when every projection folds, that is after the whole log is read."""

    def __init__(
        self, projections: Sequence[Projection], limit: int, empty: Callable[[], Awaitable[None]]
    ) -> None:
        self._projections = projections
        self._limit = limit
        self._empty: Callable[[], Awaitable[None]] | None = empty
        self._folds: dict[int, Rebuild] = {}
        for i, projection in enumerate(projections):
            if (fold := projection.rebuild()) is not None:
                self._folds[i] = fold

    async def _before_writing(self) -> None:
        if self._empty is not None:
            empty, self._empty = self._empty, None
            await empty()

    async def take(self, conn: AsyncConnection, batch: Sequence[Recorded]) -> None:
        types = {e.type for e in batch}
        for i, projection in enumerate(self._projections):
            wanted = wanted_by(projection, batch, types)
            if not wanted:
                continue
            fold = self._folds.get(i)
            if fold is None:
                await self._before_writing()
                await projection.apply(conn, wanted)
                continue
            fold.fold(wanted)
            if fold.size > self._limit:
                await self._write(conn, i)

    async def write(self, conn: AsyncConnection) -> None:
        """Write what is still folded (and empty the tables, if nothing was written yet)."""
        await self._before_writing()
        for i in list(self._folds):
            await self._write(conn, i)

    async def _write(self, conn: AsyncConnection, i: int) -> None:
        await self._before_writing()
        fold = self._folds.pop(i)
        async with _indexes_built_after(conn, self._projections[i].tables):
            await fold.write(conn)


@asynccontextmanager
async def _indexes_built_after(
    conn: AsyncConnection, tables: Sequence[Table]
) -> AsyncIterator[None]:
    """Drop the indexes (primary keys and unique constraints included) of empty `tables`, and
    create them again, from their definitions in the catalogue, once the block has loaded them.
    A table that another table's foreign key refers to keeps its indexes. All of it is in the
    replay's transaction: a failure rolls the drop back too."""
    again: list[str] = []
    for table in tables:
        name = _quoted(table.name)
        referenced = await conn.scalar(
            text("SELECT count(*) FROM pg_constraint WHERE confrelid = CAST(:t AS regclass)"),
            {"t": name},
        )
        if referenced:
            continue
        constraints = (
            await conn.execute(
                text(
                    "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint"
                    " WHERE conrelid = CAST(:t AS regclass) AND contype IN ('p', 'u')"
                ),
                {"t": name},
            )
        ).all()
        indexes = (
            await conn.execute(
                text(
                    "SELECT CAST(indexrelid AS regclass) AS index,"
                    " pg_get_indexdef(indexrelid) AS definition FROM pg_index i"
                    " WHERE indrelid = CAST(:t AS regclass) AND NOT EXISTS"
                    " (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
                ),
                {"t": name},
            )
        ).all()
        for c in constraints:
            await conn.exec_driver_sql(f"ALTER TABLE {name} DROP CONSTRAINT {_quoted(c.conname)}")
            again.append(f"ALTER TABLE {name} ADD CONSTRAINT {_quoted(c.conname)} {c.definition}")
        for index in indexes:
            await conn.exec_driver_sql(f"DROP INDEX {index.index}")
            again.append(index.definition)
    yield
    for statement in again:
        await conn.exec_driver_sql(statement)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextmanager
def _paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while the log streams through: a replay allocates
    millions of short-lived, acyclic objects, and the collector's passes over them cost a third
    of its time. Reference counting frees them as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _ReadAhead:
    """The log in batches from a reader task, at most one batch ahead; `None` ends it. A
    reader failure surfaces from `get`; leaving the block stops the reader."""

    def __init__(
        self,
        engine: AsyncEngine,
        store: EventStore,
        batch_size: int,
        keys: dict[str, DataKey] | None = None,
    ) -> None:
        self._engine = engine
        self._store = store
        self._batch_size = batch_size
        self._keys = keys
        self._queue: asyncio.Queue[list[Recorded] | None] = asyncio.Queue(maxsize=1)
        self._task: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        async with self._engine.connect() as reader:
            driver = (await reader.get_raw_connection()).driver_connection
            assert driver is not None
            async with driver.transaction(isolation="repeatable_read", readonly=True):
                pages = (
                    self._store.scan(driver, self._batch_size)
                    if self._keys is None
                    else self._store.scan(driver, self._batch_size, self._keys)
                )
                async for page in pages:
                    await self._queue.put(page)
        await self._queue.put(None)

    async def get(self) -> list[Recorded] | None:
        assert self._task is not None
        getter = asyncio.ensure_future(self._queue.get())
        await asyncio.wait({getter, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if getter.done():
            return getter.result()
        getter.cancel()
        self._task.result()  # the reader failed: raise its error
        return await self._queue.get()  # it finished; what it queued last is still there

    async def __aenter__(self) -> _ReadAhead:
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        if not self._task.done():
            self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        except Exception:
            if exc[0] is None:
                raise
