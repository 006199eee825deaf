"""Group commit and `handle_many` against a real PostgreSQL: many commands, one transaction
per batch, one outcome per command."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import text

from passhub_shared.messages.events import Metadata, Recorded
from passhub_shared.operations.service import Runtime
from passhub_shared.storage.batching import GroupCommit
from passhub_shared.storage.decider import Command, handle_many
from passhub_shared.web.errors import Rejected
from tests.kit import toy
from tests.support import service_settings


@pytest.fixture
async def rt(database_url: str, nats_url: str) -> AsyncIterator[Runtime]:
    runtime = Runtime(toy.publisher, service_settings(database_url, nats_url))
    await runtime.migrate()
    yield runtime
    await runtime.engine.dispose()


def increment(counter: str, amount: int, actor: str = "u") -> Command[toy.Increment]:
    return Command(counter, toy.Increment(counter, amount), Metadata(actor=actor))


async def test_handle_many_gives_each_command_its_own_outcome(rt: Runtime) -> None:
    async with rt.transaction() as conn:
        outcomes = await handle_many(
            conn,
            rt.store,
            toy.counter,
            [
                increment("g-1", 2, "a"),
                increment("g-2", -1),  # refused: amount must be positive
                increment("g-1", 3, "b"),  # same stream: decided after the first
                increment("g-3", 4),
            ],
        )
    first, refused, second, third = outcomes
    assert isinstance(refused, Rejected)
    assert not isinstance(first, Rejected) and not isinstance(second, Rejected)
    assert not isinstance(third, Rejected)
    assert [(e.stream_id, e.stream_version, e.actor) for e in first + second + third] == [
        ("g-1", 1, "a"),
        ("g-1", 2, "b"),
        ("g-3", 1, "u"),
    ]
    async with rt.engine.connect() as conn:
        totals = dict((await conn.execute(text("SELECT counter_id, total FROM toy_totals"))).all())
    assert totals == {"g-1": 5, "g-3": 4}


async def test_a_burst_through_group_commit_is_written_in_few_transactions(rt: Runtime) -> None:
    transactions = 0

    async def write(batch: list[Command[toy.Increment]]) -> Sequence[list[Recorded] | Exception]:
        nonlocal transactions
        transactions += 1
        async with rt.transaction() as conn:
            return await handle_many(conn, rt.store, toy.counter, batch)

    group: GroupCommit[Command[toy.Increment], list[Recorded]] = GroupCommit(
        write, max_batch=50, name="burst_test"
    )
    commands = [increment(f"h-{i % 40}", 1 + i % 5) for i in range(400)] + [increment("h-x", 0)]
    results = await asyncio.gather(*(group.submit(c) for c in commands), return_exceptions=True)
    assert isinstance(results[-1], Rejected)
    assert all(isinstance(r, list) and len(r) == 1 for r in results[:-1])
    assert transactions < len(commands) // 10  # batches, not one transaction each
    assert 1 < group.largest_batch <= 50
    labels = {"use_case": "burst_test"}
    assert REGISTRY.get_sample_value("passhub_group_commit_batch_size_count", labels) == (
        transactions
    )
    assert REGISTRY.get_sample_value("passhub_group_commit_batch_size_sum", labels) == len(commands)
    async with rt.engine.connect() as conn:
        total = (await conn.execute(text("SELECT sum(total) FROM toy_totals"))).scalar()
        versions = (
            await conn.execute(
                text("SELECT count(*) FROM events WHERE stream_id LIKE 'h-%' GROUP BY stream_id")
            )
        ).scalars()
    assert total == sum(1 + i % 5 for i in range(400))
    assert set(versions) == {10}


async def test_a_failing_batch_is_written_again_one_request_at_a_time() -> None:
    seen: list[list[int]] = []

    async def write(batch: list[int]) -> list[int | Exception]:
        seen.append(batch)
        if len(batch) > 1:
            raise ConnectionError("lost the database")
        if batch[0] == 13:
            raise ValueError("unlucky")
        return [n * 2 for n in batch]

    group: GroupCommit[int, int] = GroupCommit(write)
    results = await asyncio.gather(
        *(group.submit(n) for n in range(10, 16)), return_exceptions=True
    )
    assert results[:3] == [20, 22, 24] and results[4:] == [28, 30]
    assert isinstance(results[3], ValueError)
    assert any(len(b) > 1 for b in seen)


async def test_requests_with_different_keys_never_share_a_batch() -> None:
    seen: list[list[tuple[str, int]]] = []

    async def write(batch: list[tuple[str, int]]) -> list[int | Exception]:
        seen.append(batch)
        await asyncio.sleep(0)
        return [n for _, n in batch]

    group: GroupCommit[tuple[str, int], int] = GroupCommit(write, key=lambda r: r[0])
    requests = [("a" if i < 5 or i > 8 else "b", i) for i in range(12)]
    assert await asyncio.gather(*(group.submit(r) for r in requests)) == list(range(12))
    assert all(len({k for k, _ in batch}) == 1 for batch in seen)
