"""The middle layer of the sessions tests: use cases (`passhub_sessions.handlers`) called
directly, without HTTP, NATS or a service process, on a real PostgreSQL connection.

The database is migrated once for the whole run; each test gets a connection inside a
transaction that is rolled back at its end (advisory locks and pseudonym keys with it), and the
handlers' `Context` at a fixed time. `Given` holds the usual first steps: a scheme, leaders
appointed by recruitment (recorded as the consumer records them), their availability.
"""

from __future__ import annotations

import asyncio
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_sessions import handlers, queries
from passhub_sessions.domain.availability import Slot, Weekday
from passhub_sessions.domain.scheme import LaunchScheme
from passhub_sessions.service import service
from passhub_sessions.settings import SessionsSettings
from passhub_shared.contracts.recruitment import LeaderAppointed, LeaderStoodDown
from passhub_shared.messages.events import Event, Metadata, Recorded, new_event_id
from passhub_shared.operations.service import Runtime
from passhub_shared.storage.migrate import migrate
from tests.servers import PostgresHandle
from tests.sessions.builders import at
from tests.support import service_settings

#: 1 September 2026, before the first teaching week of 2026-27
TODAY = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
WEEKDAYS: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday")


def slots(starts: str = "08:00", ends: str = "20:00", *days: Weekday) -> list[Slot]:
    return [
        Slot(weekday=d, starts=time.fromisoformat(starts), ends=time.fromisoformat(ends))
        for d in days or WEEKDAYS
    ]


@pytest.fixture(scope="session")
def handlers_database(pg_server: PostgresHandle) -> Iterator[str]:
    """A database with the sessions service's migrations, made once for the run."""
    pg_server.ensure_running()
    name = f"t_handlers_{uuid.uuid4().hex[:8]}"
    url = pg_server.create_database(name)
    asyncio.run(migrate(url, service.migrations))
    yield url
    try:
        pg_server.drop_database(name)
    except Exception as error:
        warnings.warn(f"could not drop test database {name}: {error}", stacklevel=1)


@dataclass
class Given:
    conn: AsyncConnection
    ctx: handlers.Context
    #: the last version of each of recruitment's streams recorded
    versions: dict[str, int] = field(default_factory=dict)

    async def scheme(self, code: str = "PHYS", minimum: int = 2) -> queries.Row:
        scheme_id = await handlers.launch_scheme(
            self.conn,
            self.ctx,
            LaunchScheme(
                code=code,
                title=f"{code} PASS",
                school="Science",
                academic_year="2026-27",
                mode="opt_in",
                coordinator="c1",
                min_leaders_per_session=minimum,
            ),
        )
        return await queries.require_scheme(self.conn, scheme_id)

    async def recruitment(self, event: Event, stream_id: str) -> Recorded:
        """Record one of recruitment's events as the consumer does (projected with it)."""
        self.versions[stream_id] = self.versions.get(stream_id, 0) + 1
        [recorded] = await self.ctx.store.record(
            self.conn,
            [
                Recorded(
                    id=new_event_id(),
                    stream_id=stream_id,
                    stream_version=self.versions[stream_id],
                    type=event.type_name(),
                    origin="recruitment",
                    data=event.model_dump(mode="json"),
                    occurred_at=TODAY,
                )
            ],
        )
        return recorded

    async def leaders(
        self, *numbers: str, schemes: Sequence[str] = ("2026-27-PHYS",), available: bool = True
    ) -> None:
        """Leaders appointed to `schemes`, free every weekday 08:00-20:00 unless not
        `available` (then they have stated no availability)."""
        for number in numbers:
            await self.recruitment(
                LeaderAppointed(
                    student_number=number,
                    name=f"Leader {number}",
                    email=f"{number}@example.ac.uk",
                    academic_year="2026-27",
                    role="leader",
                    schemes=list(schemes),
                    appointed_on=date(2026, 7, 1),
                ),
                f"leader-{number}",
            )
            if available:
                await self.available(number)

    async def stood_down(
        self, number: str, effective_from: date, schemes: Sequence[str] = ("2026-27-PHYS",)
    ) -> Recorded:
        return await self.recruitment(
            LeaderStoodDown(
                student_number=number,
                academic_year="2026-27",
                schemes=list(schemes),
                effective_from=effective_from,
            ),
            f"leader-{number}",
        )

    async def available(self, number: str, stated: list[Slot] | None = None) -> None:
        await handlers.state_availability(
            self.conn, self.ctx, number, "2026-27", stated or slots(), [], number
        )

    async def session(
        self,
        scheme: queries.Row,
        day: str,
        starts: str,
        ends: str,
        room: str = "Main 1.02",
        rostered: Sequence[str] = (),
    ) -> str:
        session_id = await handlers.schedule_session(
            self.conn, self.ctx, scheme, at(day, starts), at(day, ends), room, 30
        )
        for number in rostered:
            await handlers.roster(self.conn, self.ctx, session_id, number)
        return session_id

    async def events(self, stream_id: str) -> list[str]:
        """The names of the events on a stream, in order."""
        return [e.name for e in await self.ctx.store.load(self.conn, stream_id)]

    async def on(self, session_id: str) -> list[str]:
        """Who the projection has rostered on the session."""
        rows = (await queries.rostered_on(self.conn, [session_id]))[session_id]
        return [r["student_number"] for r in rows]


@pytest.fixture
async def given(handlers_database: str) -> AsyncIterator[Given]:
    runtime = Runtime(service, service_settings(handlers_database, "nats://127.0.0.1:1"))
    ctx = handlers.Context(
        store=runtime.store,
        settings=SessionsSettings(timezone="Europe/London"),
        now=TODAY,
        metadata=Metadata(actor="c1"),
    )
    try:
        async with runtime.engine.connect() as conn:
            transaction = await conn.begin()
            try:
                yield Given(conn, ctx)
            finally:
                await transaction.rollback()
    finally:
        await runtime.engine.dispose()
