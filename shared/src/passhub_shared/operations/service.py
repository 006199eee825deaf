"""How a service declares itself, and the runtime that wires it to PostgreSQL and NATS.

A service package exposes a `ServiceDefinition` as the entry point `passhub.services:<name>`;
the app factory, the `passhub` command line and the tests all start from it, so the shared kit
never imports a service.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, suppress
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import nats
import orjson
from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from passhub_shared.dev.natscluster import nats_servers
from passhub_shared.messages.events import Event
from passhub_shared.messaging.pulling import PullConsumer
from passhub_shared.messaging.relay import OutboxRelay
from passhub_shared.messaging.streams import ensure_stream, stream_name
from passhub_shared.messaging.subscriptions import (
    BatchHandler,
    EventApplier,
    Reaction,
    durable_name,
)
from passhub_shared.operations.settings import Settings, load_settings
from passhub_shared.personaldata.keyshare import (
    ForeignKeys,
    KeyPublisher,
    key_bucket,
    master_keys_of,
    stream_keys_of,
)
from passhub_shared.personaldata.personal import Privacy
from passhub_shared.storage.connections import Connections
from passhub_shared.storage.migrate import migrate
from passhub_shared.storage.projections import Projection
from passhub_shared.storage.store import EventStore

log = logging.getLogger("passhub.service")


@dataclass
class ServiceDefinition:
    name: str
    title: str
    migrations: Path
    projections: Sequence[Projection] = ()
    #: origin service -> CloudEvents types this service records and applies
    consumes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    reaction: Reaction | None = None
    routers: Sequence[APIRouter] = ()
    #: the events it publishes, for the AsyncAPI document
    publishes: Sequence[type[Event]] = ()
    description: str = ""
    #: extra work once connected (e.g. seeding defaults); runs in every replica, so idempotent
    on_start: Callable[[Runtime], Awaitable[None]] | None = None
    #: the service's own settings classes: each is built when the app is made, so a missing or
    #: weak key (`passhub_shared.operations.secretkeys`) stops the service before it serves anything
    own_settings: Sequence[Callable[[], object]] = ()
    #: the service's own step of an erasure (`passhub_shared.personaldata.privacy.erase`), run in
    # its
    #: transaction while the people's keys still exist: (connection, runtime, student numbers)
    on_erase: Callable[[AsyncConnection, Runtime, Sequence[str]], Awaitable[None]] | None = None


def load_service(name: str) -> ServiceDefinition:
    """Find an installed service by name through its entry point."""
    found = {ep.name: ep for ep in entry_points(group="passhub.services")}
    if name not in found:
        known = ", ".join(sorted(found)) or "none installed"
        raise LookupError(f"unknown service {name!r} (known: {known})")
    definition = found[name].load()
    if not isinstance(definition, ServiceDefinition):
        raise TypeError(f"entry point {name} is not a ServiceDefinition")
    return definition


def installed_services() -> list[str]:
    return sorted(ep.name for ep in entry_points(group="passhub.services"))


def create_engine(database_url: str) -> AsyncEngine:
    """The service's connection pool. No pre-ping round trip on every checkout: a connection
    found dead fails its request (503) or batch (redelivered), and SQLAlchemy then replaces
    the pool's connections."""
    return create_async_engine(
        database_url,
        pool_size=20,
        max_overflow=20,
        pool_recycle=1800,
        json_serializer=lambda value: orjson.dumps(value).decode(),
        json_deserializer=orjson.loads,
    )


