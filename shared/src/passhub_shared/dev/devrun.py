"""``make run``: NATS, PostgreSQL, the OIDC provider, the four services and the portal on this
machine; Ctrl-C stops them all.

A supervisor: a service, NATS or PostgreSQL that stops is started again after a back-off
delay (``passhub_shared.operations.supervisor``), and the rest keep running.

Everything lives under ``var/`` (git-ignored):

* ``var/nats``, ``var/postgres``: the servers' data and logs, kept across runs;
* ``var/passhub.env``: the URLs and the secrets, for tools and for your shell;
* ``var/jwt-secret``, ``var/attendance-qr-secret``, ... (:data:`DEV_SECRETS`): random secrets,
  generated on the first run and kept (mode 600);
* ``var/logs/<service>.log``: each service's output (also shown on the console);
* ``var/run/<service>.pid``: lets the next run stop services a killed run left behind;
* the OIDC provider's log and the portal's secrets: see :mod:`passhub_shared.dev.devportal`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.table import Table
from rich.text import Text

from passhub_shared.dev import devlrs, devportal
from passhub_shared.dev.devservers import (
    NatsServer,
    PostgresServer,
    ServerStartError,
    die_with_parent,
    pid_alive,
    port_in_use,
    process_cmdline,
    terminate,
)
from passhub_shared.dev.natscluster import NatsCluster
from passhub_shared.operations.secretkeys import generate_secret, secret_problem
from passhub_shared.operations.supervisor import Supervisor, describe_exit

__all__ = ["SERVICES", "run_dev"]

_SignalHandler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None

SERVICES = ("recruitment", "sessions", "attendance", "recognition")
#: what dev up runs: the services, then the portal in front of them
PROCESSES = (*SERVICES, "portal")
SERVICE_COLOURS = {
    "recruitment": "cyan",
    "sessions": "magenta",
    "attendance": "green",
    "recognition": "yellow",
    "portal": "blue",
}
HOST = "127.0.0.1"
#: every secret the services require: environment variable -> file under ``var/``
DEV_SECRETS = {
    "PASSHUB_JWT_SECRET": "jwt-secret",
    "PASSHUB_ATTENDANCE_QR_SECRET": "attendance-qr-secret",
    "PASSHUB_ATTENDANCE_FEEDBACK_GUARD_KEY": "attendance-feedback-guard-key",
    "PASSHUB_SESSIONS_FEED_SECRET": "sessions-feed-secret",
    "PASSHUB_PRIVACY_MASTER_KEY": "privacy-master-key",
    "PASSHUB_STREAM_KEY": "stream-key",
}
#: the setting of each service's public address (what QR codes, feed links and certificate
#: verification links point at), when it has one; attendance's is the portal's address (its QR
#: codes point there), and the portal's is where `passhub demo` sends people
PUBLIC_URL_SETTINGS = {
    "sessions": "PASSHUB_SESSIONS_PUBLIC_URL",
    "attendance": "PASSHUB_ATTENDANCE_PUBLIC_URL",
    "recognition": "PASSHUB_RECOGNITION_PUBLIC_BASE_URL",
    "portal": "PASSHUB_PORTAL_PUBLIC_URL",
}
HEALTH_TIMEOUT = 60.0
SERVICE_STOP_TIMEOUT = 10.0
TOKEN_COMMAND = ".venv/bin/passhub token --role coordinator --sub admin"

# Health checks go straight to localhost, whatever proxy the environment configures.
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class DevRunError(Exception):
    """Something failed while starting or running; the message says what."""


@dataclass
class _Service:
    name: str
    port: int
    database_url: str
    var_dir: Path
    host: str = HOST
    #: 1, or 2 for a service's second replica (`--cluster`)
    replica: int = 1
    proc: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)
    console: Console | None = None
    log_file: IO[bytes] | None = None
    reader: threading.Thread | None = None
    healthy: bool = False
    log_start: int = 0
    _log_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def label(self) -> str:
        """The service's name, with the replica's number from the second on."""
        return self.name if self.replica == 1 else f"{self.name}-{self.replica}"

    @property
    def log_path(self) -> Path:
        return self.var_dir / "logs" / f"{self.label}.log"

    @property
    def pid_path(self) -> Path:
        return self.var_dir / "run" / f"{self.label}.pid"

    @property
    def app(self) -> str:
        return f"passhub_{self.name}.main:app"

    @property
    def base_url(self) -> str:
        """Where this machine reaches the service (health checks, the summary)."""
        return f"http://{_local_address(self.host)}:{self.port}"

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop_leftover(self) -> None:
        """Stop this service if a previous, killed run left it running."""
        try:
            pid = int(self.pid_path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        args = process_cmdline(pid) if pid_alive(pid) else None
        if args and self.app in args:
            terminate(pid, None, signal.SIGTERM, SERVICE_STOP_TIMEOUT)
        self.pid_path.unlink(missing_ok=True)

    def spawn(self, env: dict[str, str]) -> None:
        self.env = env
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.pid_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_file = self.log_path.open("ab")
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        self.log_file.write(f"\n===== {stamp} starting {self.label} =====\n".encode())
        self.log_file.flush()
        self.log_start = self.log_file.tell()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                self.app,
                "--host",
                self.host,
                "--port",
                str(self.port),
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # Own session: Ctrl-C reaches only us, and we stop the services in order.
            start_new_session=True,
            preexec_fn=die_with_parent(signal.SIGTERM),
        )
        self.pid_path.write_text(f"{self.proc.pid}\n")

    def start_reader(self, console: Console) -> None:
        """Copy the service's output to its log file and, prefixed, to the console."""
        self.console = console
        proc, log_file = self.proc, self.log_file
        assert proc is not None and proc.stdout is not None and log_file is not None
        prefix = Text(f"{self.label:<12}| ", style=SERVICE_COLOURS.get(self.name, "white"))
        stdout = proc.stdout

        def pump() -> None:
            for raw in iter(stdout.readline, b""):
                with self._log_lock:
                    log_file.write(raw)
                    log_file.flush()
                line = raw.decode(errors="replace").rstrip()
                console.print(prefix + Text(line), soft_wrap=True, highlight=False)

        self.reader = threading.Thread(target=pump, name=f"log-{self.label}", daemon=True)
        self.reader.start()

    def tail(self, lines: int = 40) -> str:
        """The last lines this run of the service wrote."""
        if self.reader is not None:
            self.reader.join(timeout=2)
        try:
            with self.log_path.open("rb") as log_file:
                log_file.seek(self.log_start)
                text = log_file.read().decode(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def check_health(self) -> bool:
        try:
            with _http.open(f"{self.base_url}/healthz", timeout=1) as response:
                status: int = response.status
        except (urllib.error.URLError, OSError, ValueError):
            return False
        return status == 200

    def stopped(self) -> str | None:
        code = None if self.proc is None else self.proc.poll()
        return None if code is None else describe_exit(code)

    def start(self) -> None:
        """Start the service again after it stopped (the supervisor calls this). The new
        process does not die with this one (reader threads are running, see die_with_parent);
        the next run stops it through its pid file if this one is killed."""
        self._close_output()
        self.spawn(self.env)
        if self.console is not None:
            self.start_reader(self.console)

    def _close_output(self) -> None:
        if self.reader is not None:
            self.reader.join(timeout=2)
        if self.log_file is not None:
            with self._log_lock:
                self.log_file.close()

    def close(self) -> None:
        self._close_output()
        self.pid_path.unlink(missing_ok=True)


@dataclass
class _ServerChild:
    """NATS or PostgreSQL, as the supervisor sees it."""

    name: str
    server: NatsServer | PostgresServer

    def stopped(self) -> str | None:
        return None if self.server.is_running() else "not running"

    def start(self) -> None:
        self.server.stop()  # forgets the dead process and its pid file
        self.server.start()


def _local_address(host: str) -> str:
    """The address this machine uses to reach a server listening on `host`."""
    if host in ("", "0.0.0.0"):
        return HOST
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def public_urls(public_url: str | None, host: str, ports: dict[str, int]) -> dict[str, str]:
    """Each service's public address: the scheme and host of `public_url` (or of `host`, or
    localhost when `host` is a wildcard) with the service's own port."""
    if public_url is None:
        shown = "localhost" if host in ("", "0.0.0.0", "::") else host
        shown = f"[{shown}]" if ":" in shown else shown
        public_url = f"http://{shown}"
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DevRunError(f"--public-url {public_url!r} must look like http://192.168.1.20")
    if parts.port is not None or parts.path.strip("/") or parts.query or parts.fragment:
        raise DevRunError(
            f"--public-url {public_url!r} takes a scheme and host only: "
            "each service is reached on its own port"
        )
    hostname = parts.hostname
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(hostname).version == 6:
            hostname = f"[{hostname}]"
    return {name: f"{parts.scheme}://{hostname}:{port}" for name, port in ports.items()}


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _kept_secret(path: Path) -> str:
    """A random secret, generated once and kept in `path` (a kept one too weak to use, from an
    older run, is replaced)."""
    with contextlib.suppress(OSError):
        existing = path.read_text().strip()
        if secret_problem(existing) is None:
            return existing
    secret = generate_secret()
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(secret + "\n")
    return secret


def dev_secrets(var_dir: Path) -> dict[str, str]:
    """Every secret the services require, from ``var/`` (generated on the first run)."""
    return {variable: _kept_secret(var_dir / name) for variable, name in DEV_SECRETS.items()}


def _write_env_file(
    path: Path,
    nats_url: str,
    db_urls: dict[str, str],
    secrets: dict[str, str],
    public: dict[str, str],
    service_urls: dict[str, str] | None = None,
) -> None:
    lines = [
        "# Written by `make run` on every start. Use with: set -a; . var/passhub.env; set +a",
        f"PASSHUB_NATS_URL={nats_url}",
        *(f"PASSHUB_{name.upper()}_DATABASE_URL={url}" for name, url in db_urls.items()),
        *(f"{variable}={value}" for variable, value in secrets.items()),
        *(f"{PUBLIC_URL_SETTINGS[name]}={url}" for name, url in public.items()),
        # where tools on this machine (`passhub demo`) reach each service
        *(f"PASSHUB_{name.upper()}_URL={url}" for name, url in (service_urls or {}).items()),
    ]
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text("\n".join(lines) + "\n")


def _stop_services(console: Console, services: list[_Service]) -> None:
    """SIGTERM every service, give them 10 s together, then SIGKILL the stragglers."""
    alive = [s for s in services if s.running()]
    if alive:
        console.print(f"stopping {', '.join(s.name for s in alive)}")
    for service in alive:
        assert service.proc is not None
        with contextlib.suppress(ProcessLookupError):
            service.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + SERVICE_STOP_TIMEOUT
    for service in alive:
        assert service.proc is not None
        try:
            service.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            console.print(f"[red]{service.name} did not stop within 10 s; killing it[/]")
            service.proc.kill()
            service.proc.wait()
    for service in services:
        service.close()


def _stop_server(
    console: Console, name: str, server: NatsServer | NatsCluster | PostgresServer
) -> None:
    console.print(f"stopping {name}")
    try:
        server.stop()
    except Exception as error:
        console.print(f"[red]could not stop {name}: {error}[/]")


def _wait_healthy(console: Console, services: list[_Service]) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while not all(s.healthy for s in services):
        for service in services:
            if service.healthy:
                continue
            assert service.proc is not None
            code = service.proc.poll()
            if code is not None:
                raise DevRunError(
                    f"{service.name} exited with code {code} during start-up; "
                    f"its last output ({service.log_path}):\n{service.tail()}"
                )
            if service.check_health():
                service.healthy = True
                console.print(f"[green]{service.name} is up[/] on {service.base_url}")
        if time.monotonic() > deadline:
            late = ", ".join(s.name for s in services if not s.healthy)
            raise DevRunError(f"no healthy /healthz after {HEALTH_TIMEOUT:.0f} s from: {late}")
        time.sleep(0.25)


def _supervise(
    console: Console, nats: NatsServer | NatsCluster, pg: PostgresServer, services: list[_Service]
) -> None:
    """Return never: wait for Ctrl-C, starting again whatever stops meanwhile."""

    def log(message: str) -> None:
        console.print(Text.assemble(("supervisor  | ", "bold red"), message))

    nodes = (
        [
            _ServerChild(f"NATS {name}", node)
            for name, node in zip(nats.names, nats.nodes, strict=True)
        ]
        if isinstance(nats, NatsCluster)
        else [_ServerChild("NATS", nats)]
    )
    supervisor = Supervisor([*nodes, _ServerChild("PostgreSQL", pg), *services], log)
    while True:
        supervisor.check()
        time.sleep(0.5)


def _print_summary(
    console: Console,
    var_dir: Path,
    nats: NatsServer | NatsCluster,
    pg: PostgresServer,
    services: list[_Service],
) -> None:
    table = Table(title="passhub is running", title_justify="left")
    table.add_column("service", style="bold")
    table.add_column("URL")
    table.add_column("API docs")
    table.add_column("public URL")
    for service in services:
        public = service.env.get(PUBLIC_URL_SETTINGS.get(service.name, ""), "")
        table.add_row(service.label, service.base_url, f"{service.base_url}/docs", public)
    console.print(table)
    console.print(f"NATS:       {nats.url}")
    console.print(f"PostgreSQL: {pg.url}")
    console.print(f"settings:   {var_dir / 'passhub.env'}")
    console.print(f"logs:       {var_dir / 'logs'}")
    console.print(f"make a token: [bold]{TOKEN_COMMAND}[/]")
    console.print("A service that stops is started again; Ctrl-C stops everything.")


def run_dev(
    var_dir: Path = Path("var"),
    nats_port: int = 14222,
    pg_port: int = 15432,
    base_http_port: int = 8001,
    host: str = HOST,
    public_url: str | None = None,
    oidc_port: int = devportal.OIDC_PORT,
    lrs_port: int | None = None,
    cluster: bool = False,
    nats_sync_interval: str | None = "always",
) -> None:
    """Start NATS, PostgreSQL and the services (and with `lrs_port`, a local LRS and the xAPI
    bridge: passhub_shared.dev.devlrs); block until Ctrl-C or SIGTERM, then stop all.

    `cluster`: three NATS nodes (ports `nats_port` to `nats_port + 2`) with the streams at R3,
    and two replicas of each service, the second on its first's port + 10, sharing their
    durable consumers (one relay per service publishes). `nats_sync_interval` is JetStream's
    `sync_interval` on every node: ``always`` (passhub's default, docs/operations.md "NATS
    durability"), or a duration such as ``2m`` (nats-server's own default).

    The services listen on `host` (NATS and PostgreSQL on 127.0.0.1 only). `public_url` (a
    scheme and host, e.g. ``http://192.168.1.20``) is where phones and browsers reach them:
    QR codes, feed links and certificate verification links point there.

    Returns normally after an orderly stop; raises ``SystemExit(1)`` if something failed.
    """
    console = Console()
    var_dir = var_dir.absolute()
    var_dir.mkdir(parents=True, exist_ok=True)

    nats: NatsServer | NatsCluster = (
        NatsCluster(
            var_dir / "nats-cluster",
            client_ports=[nats_port + i for i in range(3)],
            sync_interval=nats_sync_interval,
        )
        if cluster
        else NatsServer(var_dir / "nats", port=nats_port, sync_interval=nats_sync_interval)
    )
    replicas = 2 if cluster else 1
    pg = PostgresServer(var_dir / "postgres", port=pg_port)
    services: list[_Service] = []
    failed = False

    in_main_thread = threading.current_thread() is threading.main_thread()
    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous: dict[signal.Signals, _SignalHandler] = {}
    if in_main_thread:
        previous = {sig: signal.getsignal(sig) for sig in handled}
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _interrupt)
        signal.signal(signal.SIGHUP, _interrupt)

    try:
        with ExitStack() as cleanup:
            try:
                ports = {name: base_http_port + i for i, name in enumerate(PROCESSES)}
                everywhere = public_urls(public_url, host, ports)
                public = {
                    name: url for name, url in everywhere.items() if name in PUBLIC_URL_SETTINGS
                }
                # attendance's QR codes open the portal's sign-in page (`/s/<code>`)
                public["attendance"] = everywhere["portal"]
                console.print(
                    f"starting a NATS cluster on ports {nats_port}-{nats_port + 2}"
                    if cluster
                    else f"starting NATS on port {nats_port}"
                )
                cleanup.callback(_stop_server, console, "NATS", nats)
                nats.start()
                console.print(f"starting PostgreSQL on port {pg_port}")
                cleanup.callback(_stop_server, console, "PostgreSQL", pg)
                pg.start()
                oidc = devportal.oidc_provider(var_dir, oidc_port)
                console.print(f"starting the OIDC provider on port {oidc.port}")
                cleanup.callback(oidc.stop)
                oidc.start()

                db_urls = {name: pg.create_database(f"passhub_{name}") for name in SERVICES}
                secrets = dev_secrets(var_dir)
                local = {n: f"http://{_local_address(host)}:{p}" for n, p in ports.items()}
                _write_env_file(var_dir / "passhub.env", nats.url, db_urls, secrets, public, local)
                stream_replicas = {"PASSHUB_STREAM_REPLICAS": "3"} if cluster else {}
                with (var_dir / "passhub.env").open("a") as env_file:
                    env_file.writelines(f"{k}={v}\n" for k, v in stream_replicas.items())

                # every service `replicas` times, the portal once in front of them
                instances = [*itertools.product(SERVICES, range(1, replicas + 1)), ("portal", 1)]
                for name, replica in instances:
                    port = ports[name] + 10 * (replica - 1)
                    service = _Service(name, port, db_urls.get(name, ""), var_dir, host, replica)
                    service.stop_leftover()
                    if port_in_use(service.port, _local_address(host)):
                        raise DevRunError(
                            f"port {service.port} (for {name}) is already in use; "
                            "stop whatever uses it or choose other ports"
                        )
                    services.append(service)

                cleanup.callback(_stop_services, console, services)
                urls = {s.name: s.base_url for s in services if s.replica == 1}
                jwks = f"{urls['portal']}/.well-known/jwks.json"
                extra = {
                    "portal": devportal.portal_env(var_dir, oidc.url, everywhere["portal"], urls)
                }
                base_env = {
                    **os.environ,
                    "PYTHONUNBUFFERED": "1",
                    "PASSHUB_JWT_JWKS_URL": jwks,
                    **secrets,
                    **{PUBLIC_URL_SETTINGS[name]: url for name, url in public.items()},
                    **stream_replicas,
                }
                if lrs_port:  # the UDD exports' EVENT_ID is the bridge's activity id
                    base_env["PASSHUB_ATTENDANCE_XAPI_ACTIVITY_BASE"] = devlrs.ACTIVITY_BASE
                for service in services:
                    console.print(f"starting {service.label} on port {service.port}")
                    service.spawn(
                        base_env
                        | {
                            "PASSHUB_SERVICE": service.name,
                            "PASSHUB_DATABASE_URL": service.database_url,
                            "PASSHUB_NATS_URL": nats.url,
                            "PASSHUB_ENV_FILE": str(var_dir / "passhub.env"),
                        }
                        | extra.get(service.name, {})
                    )
                # Readers are threads: start them after every process is spawned (see
                # die_with_parent, which only applies while this process has one thread).
                for service in services:
                    service.start_reader(console)

                _wait_healthy(console, services)
                if lrs_port:
                    cleanup.enter_context(
                        devlrs.dev_lrs(
                            var_dir, lrs_port, nats.url, console, secrets["PASSHUB_STREAM_KEY"]
                        )
                    )
                _print_summary(console, var_dir, nats, pg, services)
                devportal.print_portal(console, everywhere["portal"], oidc.url)
                _supervise(console, nats, pg, services)
            except KeyboardInterrupt:
                console.print("\n[bold]stopping passhub[/]")
            except (DevRunError, ServerStartError, devlrs.LrsError) as error:
                failed = True
                console.print(Text.assemble(("error: ", "bold red"), str(error)))
            finally:
                # From here on, an orderly shutdown: further Ctrl-C/SIGTERM are ignored.
                if in_main_thread:
                    for sig in handled:
                        signal.signal(sig, signal.SIG_IGN)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    if failed:
        console.print("[red]passhub stopped after an error[/]")
        raise SystemExit(1)
    console.print("passhub stopped")
