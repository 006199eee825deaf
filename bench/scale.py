"""Scale benchmark: check-in with 1, 2 and 4 service processes and with 1 vs 3 NATS nodes, and
the relay at R1 vs R3 and with JetStream's `sync_interval: always`, each as a ratio to the
single-process, single-node figure of the same run.

`python -m bench.scale` starts its own PostgreSQL, and for each configuration a NATS server or
a three-node NATS cluster on loopback (`passhub_shared.dev.natscluster`), all from the wheels. It
reuses `bench.checkin`'s machinery (sessions all starting now, QR sign-ins over HTTP with a
minimal keep-alive client, a plain nats-py subscriber) and `bench.kit`'s relay drain:

- check-in: saturation (closed loop, `--concurrency` clients) sign-ins/s and p99, then paced
  at `--rate` for `--seconds`: p99 of the answer and from sign-in to the subscriber;
- relay: `--events` events drained from a full outbox to the stream, events/s.

"N processes" are uvicorn worker processes of one attendance service, which behave as replicas
do (they share nothing but PostgreSQL, and one relay publishes). Everything shares the
machine's cores: the figures say how the stack scales on one box, not across machines. Results
go to `bench/results/scale.json` and a table is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import checkin
from bench.kit import drain, fill_outbox
from passhub_shared.dev.devservers import NatsServer, PostgresServer, free_port
from passhub_shared.dev.natscluster import NatsCluster
from passhub_shared.operations import loop
from passhub_shared.operations.service import Runtime
from passhub_shared.operations.settings import Settings
from tests.kit import toy

RESULTS = Path(__file__).parent / "results"


@dataclass
class Options:
    sessions: int
    students: int
    concurrency: int
    rate: float
    seconds: float
    events: int
    rounds: int
    output: Path


class Nats:
    """One node or a three-node cluster, with a `sync_interval`."""

    def __init__(self, root: Path, nodes: int, sync_interval: str | None) -> None:
        self.server: NatsServer | NatsCluster = (
            NatsCluster(root, 3, sync_interval=sync_interval)
            if nodes == 3
            else NatsServer(root, sync_interval=sync_interval)
        )
        self.nodes = nodes

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def first_url(self) -> str:
        return self.url.split(",")[0]

    def __enter__(self) -> Nats:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


def settings_for(database_url: str, nats_url: str, replicas: int) -> Settings:
    return Settings(
        service="attendance",
        database_url=database_url,
        nats_url=nats_url,
        jwt_secret=checkin.JWT_SECRET,
        log_json=False,
        stream_replicas=replicas,
    )


async def checkin_run(
    opts: Options, pg: PostgresServer, nats: Nats, workers: int, tag: str, root: Path
) -> dict[str, Any]:
    replicas = 3 if nats.nodes == 3 else 1
    database_url = pg.create_database(f"checkin_{tag}")
    settings = settings_for(database_url, nats.url, replicas)
    checkin.say(f"{tag}: {workers} process(es), {nats.nodes} NATS node(s)")
    await checkin.schedule(settings, ["sat", "pac"], opts.sessions)
    copts = checkin.Options(
        sessions=opts.sessions,
        students=opts.students,
        concurrency=opts.concurrency,
        rate=opts.rate,
        seconds=opts.seconds,
        workers=workers,
        raw_seconds=0,
        output=opts.output,
    )
    port = free_port()
    log = root / f"service-{tag}.log"
    os.environ["PASSHUB_STREAM_REPLICAS"] = str(replicas)
    proc = checkin.start_service(copts, database_url, nats.url, port, log)
    try:
        await checkin.wait_ready(port, proc, log)
        subscriber = checkin.Subscriber(nats.first_url)
        await subscriber.start()
        saturation = checkin.build_requests("sat", opts.sessions, opts.students, port, settings)
        warm = saturation[: opts.concurrency * 2]
        await checkin.closed_loop(port, warm, opts.concurrency)
        measured = saturation[len(warm) :]
        elapsed = await checkin.closed_loop(port, measured, opts.concurrency)
        await subscriber.wait_for(len(saturation))
        sat = checkin.phase_figures(measured, elapsed, subscriber)
        count = int(opts.rate * opts.seconds)
        per_session = max(1, -(-count // opts.sessions))
        paced = checkin.build_requests("pac", opts.sessions, per_session, port, settings)[:count]
        await asyncio.sleep(1.0)
        elapsed = await checkin.open_loop(port, paced, opts.rate, max(opts.concurrency, 128))
        await subscriber.wait_for(len(saturation) + len(paced))
        pac = checkin.phase_figures(paced, elapsed, subscriber)
        await subscriber.stop()
    finally:
        checkin.stop_service(proc)
        os.environ.pop("PASSHUB_STREAM_REPLICAS", None)
    return {
        "processes": workers,
        "nats_nodes": nats.nodes,
        "stream_replicas": replicas,
        "saturation_sign_ins_per_s": sat["sign_ins_per_s"],
        "saturation_p99_ms": sat["latency"]["p99_ms"],
        "saturation_errors": sat["errors"],
        "paced_rate": opts.rate,
        "paced_p99_ms": pac["latency"]["p99_ms"],
        "paced_to_subscriber_p99_ms": pac["sign_in_to_subscriber"]["p99_ms"],
        "paced_errors": pac["errors"],
    }


async def relay_run(
    opts: Options, pg: PostgresServer, nats: Nats, replicas: int, tag: str
) -> dict[str, Any]:
    database_url = pg.create_database(f"relay_{tag}")
    settings = Settings(
        service="kittest",
        database_url=database_url,
        nats_url=nats.url,
        jwt_secret=checkin.JWT_SECRET,
        log_json=False,
        stream_replicas=replicas,
    )
    runtime = Runtime(toy.publisher, settings)
    await runtime.start(relay=False)
    try:
        await fill_outbox(runtime, opts.events, prefix=tag)
        timing = await drain(runtime, opts.events)
    finally:
        await runtime.stop()
    rate = opts.events / timing.seconds
    checkin.say(f"relay {tag}: {rate:,.0f} events/s")
    return {"nats_nodes": nats.nodes, "stream_replicas": replicas, "events_per_s": round(rate, 1)}


async def run(opts: Options) -> dict[str, Any]:
    """Every configuration once per round, the rounds one after the other: a machine whose
    speed drifts (a shared host) then shows in the spread of each figure over the rounds,
    and each figure is the median of its rounds."""
    host = checkin.machine()
    rounds = [await one_round(opts, r) for r in range(opts.rounds)]
    checkins = {tag: _medians([r["checkin"][tag] for r in rounds]) for tag in rounds[0]["checkin"]}
    relays = {tag: _medians([r["relay"][tag] for r in rounds]) for tag in rounds[0]["relay"]}
    base = checkins["p1_n1_default"]
    for figures in checkins.values():
        figures["throughput_ratio"] = round(
            figures["saturation_sign_ins_per_s"] / base["saturation_sign_ins_per_s"], 2
        )
        figures["paced_p99_ratio"] = round(figures["paced_p99_ms"] / base["paced_p99_ms"], 2)
    relay_base = relays["r1_n1_default"]["events_per_s"]
    for figures in relays.values():
        figures["ratio"] = round(figures["events_per_s"] / relay_base, 2)
    return {
        "benchmark": "scale",
        "machine": host,
        "options": {
            "sessions": opts.sessions,
            "students_per_session": opts.students,
            "concurrency": opts.concurrency,
            "paced_rate": opts.rate,
            "paced_seconds": opts.seconds,
            "relay_events": opts.events,
            "rounds": opts.rounds,
        },
        "checkin": checkins,
        "relay": relays,
        "rounds": rounds,
    }


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each numeric figure's median over the rounds, with its range as `<name>_range`."""
    out: dict[str, Any] = {}
    for key, value in runs[0].items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            values = sorted(float(r[key]) for r in runs)
            out[key] = round(statistics.median(values), 2)
            if len(values) > 1 and values[0] != values[-1]:
                out[f"{key}_range"] = [values[0], values[-1]]
        else:
            out[key] = value
    return out


