"""The cluster fixture is what passhub deploys: three routed nodes, JetStream on each with
`sync_interval: always`, and a service's streams created at three replicas across them."""

from __future__ import annotations

import json
import urllib.request

import nats

from passhub_shared.dev.natscluster import NatsCluster, nats_servers
from passhub_shared.operations.service import Runtime
from tests.kit import toy
from tests.support import service_settings

_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _jetstream_config(monitor_port: int) -> dict[str, object]:
    with _http.open(f"http://127.0.0.1:{monitor_port}/jsz", timeout=2) as response:
        config: dict[str, object] = json.loads(response.read())["config"]
        return config


async def test_three_nodes_flush_every_write_and_streams_are_r3(
    database_url: str, nats_cluster: NatsCluster
) -> None:
    for port in nats_cluster.monitor_ports:
        assert _jetstream_config(port)["sync_always"] is True
    rt = Runtime(toy.publisher, service_settings(database_url, nats_cluster.url, stream_replicas=3))
    await rt.start(relay=False)
    try:
        nc = await nats.connect(nats_servers(nats_cluster.url))
        try:
            info = await nc.jetstream().stream_info("PASSHUB_KITTEST")
        finally:
            await nc.close()
        assert info.config.num_replicas == 3
        assert info.cluster is not None
        names = {info.cluster.leader, *(p.name for p in info.cluster.replicas or [])}
        assert names == set(nats_cluster.names)
    finally:
        await rt.stop()
