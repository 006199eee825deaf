"""Fixtures shared by the whole test suite.

Real servers
------------
Every test runs against a real NATS (JetStream) and a real PostgreSQL; tests/servers.py
decides where they come from (environment URLs, Docker, or the embedded wheels).

* ``nats_server`` / ``pg_server`` (session): handles with ``.url``, ``.can_restart`` and
  ``.stop()`` / ``.start()`` / ``.restart()``; ``pg_server.create_database(name)`` too.
* ``nats_url`` (per test): the NATS URL, with every JetStream stream deleted beforehand.
* ``database_url`` (per test): a ``postgresql+asyncpg://`` URL of a fresh, empty database.

Secrets
-------
No secret has a default. ``tests.support.SECRET_ENV`` holds one random value per secret for the
run; this module puts them in the environment (where the services' own settings and any
subprocess read them), and ``tests.support.service_settings`` passes the JWT secret to the kit's
``Settings``. Build settings in a test with ``service_settings(...)`` or from that environment.

The per-test fixtures are plain sync fixtures that open no connection the test could inherit,
so they suit async tests, each of which runs in an event loop of its own.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator

import pytest

from tests.servers import (
    PostgresHandle,
    ServerHandle,
    delete_all_streams,
    describe_sources,
    provide_nats,
    provide_postgres,
)
from tests.support import SECRET_ENV

# No secret has a default: the services read this run's generated ones from the environment.
os.environ.update(SECRET_ENV)


def pytest_report_header(config: pytest.Config) -> str:
    return describe_sources()


@pytest.fixture(scope="session")
def nats_server() -> Iterator[ServerHandle]:
    with provide_nats() as handle:
        yield handle


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresHandle]:
    with provide_postgres() as handle:
        yield handle


@pytest.fixture
def nats_url(nats_server: ServerHandle) -> str:
    # Start again a server an earlier test stopped, and start every test with no streams.
    nats_server.ensure_running()
    delete_all_streams(nats_server.url)
    return nats_server.url


@pytest.fixture
def database_url(pg_server: PostgresHandle) -> Iterator[str]:
    pg_server.ensure_running()
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield pg_server.create_database(name)
    # Dropping keeps the disk use flat over a long run; a failure here must not fail the test.
    try:
        pg_server.ensure_running()
        pg_server.drop_database(name)
    except Exception as error:
        warnings.warn(f"could not drop test database {name}: {error}", stacklevel=1)
