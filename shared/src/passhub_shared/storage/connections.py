"""A service's transactions: asyncpg connections and transactions, SQLAlchemy lent when asked.

`Runtime.transaction()` is where every command of a service runs. Through SQLAlchemy its
transaction cost the client more than the command itself: the pool's checkout and return,
`begin` and `commit`, each through a greenlet (about 580 µs of a command's 1 ms). Here the
connection comes from a pool of asyncpg connections and the transaction is asyncpg's (`BEGIN`,
`COMMIT`, nothing else: no reset query when the connection goes back). The kit's own statements
(`passhub_shared.storage.driver`) run on that connection directly.

What a transaction yields is still an SQLAlchemy `AsyncConnection` (`Transaction`), so a
service's queries in SQLAlchemy Core work as before: at the first of them an SQLAlchemy
connection is lent on the same asyncpg connection, inside the same transaction, and given back
at the end. Each pooled connection keeps its SQLAlchemy adapter (its prepared statements,
codecs) from one lending to the next. A database error comes back as the `DBAPIError`
SQLAlchemy raises for it, and a lost connection is closed, so the pool opens a new one.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from typing import Any, NoReturn

import asyncpg
import orjson
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncTransaction,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, Pool
from sqlalchemy.pool.base import _ConnectionRecord

#: what a transaction sends besides its statements, named in its errors
_BEGIN, _COMMIT = "BEGIN", "COMMIT"


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


class PooledConnection(asyncpg.Connection):
    """An asyncpg connection of `Connections`, with the SQLAlchemy pool entry lent on it."""

    __slots__ = ("_passhub_entry",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._passhub_entry: ConnectionPoolEntry | None = None


async def _set_json_codecs(conn: asyncpg.Connection) -> None:
    """json and jsonb as SQLAlchemy's asyncpg dialect sets them up (text in, parsed out), so a
    row reads the same whichever of the two runs the statement."""
    await conn.set_type_codec(
        "json", encoder=str.encode, decoder=orjson.loads, schema="pg_catalog", format="binary"
    )
    await conn.set_type_codec(
        "jsonb",
        encoder=lambda text: b"\x01" + text.encode(),
        decoder=lambda data: orjson.loads(data[1:]),
        schema="pg_catalog",
        format="binary",
    )


class _Lending(Pool):
    """SQLAlchemy's side of a lent connection: its pool entry is the asyncpg connection the
    transaction holds, kept on that connection for the next lending. Opening and closing
    connections is `Connections`' business; this pool only closes what has failed."""

    _is_asyncio = True

    def __init__(self, creator: Callable[[], Any], **kw: Any) -> None:
        kw.pop("pool_size", None)
        kw.pop("max_overflow", None)
        kw["reset_on_return"] = None  # the transaction's end is the block's
        super().__init__(creator, **kw)
        #: the asyncpg connection the next checkout is for (set just before it, no await between)
        self.lending: PooledConnection | None = None
        #: the asyncpg connection the creator is to adapt
        self.adapting: PooledConnection | None = None
        #: called when a lent connection is found lost
        self.on_lost: Callable[[], None] = lambda: None

    def _do_get(self) -> ConnectionPoolEntry:
        conn, self.lending = self.lending, None
        assert conn is not None, "a connection is lent only by Transaction"
        self.adapting = conn
        entry = conn._passhub_entry
        if entry is None or entry.dbapi_connection is None:
            entry = _ConnectionRecord(self)
            conn._passhub_entry = entry
        return entry

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        pass

    def _close_connection(self, connection: Any, *, terminate: bool = False) -> None:
        if terminate:  # invalidated: `Connections` opens another
            connection.driver_connection.terminate()

    def _invalidate(self, connection: Any, exception: Any = None, _checkin: bool = True) -> None:
        # the failed connection, and the idle ones of `Connections` (not this pool's)
        if _checkin and getattr(connection, "is_valid", False):
            connection.invalidate(exception)
        self.on_lost()

    def recreate(self) -> _Lending:
        return self

    def dispose(self) -> None:
        pass

    def status(self) -> str:
        return "connections lent on those of passhub_shared.storage.connections.Connections"


