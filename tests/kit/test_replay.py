"""`passhub replay`: projections rebuilt from the log equal the live ones, row for row."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_shared.messages.events import Recorded, new_event_id, utcnow
from passhub_shared.operations.replay import rebuild
from passhub_shared.operations.service import Runtime
from passhub_shared.storage.projections import Projection, Rebuild, copy_rows
from passhub_shared.storage.schema import events as events_table
from passhub_shared.storage.store import EventStore
from tests.kit import toy

N_EVENTS = 100_000


async def test_replay_of_100k_events_equals_the_live_projection(publisher: Runtime) -> None:
    rng = random.Random(7)
    versions: dict[str, int] = {}
    batch: list[toy.Counted] = []
    # build a live projection the normal way: append through the store, batch by stream
    async with publisher.transaction() as conn:
        for _ in range(N_EVENTS):
            counter_id = f"c-{rng.randrange(2000)}"
            batch.append(toy.Counted(counter_id=counter_id, amount=rng.randrange(1, 50)))
        by_stream: dict[str, list[toy.Counted]] = {}
        for e in batch:
            by_stream.setdefault(e.counter_id, []).append(e)
        for stream_id, stream_events in by_stream.items():
            await publisher.store.append(conn, stream_id, versions.get(stream_id, 0), stream_events)
        await conn.execute(text("DELETE FROM outbox"))  # not under test here
    report = await rebuild(publisher.engine, publisher.store, commit=False)
    assert report.events == N_EVENTS
    assert report.identical, report.differing_tables
    assert report.before["toy_totals"].startswith("2000:")


async def test_replay_notices_a_projection_that_drifted_and_repairs_it(publisher: Runtime) -> None:
    async with publisher.transaction() as conn:
        for i in range(10):
            await publisher.store.append(
                conn, f"s-{i}", 0, [toy.Counted(counter_id=f"s-{i}", amount=i + 1)]
            )
        await conn.execute(text("UPDATE toy_totals SET total = total + 1 WHERE counter_id = 's-3'"))
        # an event recorded from another service, applied like any other
        await conn.execute(
            events_table.insert().values(
                id=new_event_id(),
                stream_id="s-3",
                stream_version=1,
                type=toy.Counted.type_name(),
                origin="elsewhere",
                data={"counter_id": "s-3", "amount": 100},
                occurred_at=utcnow(),
            )
        )
    check = await rebuild(publisher.engine, publisher.store, commit=False)
    assert not check.identical and check.differing_tables == ["toy_totals"]
    fixed = await rebuild(publisher.engine, publisher.store, commit=True)
    assert not fixed.identical and fixed.committed
    again = await rebuild(publisher.engine, publisher.store, commit=False)
    assert again.identical
    async with publisher.engine.connect() as conn:
        total = (
            await conn.execute(text("SELECT total FROM toy_totals WHERE counter_id = 's-3'"))
        ).scalar_one()
    assert total == 4 + 100


class _FailsOnThird(toy.TotalsProjection):
    def __init__(self) -> None:
        self.calls = 0

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("projection bug")
        await super().apply(conn, events)


async def test_a_replay_that_fails_midway_changes_nothing(publisher: Runtime) -> None:
    async with publisher.transaction() as conn:
        for i in range(10):
            await publisher.store.append(
                conn, f"f-{i}", 0, [toy.Counted(counter_id=f"f-{i}", amount=i + 1)]
            )
    before = await rebuild(publisher.engine, publisher.store, commit=False, batch_size=3)
    assert before.identical and before.events == 10  # four pages of at most three
    failing = EventStore(publisher.store.service, [_FailsOnThird()])
    with pytest.raises(RuntimeError, match="projection bug"):
        await rebuild(publisher.engine, failing, commit=True, batch_size=3)
    after = await rebuild(publisher.engine, publisher.store, commit=False)
    assert after.identical and after.before == before.before
    assert publisher.engine.pool.checkedout() == 0  # the reader's connection went back too


class _FoldedTotals(toy.TotalsProjection):
    """The toy totals with a `Rebuild`: sums kept in memory over the log, copied once."""

    def __init__(self) -> None:
        self.folds: list[_TotalsFold] = []

    def rebuild(self) -> Rebuild:
        fold = _TotalsFold()
        self.folds.append(fold)
        return fold


class _TotalsFold(Rebuild):
    def __init__(self) -> None:
        self.sums: dict[str, list[int]] = {}
        self.batches = 0
        self.written = 0

    def fold(self, events: Sequence[Recorded]) -> None:
        self.batches += 1
        for e in events:
            entry = self.sums.setdefault(e.data["counter_id"], [0, 0])
            entry[0] += e.data["amount"]
            entry[1] += 1

    @property
    def size(self) -> int:
        return len(self.sums)

    async def write(self, conn: AsyncConnection) -> None:
        self.written += 1
        await copy_rows(conn, toy.totals, [(k, v[0], v[1]) for k, v in self.sums.items()])


async def _counted(publisher: Runtime, counters: int, events: int) -> None:
    async with publisher.transaction() as conn:
        for i in range(events):
            stream = f"k-{i % counters}"
            await publisher.store.append(
                conn, stream, i // counters, [toy.Counted(counter_id=stream, amount=i + 1)]
            )


INDEXES = text(
    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'toy_totals' ORDER BY indexname"
)


async def test_a_folded_rebuild_writes_once_and_equals_the_live_rows(publisher: Runtime) -> None:
    await _counted(publisher, counters=7, events=50)
    async with publisher.engine.connect() as conn:
        await conn.exec_driver_sql("CREATE INDEX toy_totals_by_total ON toy_totals (total)")
        await conn.commit()
        indexes = (await conn.execute(INDEXES)).all()
    folded = _FoldedTotals()
    report = await rebuild(
        publisher.engine, EventStore(publisher.store.service, [folded]), batch_size=8
    )
    assert report.events == 50 and report.identical, report.differing_tables
    (fold,) = folded.folds
    assert fold.batches == 7 and fold.written == 1  # every page folded, written at the end
    async with publisher.engine.connect() as conn:
        # dropped for the load, built again after it: the primary key and the plain index
        assert (await conn.execute(INDEXES)).all() == indexes and len(indexes) == 2
        with pytest.raises(IntegrityError):
            await conn.execute(text("INSERT INTO toy_totals VALUES ('k-1', 1, 1)"))


async def test_a_fold_past_the_limit_is_written_and_replay_goes_on_with_apply(
    publisher: Runtime,
) -> None:
    await _counted(publisher, counters=40, events=200)
    folded = _FoldedTotals()
    report = await rebuild(
        publisher.engine,
        EventStore(publisher.store.service, [folded]),
        batch_size=10,
        fold_limit=25,
    )
    assert report.events == 200 and report.identical, report.differing_tables
    (fold,) = folded.folds
    # pages of 10 events on 40 counters: the third page takes the fold past 25 counters
    assert fold.batches == 3 and fold.written == 1


class _FailingWrite(_TotalsFold):
    async def write(self, conn: AsyncConnection) -> None:
        await super().write(conn)
        raise RuntimeError("write failed after the load")


class _FoldedFailing(_FoldedTotals):
    def rebuild(self) -> Rebuild:
        return _FailingWrite()


async def test_a_rebuild_that_fails_while_writing_leaves_rows_and_indexes_as_they_were(
    publisher: Runtime,
) -> None:
    await _counted(publisher, counters=5, events=20)
    async with publisher.engine.connect() as conn:
        indexes = (await conn.execute(INDEXES)).all()
    before = await rebuild(publisher.engine, publisher.store, commit=False)
    failing = EventStore(publisher.store.service, [_FoldedFailing()])
    with pytest.raises(RuntimeError, match="write failed"):
        await rebuild(publisher.engine, failing, commit=True)
    after = await rebuild(publisher.engine, publisher.store, commit=False)
    assert after.identical and after.before == before.before
    async with publisher.engine.connect() as conn:
        assert (await conn.execute(INDEXES)).all() == indexes
    assert publisher.engine.pool.checkedout() == 0


class _GatedStore(EventStore):
    """The log read as usual, but held after its first page until `go` is set."""

    def __init__(self, service: str, projections: Sequence[Projection]) -> None:
        super().__init__(service, list(projections))
        self.reading = asyncio.Event()
        self.go = asyncio.Event()

    async def scan(self, conn: Any, page_size: int = 20_000) -> AsyncIterator[list[Recorded]]:
        async for page in super().scan(conn, page_size):
            yield page
            self.reading.set()
            await self.go.wait()


async def _waiting_on_a_lock(publisher: Runtime) -> bool:
    async with publisher.engine.connect() as conn:
        waiting = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND query LIKE '%toy_totals%'"
            )
        )
    return bool(waiting)


async def test_a_writer_that_reads_a_projection_during_a_replay_waits_and_nothing_deadlocks(
    publisher: Runtime,
) -> None:
    """While the log is read, a transaction that reads a projection table and then appends
    waits at its read; it does not get in, take a lock and then wait for `events` while the
    replay waits for it."""
    await _counted(publisher, counters=5, events=20)
    store = _GatedStore(publisher.store.service, [_FoldedTotals()])
    replay = asyncio.create_task(rebuild(publisher.engine, store, batch_size=4))
    await asyncio.wait_for(store.reading.wait(), 10)

    async def writer() -> None:
        async with publisher.transaction() as conn:
            await conn.execute(text("SELECT sum(total) FROM toy_totals"))
            await publisher.store.append(conn, "k-0", 4, [toy.Counted(counter_id="k-0", amount=1)])

    writing = asyncio.create_task(writer())
    for _ in range(100):
        if await _waiting_on_a_lock(publisher):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the writer was not held back by the replay")
    assert not writing.done()
    store.go.set()
    report = await asyncio.wait_for(replay, 30)
    await asyncio.wait_for(writing, 30)
    assert report.identical and report.committed
    after = await rebuild(publisher.engine, publisher.store, commit=False)
    assert after.identical and after.events == 21