async def one_round(opts: Options, number: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="passhub-scale-"))
    pg = PostgresServer(root / "postgres")
    checkins: dict[str, dict[str, Any]] = {}
    relays: dict[str, dict[str, Any]] = {}
    checkin.say(f"round {number + 1} of {opts.rounds}")
    try:
        pg.start()
        plan = [
            # (NATS nodes, sync_interval, check-in process counts, relay replicas)
            (1, None, (1, 2, 4), 1),
            (3, None, (1,), 3),
            (1, "always", (1,), 1),
            (3, "always", (1,), 3),
        ]
        for nodes, sync, processes, replicas in plan:
            sync_tag = sync or "default"
            with Nats(root / f"nats-{nodes}-{sync_tag}", nodes, sync) as nats:
                for workers in processes:
                    tag = f"p{workers}_n{nodes}_{sync_tag}"
                    result = await checkin_run(opts, pg, nats, workers, tag, root)
                    checkins[tag] = result | {"sync_interval": sync_tag}
                tag = f"r{replicas}_n{nodes}_{sync_tag}"
                relays[tag] = (await relay_run(opts, pg, nats, replicas, tag)) | {
                    "sync_interval": sync_tag
                }
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)

    return {"checkin": checkins, "relay": relays}


def table(result: dict[str, Any]) -> str:
    lines = [
        "check-in            sign-ins/s  ratio  sat p99 ms  paced p99 ms  to subscriber p99 ms",
    ]
    for tag, f in result["checkin"].items():
        lines.append(
            f"{tag:<20}{f['saturation_sign_ins_per_s']:>10.0f}  {f['throughput_ratio']:>5.2f}"
            f"  {f['saturation_p99_ms']:>10.1f}  {f['paced_p99_ms']:>12.1f}"
            f"  {f['paced_to_subscriber_p99_ms']:>20.1f}"
        )
    lines.append("")
    lines.append("relay               events/s  ratio")
    for tag, f in result["relay"].items():
        lines.append(f"{tag:<20}{f['events_per_s']:>9.0f}  {f['ratio']:>5.2f}")
    return "\n".join(lines)


def parse(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--sessions", type=int, default=100, help="sessions starting at once")
    parser.add_argument("--students", type=int, default=12, help="students per session")
    parser.add_argument("--concurrency", type=int, default=64, help="concurrent clients")
    parser.add_argument("--rate", type=float, default=200.0, help="paced sign-ins per second")
    parser.add_argument("--seconds", type=float, default=5.0, help="paced phase length")
    parser.add_argument("--events", type=int, default=20000, help="events for the relay")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each figure a median")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    return Options(
        args.sessions,
        args.students,
        args.concurrency,
        args.rate,
        args.seconds,
        args.events,
        args.rounds,
        args.output,
    )


def main(argv: Sequence[str] | None = None) -> None:
    opts = parse(argv)
    result = loop.run(run(opts))
    opts.output.mkdir(parents=True, exist_ok=True)
    path = opts.output / "scale.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(table(result))
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