class Connections:
    """A service's pool of asyncpg connections (opened as needed), and the SQLAlchemy engine
    that lends connections on it."""

    def __init__(self, database_url: str, *, max_size: int = 20) -> None:
        url = make_url(database_url)
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.max_size = max_size
        self._idle: deque[PooledConnection] = deque()
        self._slots: asyncio.Semaphore | None = None
        self._closing = False
        self.lender: AsyncEngine = create_async_engine(
            url,
            poolclass=_Lending,
            async_creator=self._adapted,
            json_serializer=_json_dumps,
            json_deserializer=orjson.loads,
        )
        self.dialect: Dialect = self.lender.sync_engine.dialect
        self._lending: _Lending = self.lender.sync_engine.pool  # type: ignore[assignment]
        self._lending.on_lost = self._discard_idle

    def _adapted(self) -> Awaitable[PooledConnection]:
        conn = self._lending.adapting
        assert conn is not None

        async def given() -> PooledConnection:
            return conn

        return given()

    async def acquire(self, *, new: bool = False) -> PooledConnection:
        """An idle connection (the most recently used, its caches warm), or a new one (always,
        if `new`); at most `max_size` at once, the others wait."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_size)
        await self._slots.acquire()
        try:
            while self._idle and not new:
                conn = self._idle.pop()
                if not conn.is_closed():
                    return conn
            conn = await asyncpg.connect(self.dsn, connection_class=PooledConnection)
            try:
                await _set_json_codecs(conn)
            except BaseException:
                conn.terminate()
                raise
            return conn
        except BaseException:
            self._slots.release()
            raise

    def release(self, conn: PooledConnection) -> None:
        """Back to the idle ones, as it is (a transaction's end leaves no session state:
        `SET LOCAL` and transaction-level advisory locks end with it); one still in a
        transaction, or lost, is closed."""
        if conn.is_closed():
            pass
        elif conn.is_in_transaction() or self._closing:
            conn.terminate()
        else:
            self._idle.append(conn)
        if self._slots is not None:
            self._slots.release()

    def transaction(self) -> _Block:
        """A transaction, committed at the end of the `async with` block, rolled back if the
        block raises."""
        return _Block(self)

    def translated(
        self, conn: asyncpg.Connection | None, sql: str, args: Sequence[Any], error: Exception
    ) -> Exception:
        """`error` as SQLAlchemy raises it for the same statement (`IntegrityError`,
        `OperationalError`, ...), `connection_invalidated` when the connection is lost (and
        then closed, with the idle ones, so the pool replaces them)."""
        dbapi = self.dialect.loaded_dbapi
        try:
            if isinstance(error, dbapi.Error):
                raise error
            if not isinstance(error, asyncpg.PostgresError | asyncpg.InterfaceError):
                # unreachable (refused, timed out, the protocol broken by the server's end):
                # what a lost database is to a service
                raise dbapi.OperationalError(str(error) or type(error).__name__, error)
            _raise_translated(dbapi, error)
        except Exception as dbapi_error:
            lost = (
                conn is None
                or conn.is_closed()
                or _ends_the_session(error)
                or self.dialect.is_disconnect(dbapi_error, None, None)  # type: ignore[arg-type]
            )
            if lost:
                if conn is not None and not conn.is_closed():
                    conn.terminate()
                self._discard_idle()
            return sa_exc.DBAPIError.instance(
                sql,
                args,
                dbapi_error,
                dbapi.Error,
                connection_invalidated=lost,
                dialect=self.dialect,
            )
        return error  # pragma: no cover (`_raise_translated` always raises)

    def _discard_idle(self) -> None:
        """A connection was lost: the idle ones, as old, may be too (a restarted server, a
        network fault), so they are closed rather than handed out to fail in turn."""
        while self._idle:
            self._idle.pop().terminate()

    async def close(self) -> None:
        """Close the idle connections (those in use close as they come back)."""
        while self._idle:
            conn = self._idle.pop()
            try:
                await asyncio.wait_for(conn.close(), timeout=5)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                conn.terminate()
        self._closing = True
        await self.lender.dispose()


class _Block:
    """`Connections.transaction()`: a connection for the block, `BEGIN` on entry, `COMMIT` at
    its end or `ROLLBACK` if it raises, the connection back to the pool in any case."""

    __slots__ = ("_conn", "_connections", "_driver")

    def __init__(self, connections: Connections) -> None:
        self._connections = connections
        self._driver: PooledConnection | None = None
        self._conn: Transaction | None = None

    async def __aenter__(self) -> Transaction:
        """A connection and `BEGIN`. An idle connection the server has ended meanwhile (its
        end not yet seen) fails its `BEGIN`: it is closed, with the other idle ones, and the
        transaction begins on a new connection, which nothing had been sent to yet."""
        connections = self._connections
        for new in (False, True):
            try:
                driver = await connections.acquire(new=new)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                raise connections.translated(None, "connect", (), error) from error
            conn = Transaction(connections, driver)
            try:
                await conn.begin_block()
            except _DRIVER_ERRORS as error:
                translated = conn.translated(_BEGIN, (), error)  # closes a lost connection
                connections.release(driver)
                lost = getattr(translated, "connection_invalidated", False)
                if new or not lost:
                    raise translated from error
                continue
            except BaseException:
                connections.release(driver)
                raise
            self._driver, self._conn = driver, conn
            return conn
        raise AssertionError("unreachable")  # pragma: no cover

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        driver, conn = self._driver, self._conn
        assert driver is not None and conn is not None
        self._driver = self._conn = None
        try:
            await conn.end(commit=kind is None)
        finally:
            self._connections.release(driver)


#: what asyncpg raises for a statement: the server's error, the client's, the socket's
_DRIVER_ERRORS = (
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
)

#: SQLSTATEs of a session the server has ended (its FATAL may arrive before the socket closes):
#: operator intervention (admin or crash shutdown, cannot connect now)
_SESSION_ENDED = frozenset({"57P01", "57P02", "57P03"})


def _ends_the_session(error: Exception) -> bool:
    """The connection is lost, whether or not asyncpg has seen its socket close yet."""
    if isinstance(
        error, OSError | asyncpg.ConnectionDoesNotExistError | asyncpg.InternalClientError
    ):
        return True  # the last: a FATAL from the server left the protocol mid-operation
    sqlstate = getattr(error, "sqlstate", None) or ""
    return sqlstate.startswith("08") or sqlstate in _SESSION_ENDED


def _raise_translated(dbapi: Any, error: Exception) -> NoReturn:
    """Raise `error` as the DBAPI error SQLAlchemy's asyncpg adapter makes of it."""
    from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

    AsyncAdapt_asyncpg_connection._handle_exception_no_connection(dbapi, error)


