"""Fixtures of the attendance tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from passhub_attendance.service import service
from tests.support import Harness, running_service


@pytest.fixture
async def h(database_url: str, nats_url: str) -> AsyncIterator[Harness]:
    """The service over HTTP and PostgreSQL; sessions events are handed in by `given`."""
    async with running_service(
        service, database_url, nats_url, relay=False, consumers=False
    ) as harness:
        yield harness
