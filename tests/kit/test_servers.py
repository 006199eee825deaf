"""The test servers themselves: PostgreSQL and NATS JetStream answer, and restarts keep data."""

from __future__ import annotations

import asyncpg
import nats
import pytest
from nats.js.api import StorageType

from tests.servers import PostgresHandle, ServerHandle


def _dsn(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def test_postgres_answers_on_a_fresh_database(database_url: str) -> None:
    conn = await asyncpg.connect(_dsn(database_url))
    try:
        assert await conn.fetchval("select 1") == 1
        assert await conn.fetchval("select current_database()") == database_url.rsplit("/", 1)[1]
        tables = await conn.fetchval("select count(*) from pg_tables where schemaname = 'public'")
        assert tables == 0
    finally:
        await conn.close()


async def test_each_test_gets_its_own_database(
    pg_server: PostgresHandle, database_url: str
) -> None:
    other = pg_server.create_database("t_kit_other_db")
    try:
        assert other != database_url
        conn = await asyncpg.connect(_dsn(other))
        try:
            assert await conn.fetchval("select current_database()") == "t_kit_other_db"
        finally:
            await conn.close()
    finally:
        pg_server.drop_database("t_kit_other_db")


async def test_jetstream_stores_and_returns_messages(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        assert await js.streams_info() == []  # nats_url starts every test without streams
        await js.add_stream(name="KIT_ROUNDTRIP", subjects=["kit.roundtrip.>"])
        for i in range(3):
            ack = await js.publish(f"kit.roundtrip.{i}", f"message {i}".encode())
            assert ack.stream == "KIT_ROUNDTRIP"
            assert ack.seq == i + 1

        sub = await js.pull_subscribe("kit.roundtrip.>", durable="kit-reader")
        messages = await sub.fetch(3, timeout=5)
        for msg in messages:
            await msg.ack()
        assert [m.data for m in messages] == [b"message 0", b"message 1", b"message 2"]
        assert [m.subject for m in messages] == [f"kit.roundtrip.{i}" for i in range(3)]
    finally:
        await nc.close()


async def test_nats_restart_keeps_file_stream(nats_server: ServerHandle, nats_url: str) -> None:
    if not nats_server.can_restart:
        pytest.skip(f"NATS from {nats_server.source} cannot be restarted by the tests")
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        assert await js.streams_info() == []  # the previous test's stream is gone
        await js.add_stream(
            name="KIT_DURABLE", subjects=["kit.durable.>"], storage=StorageType.FILE
        )
        for i in range(5):
            await js.publish(f"kit.durable.{i}", f"kept {i}".encode())
    finally:
        await nc.close()

    nats_server.restart()

    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info("KIT_DURABLE")
        assert info.state.messages == 5
        assert (await js.get_msg("KIT_DURABLE", 5)).data == b"kept 4"
    finally:
        await nc.close()


async def test_postgres_restart_keeps_data(pg_server: PostgresHandle, database_url: str) -> None:
    if not pg_server.can_restart:
        pytest.skip(f"PostgreSQL from {pg_server.source} cannot be restarted by the tests")
    conn = await asyncpg.connect(_dsn(database_url))
    try:
        await conn.execute("create table kept (id int primary key, note text)")
        await conn.execute("insert into kept values (1, 'survives a restart')")
    finally:
        await conn.close()

    pg_server.restart()

    conn = await asyncpg.connect(_dsn(database_url))
    try:
        assert await conn.fetchval("select note from kept where id = 1") == "survives a restart"
    finally:
        await conn.close()
