"""A running recognition service (real PostgreSQL and NATS) for the HTTP tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from passhub_recognition.service import service
from tests.recognition.feed import LocalFeed
from tests.support import Harness, running_service


@pytest.fixture
async def recognition(database_url: str, nats_url: str) -> AsyncIterator[Harness]:
    async with running_service(service, database_url, nats_url) as harness:
        yield harness


@pytest.fixture
def feed(recognition: Harness) -> LocalFeed:
    return LocalFeed(recognition.runtime)