class Runtime:
    """A running service: engine, store, relay and consumers. Used by the app, CLI and tests."""

    def __init__(self, definition: ServiceDefinition, settings: Settings | None = None) -> None:
        self.definition = definition
        self.settings = settings or load_settings(definition.name)
        self.engine: AsyncEngine = create_engine(self.settings.database_url)
        #: where `transaction()` runs: asyncpg's pool, SQLAlchemy lent on it when asked
        self.connections = Connections(self.settings.database_url)
        self.privacy = Privacy(master_keys_of(self.settings))
        self.stream_keys = stream_keys_of(self.settings)
        self.store = EventStore(definition.name, definition.projections, self.privacy)
        self.foreign_keys = ForeignKeys(
            self.stream_keys, self.privacy, self.settings.key_cache_seconds
        )
        self.applier = EventApplier(
            self.engine, self.store, definition.consumes, definition.reaction, self.foreign_keys
        )
        self._keys_nc: nats.NATS | None = None
        self.relay: OutboxRelay | None = None
        self.consumers: list[PullConsumer] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.state: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return self.definition.name

    def transaction(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A transaction, committed at the end of the `async with` block, rolled back if it
        raises: an asyncpg transaction that is also an SQLAlchemy `AsyncConnection`
        (`passhub_shared.storage.connections`)."""
        return self.connections.transaction()

    async def migrate(self) -> None:
        await migrate(self.settings.database_url, self.definition.migrations)

    async def ensure_streams(self) -> None:
        nc = await nats.connect(nats_servers(self.settings.nats_url), connect_timeout=5)
        try:
            js = nc.jetstream()
            for service in {self.name, *self.definition.consumes}:
                await ensure_stream(
                    js,
                    service,
                    self.settings.stream_replicas,
                    self.settings.duplicate_window_seconds,
                )
        finally:
            await nc.close()

    async def start(self, *, relay: bool = True, consumers: bool = True) -> None:
        if self.settings.run_migrations:
            await self.migrate()
        if relay or consumers:
            await self.ensure_streams()
        if relay:
            self.relay = OutboxRelay(
                self.name,
                self.settings.database_url,
                self.settings.nats_url,
                batch_size=self.settings.relay_batch_size,
                poll_seconds=self.settings.relay_poll_seconds,
                keys=KeyPublisher(
                    self.name,
                    self.privacy.keys.masters,
                    self.stream_keys,
                    self.settings.stream_replicas,
                ),
            )
            self._tasks.append(asyncio.create_task(self.relay.run(), name="relay"))
        if consumers and self.definition.consumes:
            await self._start_consumers()
        if self.definition.on_start is not None:
            await self.definition.on_start(self)

    async def _start_consumers(self) -> None:
        s = self.settings
        self._keys_nc = await nats.connect(
            nats_servers(s.nats_url), max_reconnect_attempts=-1, name=f"passhub-{self.name}-keys"
        )
        self.foreign_keys.bind(await key_bucket(self._keys_nc.jetstream(), s.stream_replicas))
        for origin in sorted(self.definition.consumes):
            durable = durable_name(self.name, origin)
            handler = BatchHandler(self.applier, durable, max_deliver=s.consumer_max_deliver)
            consumer = PullConsumer(
                s.nats_url,
                stream_name(origin),
                durable,
                f"passhub.{origin}.>",
                handler,
                batch_size=s.consumer_batch_size,
                ack_wait=s.consumer_ack_wait_seconds,
                linger=s.consumer_linger_seconds,
            )
            await consumer.start()
            self.consumers.append(consumer)

    def consumers_alive(self) -> bool:
        return all(c.alive for c in self.consumers)

    async def stop(self) -> None:
        """Graceful: stop fetching, let in-flight batches commit and ack, then close."""
        for consumer in self.consumers:
            await consumer.stop()
        if self.relay is not None:
            self.relay.stop()
        for task in self._tasks:
            if not task.done():
                with suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(task, timeout=10)
        self._tasks.clear()
        if self._keys_nc is not None:
            with suppress(Exception):
                await self._keys_nc.close()
            self._keys_nc = None
        await self.connections.close()
        await self.engine.dispose()

    async def ready(self) -> dict[str, bool]:
        checks: dict[str, bool] = {}
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = True
        except Exception:
            checks["database"] = False
        if self.relay is not None:
            checks["relay"] = not any(t.done() for t in self._tasks if t.get_name() == "relay")
        if self.consumers:
            checks["consumers"] = self.consumers_alive()
        return checks
