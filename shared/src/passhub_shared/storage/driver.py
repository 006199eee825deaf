"""The kit's own statements, sent on the asyncpg connection under a transaction.

A service's transaction is an SQLAlchemy `AsyncConnection` (its queries are SQLAlchemy Core),
but the statements the kit runs on every command (load a stream, append, a projection's
upsert) are fixed SQL that needs none of SQLAlchemy's compiling, result processing or greenlet
hops: through SQLAlchemy each one cost the client about 70 µs more than on asyncpg itself,
and a command runs three of them. Here they go to the asyncpg connection underneath, inside
the same transaction (begun first if SQLAlchemy has not begun it yet), and a database error
comes back as the `DBAPIError` SQLAlchemy would have raised, so the error handlers see one kind.
A service's own transaction (`connections.Transaction`) is asyncpg's already: its statements go
straight to its connection.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeAlias

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_shared.storage.connections import Transaction

Conn: TypeAlias = "AsyncConnection | asyncpg.Connection"

_KEY = "passhub_driver"


async def driver_of(conn: Conn) -> asyncpg.Connection:
    """The asyncpg connection under `conn`, inside `conn`'s transaction (begun if need be)."""
    if isinstance(conn, Transaction):
        return conn.driver
    if isinstance(conn, asyncpg.Connection):
        return conn
    if not conn.in_transaction():
        await conn.begin()  # what SQLAlchemy's autobegin would do at the first statement
    transaction = conn.get_transaction()
    info = conn.info
    held = info.get(_KEY)
    if held is not None and held[0] is transaction:
        adapter = held[1]
    else:
        adapter = (await conn.get_raw_connection()).dbapi_connection
        info[_KEY] = (transaction, adapter)
    # SQLAlchemy's asyncpg adapter begins its transaction at its first statement
    if adapter._transaction is None:
        try:
            await adapter._start_transaction()
        except Exception as exc:  # the adapter's own error (the connection lost, ...)
            raise await _translated(conn, "BEGIN", (), exc) from exc
    driver: asyncpg.Connection = adapter._connection
    return driver


async def fetch(conn: Conn, sql: str, *args: Any) -> list[asyncpg.Record]:
    driver = await driver_of(conn)
    try:
        return await driver.fetch(sql, *args)
    except (
        OSError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,
    ) as exc:
        raise await _translated(conn, sql, args, exc) from exc


async def execute(conn: Conn, sql: str, *args: Any) -> None:
    driver = await driver_of(conn)
    try:
        await driver.execute(sql, *args)
    except (
        OSError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,
    ) as exc:
        raise await _translated(conn, sql, args, exc) from exc


async def executemany(conn: Conn, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    """`sql` once per row, pipelined (one round trip for the lot)."""
    driver = await driver_of(conn)
    try:
        await driver.executemany(sql, rows)
    except (
        OSError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,
    ) as exc:
        raise await _translated(conn, sql, (), exc) from exc


async def _translated(conn: Conn, sql: str, args: Sequence[Any], exc: Exception) -> Exception:
    """`exc` as SQLAlchemy raises it for the same statement (`IntegrityError`, ...). A lost
    connection is invalidated as SQLAlchemy would: it and every pooled connection as old are
    replaced rather than handed out again."""
    if isinstance(conn, Transaction):
        return conn.translated(sql, args, exc)
    if isinstance(conn, asyncpg.Connection):
        return exc
    held = conn.info.get(_KEY)
    if held is None:
        return exc
    adapter = held[1]
    dialect = conn.dialect
    try:
        if isinstance(exc, dialect.loaded_dbapi.Error):
            raise exc
        adapter._handle_exception(exc)
    except Exception as dbapi_error:
        lost = dialect.is_disconnect(dbapi_error, adapter, None)  # type: ignore[arg-type]
        if lost and not conn.invalidated:
            fairy = await conn.get_raw_connection()
            conn.sync_engine.pool._invalidate(fairy, dbapi_error, _checkin=False)
            await conn.invalidate(dbapi_error)
        return DBAPIError.instance(
            sql,
            args,
            dbapi_error,
            dialect.loaded_dbapi.Error,
            connection_invalidated=lost,
            dialect=dialect,
        )
    return exc  # pragma: no cover (`_handle_exception` always raises)
