"""Fixtures of the xAPI bridge's tests: a real Ralph LRS for the whole run, and per test
the bridge's settings under identifiers of the test's own (so tests sharing the LRS read
back only their statements)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from passhub_xapi.settings import BridgeSettings
from tests.support import SECRET_ENV
from tests.xapi.ralph import Ralph


@pytest.fixture(scope="session")
def ralph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ralph]:
    ralph = Ralph(tmp_path_factory.mktemp("ralph"))
    ralph.start()
    yield ralph
    ralph.stop()


@pytest.fixture
def ralph(ralph_server: Ralph) -> Ralph:
    """The LRS, running (a test before may have stopped it)."""
    if ralph_server.process is None or ralph_server.process.poll() is not None:
        ralph_server.start()
    return ralph_server


@pytest.fixture
def bridge_settings(ralph: Ralph, nats_url: str, tmp_path: Path) -> BridgeSettings:
    tag = uuid.uuid4().hex[:10]
    return BridgeSettings(
        nats_url=nats_url,
        durable=f"xapi-{tag}",
        stream_key=SECRET_ENV["PASSHUB_STREAM_KEY"],  # type: ignore[arg-type]
        lrs_endpoint=ralph.endpoint,  # type: ignore[arg-type]
        lrs_username=ralph.username,
        lrs_password=ralph.password,  # type: ignore[arg-type]
        account_home_page=f"https://students.example.ac.uk/{tag}",  # type: ignore[arg-type]
        activity_base=f"https://pass.example.ac.uk/{tag}",  # type: ignore[arg-type]
        store_path=tmp_path / "bridge.sqlite3",
        batch_size=50,
        fetch_wait_seconds=0.2,
        lrs_max_backoff_seconds=1.0,
        ack_wait_seconds=5.0,
    )
