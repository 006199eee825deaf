"""PostgreSQL advisory locks, named by strings: the kit's one key function and its statements.

A lock's name (`"relay:attendance"`, `"sessions:room:lt1"`) becomes a 64-bit key through
BLAKE2b, so two names clash only by a 1-in-2^64 chance, and the same name gives the same key in
every process and release. `hold` takes transaction-level locks (released at commit or
rollback), in key order, so two transactions that want the same locks never wait on each other
in a cycle; the relay's session-level lock is `try_session` / `SESSION_UNLOCK`.
"""

from __future__ import annotations

import hashlib

import asyncpg
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_shared.storage import driver


def key(name: str) -> int:
    """The signed 64-bit key PostgreSQL's advisory lock functions take for `name`."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


_XACT = "SELECT pg_advisory_xact_lock($1)"


async def hold(conn: AsyncConnection | asyncpg.Connection, *names: str) -> None:
    """Take the transaction-level locks `names` (waiting for them), in key order."""
    for k in sorted({key(n) for n in names}):
        await driver.execute(conn, _XACT, k)


def hold_sync(conn: Connection, name: str) -> None:
    """`hold` on a synchronous SQLAlchemy connection (Alembic's)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key(name)})


async def try_session(conn: asyncpg.Connection, name: str) -> bool:
    """Take the session-level lock `name` if it is free; True if this session holds it now."""
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key(name)))


async def release_session(conn: asyncpg.Connection, name: str) -> None:
    await conn.execute("SELECT pg_advisory_unlock($1)", key(name))


#: `pg_locks` rows of a granted advisory lock taken with one bigint key ($1): PostgreSQL keeps
#: its high 32 bits in `classid`, its low ones in `objid`, and `objsubid` 1
HELD = """
l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
AND l.classid = (($1::bigint >> 32) & 4294967295)::oid
AND l.objid = ($1::bigint & 4294967295)::oid
"""
