"""The event store on a real PostgreSQL: optimistic concurrency, loading, recording."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import text

from passhub_shared.messages.events import Metadata
from passhub_shared.operations.service import Runtime
from passhub_shared.storage.decider import handle
from passhub_shared.storage.store import Append, ConcurrencyConflict
from passhub_shared.web.errors import Rejected
from tests.kit import toy
from tests.support import service_settings


@pytest.fixture
async def store_runtime(database_url: str, nats_url: str):  # type: ignore[no-untyped-def]
    runtime = Runtime(toy.publisher, service_settings(database_url, nats_url))
    await runtime.migrate()
    yield runtime
    await runtime.engine.dispose()


async def test_two_concurrent_appends_at_the_same_version_one_wins(store_runtime: Runtime) -> None:
    rt = store_runtime
    async with rt.transaction() as conn:
        await rt.store.append(conn, "c-1", 0, [toy.Counted(counter_id="c-1", amount=1)])

    first_inserted = asyncio.Event()

    async def first() -> str:
        async with rt.transaction() as conn:
            await rt.store.append(conn, "c-1", 1, [toy.Counted(counter_id="c-1", amount=10)])
            first_inserted.set()
            await asyncio.sleep(0.3)  # the second writer is now waiting on our uncommitted row
        return "ok"

    async def second() -> str:
        await first_inserted.wait()
        try:
            async with rt.transaction() as conn:
                await rt.store.append(conn, "c-1", 1, [toy.Counted(counter_id="c-1", amount=20)])
            return "ok"
        except ConcurrencyConflict:
            return "conflict"

    results = await asyncio.gather(first(), second())
    assert results == ["ok", "conflict"]
    async with rt.transaction() as conn:
        history = await rt.store.load(conn, "c-1")
        totals = (await conn.execute(text("SELECT total, events FROM toy_totals"))).one()
        outbox = (await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one()
    assert [e.stream_version for e in history] == [1, 2]
    assert (totals.total, totals.events) == (11, 2)
    assert outbox == 2, "the loser wrote nothing: no event, no projection row, no outbox row"


async def test_a_stale_version_is_a_conflict_and_changes_nothing(store_runtime: Runtime) -> None:
    rt = store_runtime
    for amount in (1, 2):
        async with rt.transaction() as conn:
            await handle(conn, rt.store, toy.counter, "c-2", toy.Increment("c-2", amount))
    with pytest.raises(ConcurrencyConflict, match="c-2"):
        async with rt.transaction() as conn:
            await rt.store.append(conn, "c-2", 1, [toy.Counted(counter_id="c-2", amount=5)])
    async with rt.transaction() as conn:
        assert [e.decode() for e in await rt.store.load(conn, "c-2")] == [
            toy.Counted(counter_id="c-2", amount=1),
            toy.Counted(counter_id="c-2", amount=2),
        ]


async def test_a_rejected_command_writes_nothing(store_runtime: Runtime) -> None:
    rt = store_runtime
    with pytest.raises(Rejected):
        async with rt.transaction() as conn:
            await handle(conn, rt.store, toy.counter, "c-3", toy.Increment("c-3", -1))
    async with rt.transaction() as conn:
        assert await rt.store.count(conn) == 0


async def test_metadata_is_kept_with_the_events(store_runtime: Runtime) -> None:
    rt = store_runtime
    meta = Metadata(correlation_id="corr", actor="coordinator-1")
    async with rt.transaction() as conn:
        [recorded] = await handle(conn, rt.store, toy.counter, "c-4", toy.Increment("c-4", 1), meta)
    async with rt.transaction() as conn:
        [loaded] = await rt.store.load(conn, "c-4")
    assert loaded.id == recorded.id
    assert loaded.correlation_id == "corr"
    assert loaded.actor == "coordinator-1"
    assert loaded.origin == "kittest"


async def test_recording_a_consumed_event_twice_changes_nothing(store_runtime: Runtime) -> None:
    rt = store_runtime
    async with rt.transaction() as conn:
        [event] = await rt.store.append(conn, "c-5", 0, [toy.Counted(counter_id="c-5", amount=7)])
    foreign = replace(event, origin="elsewhere", position=0)
    async with rt.transaction() as conn:
        # same id as an event already in the log: a redelivery
        assert await rt.store.record(conn, [foreign]) == []
        total = (await conn.execute(text("SELECT total FROM toy_totals"))).scalar_one()
    assert total == 7


async def test_the_same_event_twice_in_one_batch_is_applied_once(store_runtime: Runtime) -> None:
    from passhub_shared.messages.events import Recorded, new_event_id, utcnow

    rt = store_runtime
    event = Recorded(
        id=new_event_id(),
        stream_id="c-6",
        stream_version=1,
        type=toy.Counted.type_name(),
        origin="elsewhere",
        data={"counter_id": "c-6", "amount": 3},
        occurred_at=utcnow(),
    )
    async with rt.transaction() as conn:
        fresh = await rt.store.record(conn, [event, event])
        total = (await conn.execute(text("SELECT total, events FROM toy_totals"))).one()
    assert [e.id for e in fresh] == [event.id]
    assert tuple(total) == (3, 1)


async def test_a_stream_version_is_read_without_loading_the_stream(store_runtime: Runtime) -> None:
    rt = store_runtime
    async with rt.transaction() as conn:
        assert await rt.store.version(conn, "c-7") == 0
        await rt.store.append(conn, "c-7", 0, [toy.Counted(counter_id="c-7", amount=1)] * 3)
        assert await rt.store.version(conn, "c-7") == 3


async def test_a_different_event_at_a_taken_version_is_an_error_not_a_duplicate(
    store_runtime: Runtime,
) -> None:
    from sqlalchemy.exc import IntegrityError

    from passhub_shared.messages.events import Recorded, new_event_id, utcnow

    def counted(amount: int) -> Recorded:
        return Recorded(
            id=new_event_id(),
            stream_id="c-8",
            stream_version=1,
            type=toy.Counted.type_name(),
            origin="elsewhere",
            data={"counter_id": "c-8", "amount": amount},
            occurred_at=utcnow(),
        )

    rt = store_runtime
    async with rt.transaction() as conn:
        await rt.store.record(conn, [counted(1)])
    with pytest.raises(IntegrityError):
        async with rt.transaction() as conn:
            await rt.store.record(conn, [counted(2)])


async def test_append_many_writes_several_streams_in_one_statement(store_runtime: Runtime) -> None:
    rt = store_runtime
    async with rt.transaction() as conn:
        await rt.store.append(conn, "m-2", 0, [toy.Counted(counter_id="m-2", amount=1)])
    async with rt.transaction() as conn:
        recorded = await rt.store.append_many(
            conn,
            [
                Append("m-1", 0, [toy.Counted(counter_id="m-1", amount=2)], Metadata(actor="a")),
                Append(
                    "m-2", 1, [toy.Counted(counter_id="m-2", amount=3)] * 2, Metadata(actor="b")
                ),
                Append("m-3", 0, []),
            ],
        )
    assert [(r.stream_id, r.stream_version, r.actor) for r in recorded] == [
        ("m-1", 1, "a"),
        ("m-2", 2, "b"),
        ("m-2", 3, "b"),
    ]
    assert [r.position for r in recorded] == sorted(r.position for r in recorded)
    async with rt.transaction() as conn:
        streams = await rt.store.load_many(conn, ["m-2", "m-1", "m-3"])
        totals = dict((await conn.execute(text("SELECT counter_id, total FROM toy_totals"))).all())
    assert [e.stream_version for e in streams["m-2"]] == [1, 2, 3]
    assert [e.id for e in streams["m-1"]] == [recorded[0].id]
    assert streams["m-3"] == []
    assert totals == {"m-1": 2, "m-2": 7}


async def test_append_many_is_all_or_nothing_and_names_the_stream_that_moved(
    store_runtime: Runtime,
) -> None:
    rt = store_runtime
    async with rt.transaction() as conn:
        await rt.store.append(conn, "n-2", 0, [toy.Counted(counter_id="n-2", amount=1)])
    with pytest.raises(ConcurrencyConflict) as caught:
        async with rt.transaction() as conn:
            await rt.store.append_many(
                conn,
                [
                    Append("n-1", 0, [toy.Counted(counter_id="n-1", amount=1)]),
                    Append("n-2", 0, [toy.Counted(counter_id="n-2", amount=1)]),  # stale
                ],
            )
    assert caught.value.stream_id == "n-2"
    async with rt.transaction() as conn:
        assert await rt.store.version(conn, "n-1") == 0
        assert await rt.store.version(conn, "n-2") == 1
