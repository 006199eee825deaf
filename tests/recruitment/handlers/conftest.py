"""The middle layer of recruitment's tests: use cases called directly, on a real PostgreSQL
connection, with no HTTP, NATS or running service. The database is migrated once for the
module's tests; each test runs in a transaction rolled back at its end, as a route's
transaction would be on an error, so tests see nothing of one another."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recruitment.handlers import Context
from passhub_recruitment.service import service
from passhub_recruitment.settings import RecruitmentSettings
from passhub_shared.messages.events import Metadata
from passhub_shared.operations.service import Runtime
from passhub_shared.storage.migrate import migrate
from tests.servers import PostgresHandle
from tests.support import service_settings

#: the time of every use case in these tests: a Wednesday of the campaign's year
NOW = datetime(2026, 5, 20, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def migrated(pg_server: PostgresHandle) -> Iterator[str]:
    """A database of recruitment's tables, migrated once for the module."""
    pg_server.ensure_running()
    name = f"h_{uuid.uuid4().hex[:12]}"
    url = pg_server.create_database(name)
    asyncio.run(migrate(url, service.migrations))
    yield url
    try:
        pg_server.ensure_running()
        pg_server.drop_database(name)
    except Exception:  # dropping keeps disk use flat; it must not fail the tests
        pass


@pytest.fixture
async def runtime(migrated: str) -> AsyncIterator[Runtime]:
    runtime = Runtime(service, service_settings(migrated, "nats://127.0.0.1:1"))
    yield runtime
    await runtime.engine.dispose()


@pytest.fixture
async def conn(runtime: Runtime) -> AsyncIterator[AsyncConnection]:
    """A connection in a transaction that is rolled back when the test ends."""
    async with runtime.engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


def context_as(runtime: Runtime, actor: str) -> Context:
    return Context(
        store=runtime.store,
        settings=RecruitmentSettings(),
        now=NOW,
        metadata=Metadata(correlation_id=f"test-{actor}", actor=actor),
    )


@pytest.fixture
def coordinator(runtime: Runtime) -> Context:
    return context_as(runtime, "coord-1")
