"""Rebuild a service's projections from its own event log.

`rebuild` runs in one transaction that first takes `EXCLUSIVE` on `events` (appends and
consumers wait; reads go on), digests every projection table, empties them, re-applies every
event in log order, and digests them again. With `commit=False` the transaction is rolled back,
so it is a check that the live tables equal what the log says, and changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from passhub_shared.projections import Projection, apply_all
from passhub_shared.store import EventStore


@dataclass
class ReplayReport:
    events: int
    seconds: float
    before: dict[str, str] = field(default_factory=dict)
    after: dict[str, str] = field(default_factory=dict)
    committed: bool = True

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
    """Order-independent digest of every row of `table` (md5 over the sorted row texts)."""
    row = await conn.execute(
        text(
            f"SELECT count(*), coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') "
            f'FROM "{table.name}" t'
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
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
    total: Callable[[int], None] | None = None,
) -> ReplayReport:
    tables = projection_tables(store.projections)
    started = time.perf_counter()
    count = 0
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            await conn.execute(text("LOCK TABLE events IN EXCLUSIVE MODE"))
            if total is not None:
                total(await store.count(conn))
            before = await digests(conn, tables)
            if tables:
                names = ", ".join(f'"{t.name}"' for t in tables)
                await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
            async for batch in store.read_all(conn, batch_size=batch_size):
                await apply_all(conn, store.projections, batch)
                count += len(batch)
                if progress is not None:
                    progress(len(batch))
            after = await digests(conn, tables)
        except BaseException:
            await transaction.rollback()
            raise
        if commit:
            await transaction.commit()
        else:
            await transaction.rollback()
    return ReplayReport(count, time.perf_counter() - started, before, after, commit)
