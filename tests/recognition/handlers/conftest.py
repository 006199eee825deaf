"""Use cases called directly: a real PostgreSQL database, migrated once for the module, and
each test in a transaction that is rolled back at its end (no HTTP, no NATS, no service
process)."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recognition.domain.awards import NewAward, RoleTitles
from passhub_recognition.handlers import Context, new_verification_code
from passhub_recognition.service import service
from passhub_shared.messages.events import Event, Metadata, Recorded
from passhub_shared.operations.service import Runtime
from passhub_shared.storage.migrate import migrate
from tests.recognition.feed import LocalFeed
from tests.servers import PostgresHandle, run_async
from tests.support import service_settings

#: when the use cases run: after the year's sessions
NOW = datetime(2027, 5, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def migrated_url(pg_server: PostgresHandle) -> Iterator[str]:
    """One database for the module, migrated as the service migrates its own."""
    pg_server.ensure_running()
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = pg_server.create_database(name)
    run_async(migrate(url, service.migrations))
    yield url
    try:
        pg_server.ensure_running()
        pg_server.drop_database(name)
    except Exception as error:
        warnings.warn(f"could not drop test database {name}: {error}", stacklevel=1)


@dataclass
class UseCases:
    """A connection in a transaction that will be rolled back, the use cases' context, and a
    way to record other services' events on the same connection as the consumer would."""

    conn: AsyncConnection
    ctx: Context
    runtime: Runtime
    _feed: LocalFeed

    async def given(self, events: Sequence[Event]) -> list[Recorded]:
        """Record other services' events (and project them), as a consumed batch does."""
        return await self.runtime.store.record(self.conn, [self._feed.recorded(e) for e in events])

    async def rows(self, sql: str, **params: object) -> list[dict[str, object]]:
        return [dict(r._mapping) for r in await self.conn.execute(text(sql), params)]

    async def types(self) -> list[str]:
        """The types of the service's own events, in the order they were appended."""
        found = await self.conn.execute(
            text("SELECT type FROM events WHERE origin = 'recognition' ORDER BY position")
        )
        return [row.type for row in found]


@pytest.fixture
async def use_cases(migrated_url: str) -> AsyncIterator[UseCases]:
    runtime = Runtime(service, service_settings(migrated_url, "nats://127.0.0.1:1"))
    numbers = count(1)

    def new_award() -> NewAward:
        return NewAward(f"award-{next(numbers)}", new_verification_code())

    ctx = Context(
        store=runtime.store,
        titles=RoleTitles(),
        now=NOW,
        metadata=Metadata(actor="C1"),
        new_award=new_award,
    )
    try:
        async with runtime.engine.connect() as conn:
            transaction = await conn.begin()
            try:
                yield UseCases(conn, ctx, runtime, LocalFeed(runtime))
            finally:
                await transaction.rollback()
    finally:
        await runtime.engine.dispose()
