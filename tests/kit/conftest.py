"""Fixtures for the kit's own tests: the toy publisher and consumer runtimes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from passhub_shared.operations.service import Runtime
from tests.kit import toy
from tests.support import service_settings


@pytest.fixture
def consumer_db(pg_server) -> str:  # type: ignore[no-untyped-def]
    import uuid

    return pg_server.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
async def publisher(database_url: str, nats_url: str) -> AsyncIterator[Runtime]:
    runtime = Runtime(toy.publisher, service_settings(database_url, nats_url))
    await runtime.start()
    yield runtime
    await runtime.stop()


@pytest.fixture(autouse=True)
def _poison_on() -> None:
    toy.POISON_ACTIVE["on"] = True