class Transaction(AsyncConnection):
    """An `AsyncConnection` in a transaction of an asyncpg connection (`Connections`).

    `driver` is the asyncpg connection (the kit's statements go there). SQLAlchemy's methods
    (`execute`, `scalar`, `get_raw_connection`, ...) lend a SQLAlchemy connection on it at the
    first call. The transaction is the block's: `commit`, `rollback` and `begin` are refused.
    """

    __slots__ = ("_block", "_ended", "_info", "_marker", "_raw", "connections", "driver")

    def __init__(self, connections: Connections, driver: PooledConnection) -> None:
        super().__init__(connections.lender)
        self.connections = connections
        #: the asyncpg connection
        self.driver: asyncpg.Connection = driver
        self._raw = driver
        self._block: Any = None
        self._info: dict[Any, Any] = {}
        self._marker: AsyncTransaction | None = None
        self._ended = False

    # -- lending ------------------------------------------------------------------------

    async def begin_block(self) -> None:
        """`BEGIN` (asyncpg's transaction: a statement of SQLAlchemy's that begins one of its
        own, as its first connection's set-up does, gets a savepoint inside it)."""
        self._block = self.driver.transaction()
        await self._block.start()

    async def _lend(self) -> None:
        if self._ended:
            raise sa_exc.ResourceClosedError("this transaction has ended")
        if self.sync_connection is not None:
            return
        self.connections._lending.lending = self._raw
        # check out from `_Lending` (no await before it reads `lending`)
        await super().start()
        entry = self._raw._passhub_entry
        assert entry is not None
        adapter: Any = entry.dbapi_connection
        # the adapter's transaction is the one the block began: it sends no BEGIN of its own
        adapter._transaction = self._block

    async def _give_back(self) -> None:
        sync = self.sync_connection
        if sync is None or sync.closed:
            return
        entry = self._raw._passhub_entry
        if entry is not None and entry.dbapi_connection is not None:
            adapter: Any = entry.dbapi_connection
            adapter._transaction = None  # SQLAlchemy's close rolls back nothing: the block ends it
        with suppress(Exception):  # a lost connection: its error was raised already
            await super().close()

    async def end(self, *, commit: bool) -> None:
        """Commit (or roll back) and give back what was lent."""
        if self._ended:
            return
        self._ended = True
        await self._give_back()
        if self._raw.is_closed():
            if commit:
                error = asyncpg.ConnectionDoesNotExistError("connection is closed")
                raise self.translated(_COMMIT, (), error)
            return
        if commit:
            try:
                await self._block.commit()
            except _DRIVER_ERRORS as error:
                raise self.translated(_COMMIT, (), error) from error
        else:
            try:
                await self._block.rollback()
            except Exception:  # the connection is lost: the pool replaces it
                self._raw.terminate()

    def translated(self, sql: str, args: Sequence[Any], error: Exception) -> Exception:
        return self.connections.translated(self._raw, sql, args, error)

    # -- what a service's code asks of an AsyncConnection ---------------------------------

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        await self._lend()
        return await super().execute(*args, **kwargs)

    async def exec_driver_sql(self, *args: Any, **kwargs: Any) -> Any:
        await self._lend()
        return await super().exec_driver_sql(*args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        await self._lend()
        return await super().scalar(*args, **kwargs)

    async def scalars(self, *args: Any, **kwargs: Any) -> Any:
        await self._lend()
        return await super().scalars(*args, **kwargs)

    async def run_sync(self, *args: Any, **kwargs: Any) -> Any:
        await self._lend()
        return await super().run_sync(*args, **kwargs)

    async def get_raw_connection(self) -> Any:
        await self._lend()
        return await super().get_raw_connection()

    async def invalidate(self, exception: BaseException | None = None) -> None:
        if self.sync_connection is not None:
            await super().invalidate(exception)
        self._raw.terminate()

    async def execution_options(self, **opt: Any) -> Any:
        await self._lend()
        return await super().execution_options(**opt)

    def begin(self) -> NoReturn:
        raise sa_exc.InvalidRequestError("a kit transaction begins and ends with its block")

    def begin_nested(self) -> AsyncTransaction:
        if self.sync_connection is None:
            raise sa_exc.InvalidRequestError(
                "a savepoint needs a statement first (the transaction's connection is lent then)"
            )
        return super().begin_nested()

    async def commit(self) -> NoReturn:
        raise sa_exc.InvalidRequestError("a kit transaction commits at the end of its block")

    async def rollback(self) -> NoReturn:
        raise sa_exc.InvalidRequestError("a kit transaction rolls back by raising")

    async def close(self) -> None:
        await self._give_back()

    def in_transaction(self) -> bool:
        return not self._ended

    def get_transaction(self) -> AsyncTransaction | None:
        """The transaction, for identity (a cache living as long as it); ending it is the
        block's."""
        if self._ended:
            return None
        if self._marker is None:
            self._marker = AsyncTransaction(self)
        return self._marker

    @property
    def info(self) -> dict[Any, Any]:
        return self._info

    @property
    def closed(self) -> bool:
        return self._ended

    @property
    def invalidated(self) -> bool:
        return bool(self._raw.is_closed())

    @property
    def dialect(self) -> Dialect:
        return self.connections.dialect

    @dialect.setter
    def dialect(self, attr: Dialect) -> None:
        raise AttributeError("the dialect is the engine's")


__all__ = ["Connections", "Transaction"]
