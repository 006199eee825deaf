"""Helpers shared by the benchmarks: embedded servers, timing, and writing results.

Every benchmark starts its own NATS and PostgreSQL (the wheels behind
`passhub_shared.dev.devservers`) in a temporary directory, so a run measures a known, empty
setup and leaves nothing behind. Each figure is reported next to a "raw" rate measured in the
same run on the same servers with the plain client library, so the ratio says what the kit
costs on this machine rather than how fast this machine is.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import platform
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import asyncpg
import nats

from passhub_shared.dev.devservers import NatsServer, PostgresServer
from passhub_shared.operations import loop

RESULTS_DIR = Path(__file__).parent / "results"
REPO_ROOT = Path(__file__).resolve().parent.parent

#: the client libraries whose versions a result depends on
PACKAGES = (
    "passhub-shared",
    "sqlalchemy",
    "asyncpg",
    "nats-py",
    "faststream",
    "pydantic",
    "cloudevents",
    "alembic",
)


# --------------------------------------------------------------------------- servers


class Servers:
    """NATS (JetStream) and PostgreSQL in a temporary directory, stopped and removed on exit.

    `pg_settings` adds `-c name=value` server settings (e.g. `{"fsync": "off"}`); the default
    is the embedded server's own, durable configuration.
    """

    def __init__(self, pg_settings: Mapping[str, str] | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="passhub-bench-"))
        self.nats = NatsServer(self.root / "nats")
        self.postgres = PostgresServer(self.root / "postgres", settings=pg_settings)

    @property
    def nats_url(self) -> str:
        return self.nats.url

    def database(self, name: str) -> str:
        """Create database `name`; returns its SQLAlchemy (asyncpg driver) URL."""
        return self.postgres.create_database(name)

    def start(self) -> None:
        try:
            self.nats.start()
            self.postgres.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        try:
            self.postgres.stop()
        finally:
            try:
                self.nats.stop()
            finally:
                shutil.rmtree(self.root, ignore_errors=True)

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


@contextmanager
def database(url: str | None, name: str) -> Iterator[str]:
    """`url` itself when given (an empty database), else a database `name` on an embedded
    PostgreSQL started in a temporary folder, stopped and removed afterwards."""
    if url is not None:
        yield url
        return
    root = Path(tempfile.mkdtemp(prefix=f"passhub-bench-{name}-"))
    server = PostgresServer(root / "postgres")
    server.start()
    try:
        yield server.create_database(name)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def asyncpg_dsn(url: str) -> str:
    """A plain `postgresql://` DSN (what asyncpg takes) from a SQLAlchemy URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    """Wall-clock seconds and this process's CPU seconds over a measured block."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def cpu_share(self) -> float:
        """How busy this process was (1.0 = one core all the time)."""
        return self.cpu_seconds / self.seconds if self.seconds else 0.0


@contextmanager
def timed() -> Iterator[Timing]:
    timing = Timing()
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield timing
    finally:
        timing.seconds = time.perf_counter() - wall
        timing.cpu_seconds = time.process_time() - cpu


class Profiler:
    """cProfile around chosen phases, when asked for (`--profile DIR`).

    Each phase's statistics go to `DIR/<phase>.pstats` (open them with `snakeviz` or
    `python -m pstats`) and its top functions by cumulative and own time are printed.
    """

    def __init__(self, directory: Path | None, phases: Sequence[str] = ()) -> None:
        self.directory = directory
        self.phases = set(phases)

    def wanted(self, phase: str) -> bool:
        return self.directory is not None and (not self.phases or phase in self.phases)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        if not self.wanted(name) or self.directory is None:
            yield
            return
        profile = cProfile.Profile()
        profile.enable()
        try:
            yield
        finally:
            profile.disable()
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / f"{name}.pstats"
            profile.dump_stats(path)
            print(f"\n--- profile of {name} ({path})", file=sys.stderr)
            print(top_functions(profile), file=sys.stderr)


def top_functions(profile: cProfile.Profile, limit: int = 25) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(limit)
    stats.sort_stats("tottime").print_stats(limit)
    return out.getvalue()


def machine_load() -> dict[str, float | None]:
    """How busy the machine is right now: 1-minute load average and the share of the last 10 s
    in which some task waited for a CPU (Linux PSI). Other work on the machine slows every
    figure, so each one records this next to it."""
    pressure: float | None = None
    try:
        for line in Path("/proc/pressure/cpu").read_text().splitlines():
            if line.startswith("some "):
                fields = dict(part.split("=", 1) for part in line.split()[1:])
                pressure = float(fields["avg10"])
    except (OSError, KeyError, ValueError):
        pressure = None
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    return {"loadavg_1m": load, "cpu_pressure_avg10": pressure}


# --------------------------------------------------------------------------- results


@dataclass
class Figure:
    """One measured rate next to its raw baseline."""

    key: str
    label: str
    events: int
    seconds: float
    raw_label: str
    raw_events: int
    raw_seconds: float
    #: the kit's own target, as text for the table ("" when there is none)
    target: str = ""
    #: minimum kit rate and/or minimum kit/raw ratio the target asks for
    target_rate: float | None = None
    target_ratio: float | None = None
    #: this process's CPU share during the kit and raw measurements (1.0 = one core)
    cpu_share: float = 0.0
    raw_cpu_share: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def raw_rate(self) -> float:
        return self.raw_events / self.raw_seconds if self.raw_seconds else 0.0

    @property
    def ratio(self) -> float:
        return self.rate / self.raw_rate if self.raw_rate else 0.0

    @property
    def met(self) -> bool | None:
        if self.target_rate is None and self.target_ratio is None:
            return None
        ok = True
        if self.target_rate is not None:
            ok = ok and self.rate >= self.target_rate
        if self.target_ratio is not None:
            ok = ok and self.ratio >= self.target_ratio
        return ok

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(rate=self.rate, raw_rate=self.raw_rate, ratio=self.ratio, met=self.met)
        return data


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


async def server_info(servers: Servers) -> dict[str, Any]:
    """Versions and the durability settings of the servers a run used."""
    conn = await asyncpg.connect(servers.postgres.url)
    try:
        postgres = {
            name: await conn.fetchval(f"SHOW {name}")
            for name in (
                "server_version",
                "fsync",
                "synchronous_commit",
                "shared_buffers",
                "wal_level",
            )
        }
    finally:
        await conn.close()
    nc = await nats.connect(servers.nats_url)
    try:
        nats_version = str(nc.connected_server_version).strip("<>").split()[-1]
    finally:
        await nc.close()
    return {"postgres": postgres, "nats_server": str(nats_version)}


def machine_info() -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    try:
        memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        memory_gb = None
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": usable,
        "cpu_count": os.cpu_count(),
        "memory_gb": memory_gb,
        "machine": platform.machine(),
        "processor": _cpu_model(),
        "system": platform.platform(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "event_loop": loop.name(),
        "versions": {p: _version(p) for p in PACKAGES},
        "git_commit": _git_commit(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _rate(value: float) -> str:
    return f"{value:,.0f}"


def markdown_table(figures: Sequence[Figure]) -> str:
    lines = [
        "| benchmark | events | kit (events/s) | raw baseline | raw (events/s) "
        "| kit / raw | target | met |",
        "|---|---:|---:|---|---:|---:|---|---|",
    ]
    for f in figures:
        met = {True: "yes", False: "**no**", None: "-"}[f.met]
        lines.append(
            f"| {f.label} | {f.events:,} | {_rate(f.rate)} | {f.raw_label} "
            f"| {_rate(f.raw_rate)} | {f.ratio:.0%} | {f.target or '-'} | {met} |"
        )
    return "\n".join(lines)


def write_results(
    name: str,
    title: str,
    figures: Sequence[Figure],
    info: Mapping[str, Any],
    *,
    preamble: str = "",
    epilogue: str = "",
    directory: Path = RESULTS_DIR,
) -> tuple[Path, Path]:
    """Write `<name>.json` and `<name>.md` into `directory`; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / f"{name}.json"
    md_path = directory / f"{name}.md"
    payload = {"benchmark": name, **info, "figures": [f.as_dict() for f in figures]}
    json_path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    machine = info.get("machine", {})
    servers = info.get("servers", {})
    postgres = servers.get("postgres", {})
    about = [
        f"- date: {machine.get('date')}, commit `{machine.get('git_commit')}`",
        f"- machine: {machine.get('nproc')} CPUs ({machine.get('processor')}), "
        f"{machine.get('memory_gb')} GB, {machine.get('system')}",
        f"- Python {machine.get('python')} on {machine.get('event_loop', 'asyncio')}; "
        + ", ".join(f"{k} {v}" for k, v in machine.get("versions", {}).items() if v),
        f"- PostgreSQL {postgres.get('server_version')} (fsync={postgres.get('fsync')}, "
        f"synchronous_commit={postgres.get('synchronous_commit')}), "
        f"NATS {servers.get('nats_server')}",
    ]
    parts = [f"# {title}", ""]
    if preamble:
        parts += [preamble.strip(), ""]
    parts += [markdown_table(figures), "", *about, ""]
    if epilogue:
        parts += [epilogue.strip(), ""]
    md_path.write_text("\n".join(parts))
    return json_path, md_path
