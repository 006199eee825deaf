"""The peer the kit's appends are measured against: the `eventsourcing` library (PyPI
`eventsourcing[postgres]`, on psycopg 3 with its C extension), the same counter as the kit's
toy service, one event per save, on the same PostgreSQL server as the kit in the same run.

A command there is what the library's documentation shows: get the aggregate from the
repository (its events read and replayed), call a method (which triggers one event), save.
The first command of each stream creates the aggregate (its one `Created` event) instead.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class Counter(Aggregate):
    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name
        self.total = 0

    @event("Incremented")
    def increment(self, amount: int) -> None:
        self.total += amount


class Counters(Application[UUID]):
    def create(self, name: str) -> UUID:
        counter = Counter(name)
        self.save(counter)
        return counter.id

    def increment(self, counter_id: UUID, amount: int) -> None:
        counter: Counter = self.repository.get(counter_id)
        counter.increment(amount)
        self.save(counter)


def application(database_url: str, pool_size: int) -> Counters:
    """The library's application on the database at `database_url` (SQLAlchemy form)."""
    url = urlsplit(database_url.replace("+asyncpg", ""))
    return Counters(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.lstrip("/"),
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "postgres",
            "POSTGRES_PASSWORD": url.password or "postgres",
            "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_MAX_OVERFLOW": "0",
            "CREATE_TABLE": "y",
        }
    )


def run(app: Counters, total: int, writers: int, stream_length: int) -> int:
    """`total` commands from `writers` threads, each on streams of its own of `stream_length`
    events; returns the commands run."""
    per_writer = max(total // writers, 1)
    lock = threading.Lock()
    done = [0]

    def writer(_: int) -> None:
        counter_id: UUID | None = None
        for i in range(per_writer):
            if i % stream_length == 0:
                counter_id = app.create(str(uuid4()))
            else:
                assert counter_id is not None
                app.increment(counter_id, 1 + i % 7)
        with lock:
            done[0] += per_writer

    if writers == 1:
        writer(0)
    else:
        with ThreadPoolExecutor(writers) as pool:
            list(pool.map(writer, range(writers)))
    return done[0]
