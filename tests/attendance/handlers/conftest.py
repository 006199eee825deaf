"""The use cases called directly: no HTTP, no NATS, no service process. One database is
migrated for the whole run; each test works in a transaction that is rolled back at its end, so
the tests share the database and see nothing of each other."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_attendance.handlers import Context
from passhub_attendance.service import service
from passhub_attendance.settings import AttendanceSettings
from passhub_attendance.tables import attendances
from passhub_shared.messages.events import Metadata, Recorded
from passhub_shared.operations.service import Runtime
from passhub_shared.storage.migrate import migrate
from passhub_shared.storage.schema import events
from tests.servers import PostgresHandle, run_async
from tests.support import service_settings


@pytest.fixture(scope="session")
def migrated_database(pg_server: PostgresHandle) -> Iterator[str]:
    """A database of the attendance service, migrated once for every handler test."""
    pg_server.ensure_running()
    name = f"t_handlers_{uuid.uuid4().hex[:8]}"
    url = pg_server.create_database(name)
    run_async(migrate(url, service.migrations))
    yield url
    with contextlib.suppress(Exception):  # dropping keeps the disk flat; it must not fail a test
        pg_server.drop_database(name)


@dataclass
class World:
    """One test's open transaction, and the Context its use cases run with."""

    conn: AsyncConnection
    ctx: Context

    def as_(self, actor: str | None, at: datetime | None = None) -> Context:
        """The Context of a command sent by `actor` (at `at`)."""
        return replace(self.ctx, metadata=Metadata(actor=actor), now=at or self.ctx.now)

    async def given(self, *recorded: Recorded | Sequence[Recorded]) -> None:
        """Other services' events recorded and projected as the consumer does, in this
        transaction."""
        flat: list[Recorded] = []
        for item in recorded:
            flat.extend([item] if isinstance(item, Recorded) else item)
        await self.ctx.store.record(self.conn, flat)

    async def appended(self) -> list[Any]:
        """The attendance service's own events, in order: type, stream, actor (sealed),
        causation."""
        rows = await self.conn.execute(
            select(events.c.type, events.c.stream_id, events.c.actor, events.c.causation_id)
            .where(events.c.origin == "attendance")
            .order_by(events.c.position)
        )
        return list(rows)

    async def attendance_rows(self, session_id: str) -> dict[str, Any]:
        rows = await self.conn.execute(
            select(attendances).where(attendances.c.session_id == session_id)
        )
        return {r.student_number: r for r in rows}


@pytest.fixture
async def world(migrated_database: str) -> AsyncIterator[World]:
    runtime = Runtime(service, service_settings(migrated_database, "nats://127.0.0.1:1"))
    try:
        async with runtime.engine.connect() as conn:
            transaction = await conn.begin()
            try:
                ctx = Context(
                    store=runtime.store,
                    settings=AttendanceSettings(),
                    now=datetime.now(UTC),
                    metadata=Metadata(),
                )
                yield World(conn, ctx)
            finally:
                await transaction.rollback()
    finally:
        await runtime.engine.dispose()
