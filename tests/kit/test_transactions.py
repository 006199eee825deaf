"""A service's transaction (`Runtime.transaction`): asyncpg's, with SQLAlchemy lent on it.

The kit's statements and a service's SQLAlchemy Core statements share one transaction on one
connection; a connection lost in a transaction is a `DBAPIError` marked invalidated, and the
next transaction works; one lost while idle is replaced before anything is sent on it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, InvalidRequestError

from passhub_shared.operations.service import Runtime
from passhub_shared.storage.connections import Transaction
from passhub_shared.storage.decider import handle
from tests.kit import toy
from tests.support import service_settings


@pytest.fixture
async def rt(database_url: str, nats_url: str) -> AsyncIterator[Runtime]:
    runtime = Runtime(toy.publisher, service_settings(database_url, nats_url))
    await runtime.migrate()
    yield runtime
    await runtime.connections.close()
    await runtime.engine.dispose()


async def _counts(rt: Runtime) -> tuple[int, int]:
    async with rt.engine.connect() as conn:
        events = (await conn.execute(text("SELECT count(*) FROM events"))).scalar_one()
        totals = (await conn.execute(text("SELECT count(*) FROM toy_totals"))).scalar_one()
    return events, totals


async def test_the_kits_statements_and_sqlalchemys_share_one_transaction(rt: Runtime) -> None:
    async with rt.transaction() as conn:
        assert isinstance(conn, Transaction)
        await handle(conn, rt.store, toy.counter, "c", toy.Increment("c", 2))
        backend = await conn.driver.fetchval("SELECT pg_backend_pid()")
        seen = (await conn.execute(text("SELECT total, pg_backend_pid() FROM toy_totals"))).one()
        assert (await conn.get_raw_connection()).driver_connection is conn.driver
    assert tuple(seen) == (2, backend), "SQLAlchemy sees the uncommitted row, on the same backend"
    assert await _counts(rt) == (1, 1)

    with pytest.raises(ZeroDivisionError):
        async with rt.transaction() as conn:
            await handle(conn, rt.store, toy.counter, "c", toy.Increment("c", 3))
            await conn.execute(text("INSERT INTO toy_totals VALUES ('d', 1, 1)"))
            1 / 0  # noqa: B018
    assert await _counts(rt) == (1, 1), "both kinds of statement rolled back"


async def test_a_failed_statement_rolls_back_the_lot_and_is_sqlalchemys_error(rt: Runtime) -> None:
    async with rt.transaction() as conn:
        await conn.execute(text("INSERT INTO toy_totals VALUES ('d', 1, 1)"))
    with pytest.raises(IntegrityError):
        async with rt.transaction() as conn:
            await handle(conn, rt.store, toy.counter, "c", toy.Increment("c", 3))
            await conn.execute(text("INSERT INTO toy_totals VALUES ('d', 1, 1)"))
    assert await _counts(rt) == (0, 1)
    async with rt.transaction() as conn:  # the connection went back clean
        await handle(conn, rt.store, toy.counter, "c", toy.Increment("c", 3))
    assert await _counts(rt) == (1, 2)


async def test_the_transaction_is_the_blocks(rt: Runtime) -> None:
    async with rt.transaction() as conn:
        assert conn.in_transaction()
        marker = conn.get_transaction()
        assert marker is not None and conn.get_transaction() is marker
        conn.info["k"] = 1
        with pytest.raises(InvalidRequestError):
            await conn.commit()
        with pytest.raises(InvalidRequestError):
            conn.begin()
    async with rt.transaction() as other:
        assert other.get_transaction() is not marker
        assert "k" not in other.info, "what a transaction keeps in info lives as long as it"


async def _kill(rt: Runtime, backend: int) -> None:
    async with rt.engine.connect() as admin:
        await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})


@pytest.mark.parametrize("statement", ["the kit's", "SQLAlchemy's"])
async def test_a_connection_lost_in_a_transaction_is_an_invalidated_dbapi_error(
    rt: Runtime, statement: str
) -> None:
    with pytest.raises(DBAPIError) as lost:
        async with rt.transaction() as conn:
            if statement == "SQLAlchemy's":
                await conn.execute(text("SELECT 1"))  # lent before the connection is lost
            await _kill(rt, await conn.driver.fetchval("SELECT pg_backend_pid()"))
            if statement == "SQLAlchemy's":
                await conn.execute(text("SELECT count(*) FROM toy_totals"))
            else:
                await handle(conn, rt.store, toy.counter, "c", toy.Increment("c", 1))
    assert lost.value.connection_invalidated
    async with rt.transaction() as conn:
        await handle(conn, rt.store, toy.counter, "c", toy.Increment("c", 1))
        await conn.execute(text("SELECT 1"))
    assert await _counts(rt) == (1, 1)


async def test_idle_connections_the_server_ended_are_replaced_before_a_transaction_begins(
    rt: Runtime,
) -> None:
    async def one() -> None:
        async with rt.transaction() as conn:
            await handle(conn, rt.store, toy.counter, "c", toy.Increment("c", 1))
            await conn.execute(text("SELECT 1"))

    for _ in range(3):
        async with rt.transaction() as first, rt.transaction() as second:  # two idle ones after
            backends = [await c.driver.fetchval("SELECT pg_backend_pid()") for c in (first, second)]
        for backend in backends:
            await _kill(rt, backend)
        for _ in range(3):
            await one()  # nothing had been sent on them: BEGIN is tried again on a new one
    assert await _counts(rt) == (9, 1)
