"""xAPI bridge benchmark: attendance events from JetStream into a real LRS (Ralph).

    python -m bench.xapi [--events 20000] [--batch 500] [--backfill 10000,20000]
                         [--year 300000] [--concurrency 2]

In one run, on one embedded NATS and fresh Ralph processes (file-system backend, from
`.venv-ralph`):

1. raw: Ralph's own ingest of the statements, posted directly in batches of `--batch` with
   httpx and orjson (no NATS, no mapping), one POST after the other: statements/s;
2. bridge: the same number of `student_signed_in` events published on PASSHUB_ATTENDANCE and
   delivered by the bridge (durable pull consumer, mapping, batched POSTs, acks) into an empty
   Ralph: statements/s, and its ratio to (1). Target: 70%;
3. backfill: `passhub-xapi resend` of whole streams of the sizes given, into an empty Ralph
   each: seconds, with the time spent waiting on the LRS apart, to extrapolate a year of
   300,000 attendances (target: under 5 minutes on 2 cores).

4. year (`--year N`): a backfill of N attendances measured whole, into Ralph with its ids
   indexed (`ralph_serve.py --index-ids`), beside Ralph's own ingest of the same statements
   posted directly into another such Ralph in the same run, one POST after the other and
   `--concurrency` at once; and the bridge's `resend` with one POST at a time and with
   `--concurrency` at once.

Ralph's stock file-system backend reads its whole file on every POST to find ids it already
holds, so its cost per batch grows with what it holds: the same for (1) and (2), and the reason
(3) is measured at sizes that fit and extrapolated (see docs/xapi.md).
Results: bench/results/xapi.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import nats
import orjson

from passhub_shared.dev.devservers import NatsServer
from passhub_xapi import lrs as lrs_module
from passhub_xapi.bridge import Bridge
from passhub_xapi.settings import BridgeSettings
from passhub_xapi.store import Store
from tests.xapi.ralph import Ralph

RESULTS = Path(__file__).parent / "results"
TARGET_RATIO = 0.70
YEAR = 300_000
TARGET_BACKFILL_SECONDS = 300.0
START = datetime(2026, 10, 5, 13, 0, tzinfo=UTC)


def sessions_events(sessions: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {
            "id": str(uuid.uuid4()),
            "type": "passhub.sessions.scheme_launched.v1",
            "time": START.isoformat(),
            "data": {
                "scheme_id": "2026-27-PHYS",
                "code": "PHYS",
                "title": "Physics PASS",
                "school": "Physics",
                "academic_year": "2026-27",
                "modules": ["PHYS101", "PHYS102"],
                "mode": "opt_in",
            },
        }
    ]
    for n in range(sessions):
        start = START + timedelta(hours=n)
        out.append(
            {
                "id": str(uuid.uuid4()),
                "type": "passhub.sessions.session_scheduled.v1",
                "time": START.isoformat(),
                "data": {
                    "session_id": f"S{n}",
                    "scheme_id": "2026-27-PHYS",
                    "starts_at": start.isoformat(),
                    "ends_at": (start + timedelta(hours=1)).isoformat(),
                    "room": "P/T/005",
                    "capacity": 40,
                },
            }
        )
        for leader in ("L1", "L2"):
            out.append(
                {
                    "id": str(uuid.uuid4()),
                    "type": "passhub.sessions.leader_rostered.v1",
                    "time": START.isoformat(),
                    "data": {
                        "session_id": f"S{n}",
                        "scheme_id": "2026-27-PHYS",
                        "student_number": leader,
                    },
                }
            )
    return out


def sign_ins(count: int, sessions: int) -> list[dict[str, Any]]:
    methods = ("qr", "kiosk", "leader", "import")
    return [
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "/passhub/attendance",
            "type": "passhub.attendance.student_signed_in.v1",
            "subject": f"attendance-S{n % sessions}/{1_000_000 + n}",
            "time": START.isoformat(),
            "datacontenttype": "application/json",
            "data": {
                "session_id": f"S{n % sessions}",
                "scheme_id": "2026-27-PHYS",
                "modules": ["PHYS101", "PHYS102"],
                "student_number": str(1_000_000 + n),
                "signed_in_at": (START + timedelta(hours=n % sessions, minutes=3)).isoformat(),
                "method": methods[n % 4],
            },
        }
        for n in range(count)
    ]


async def publish(nats_url: str, sessions: list[dict], events: list[dict]) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for stream in ("PASSHUB_ATTENDANCE", "PASSHUB_SESSIONS"):
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await js.delete_stream(stream)
    await js.add_stream(name="PASSHUB_SESSIONS", subjects=["passhub.sessions.>"])
    await js.add_stream(name="PASSHUB_ATTENDANCE", subjects=["passhub.attendance.>"])
    for subject_of, batch in (
        (lambda e: "passhub.sessions." + e["type"].split(".")[2], sessions),
        (lambda e: "passhub.attendance.student_signed_in", events),
    ):
        for i in range(0, len(batch), 2000):
            await asyncio.gather(
                *(js.publish(subject_of(e), json.dumps(e).encode()) for e in batch[i : i + 2000])
            )
    await nc.close()


def settings_for(ralph: Ralph, nats_url: str, store: Path, batch: int) -> BridgeSettings:
    return BridgeSettings(
        nats_url=nats_url,
        durable=f"bench-{uuid.uuid4().hex[:8]}",
        # the events published here are not sealed: any stream key will do
        stream_key=secrets.token_urlsafe(32),  # type: ignore[arg-type]
        lrs_endpoint=ralph.endpoint,  # type: ignore[arg-type]
        lrs_username=ralph.username,
        lrs_password=ralph.password,  # type: ignore[arg-type]
        account_home_page="https://sso.example.ac.uk",  # type: ignore[arg-type]
        activity_base="https://pass.example.ac.uk/xapi",  # type: ignore[arg-type]
        store_path=store,
        batch_size=batch,
    )


class TimedLrs(lrs_module.Lrs):
    """The bridge's LRS client, adding up the time spent waiting on the LRS."""

    waited = 0.0

    async def _post(self, statements):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        try:
            return await super()._post(statements)
        finally:
            TimedLrs.waited += time.perf_counter() - began


async def raw_ingest(
    ralph: Ralph, statements: list[dict], batch: int, concurrency: int = 1
) -> float:
    """Seconds for Ralph to take `statements` posted directly, `concurrency` POSTs at once."""
    bodies = [orjson.dumps(statements[i : i + batch]) for i in range(0, len(statements), batch)]
    async with httpx.AsyncClient(
        auth=ralph.auth, headers={"X-Experience-API-Version": "1.0.3"}, timeout=600
    ) as http:
        queue = list(reversed(bodies))

        async def worker() -> None:
            while queue:
                r = await http.post(
                    f"{ralph.endpoint}/statements",
                    content=queue.pop(),
                    headers={"Content-Type": "application/json"},
                )
                r.raise_for_status()

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - began


async def bridge_live(settings: BridgeSettings, count: int) -> tuple[float, float, int]:
    TimedLrs.waited = 0.0
    bridge = Bridge(settings, lrs=TimedLrs(settings))
    stop = asyncio.Event()
    began = time.perf_counter()
    task = asyncio.create_task(bridge.run(stop))
    while bridge.totals.events < count:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - began
    stop.set()
    await task
    assert bridge.totals.posted == count and bridge.totals.parked == 0, bridge.totals
    await bridge.close()
    return elapsed, TimedLrs.waited, bridge.totals.requests


async def backfill(settings: BridgeSettings, count: int) -> tuple[float, float, float]:
    """Seconds of the whole re-send, seconds waiting on the LRS, and the bridge's own CPU
    seconds (this process: reading, mapping, posting; Ralph is another process)."""
    TimedLrs.waited = 0.0
    bridge = Bridge(settings, lrs=TimedLrs(settings))
    began, cpu = time.perf_counter(), time.process_time()
    totals = await bridge.resend()
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    assert totals.posted == count, totals
    await bridge.close()
    return elapsed, TimedLrs.waited, cpu


def statements_of(events: list[dict], sessions: list[dict], settings: BridgeSettings) -> list:
    """The statements the bridge makes of `events` (for the raw baseline: not timed)."""
    bridge = Bridge(settings, store=Store(":memory:"))
    bridge.store.apply_sessions_events(sessions)
    return [bridge.map_one(e, n + 1).statement for n, e in enumerate(events)]


class _Done(Exception):
    """Nothing more was asked for."""


def fresh_ralph(root: Path, name: str, index_ids: bool = False) -> Ralph:
    ralph = Ralph(root / name, index_ids=index_ids)
    ralph.start()
    return ralph


async def year(args: argparse.Namespace, nats_url: str, root: Path) -> dict[str, Any]:
    """A whole backfill of `args.year` attendances into Ralph with its ids indexed, beside
    Ralph's own ingest of the same statements in the same run."""
    sessions = sessions_events(args.sessions)
    events = sign_ins(args.year, args.sessions)
    await publish(nats_url, sessions, events)
    out: dict[str, Any] = {"events": args.year, "batch": args.batch, "lrs": "ralph fs, ids indexed"}
    ralph = fresh_ralph(root, "year-raw-1", index_ids=True)
    try:
        statements = statements_of(
            events, sessions, settings_for(ralph, nats_url, root / "y.db", args.batch)
        )
        del events
        out["ralph_own_ingest_seconds"] = round(await raw_ingest(ralph, statements, args.batch), 1)
    finally:
        ralph.stop()
    print(json.dumps(out), flush=True)
    ralph = fresh_ralph(root, f"year-raw-{args.concurrency}", index_ids=True)
    try:
        seconds = await raw_ingest(ralph, statements, args.batch, args.concurrency)
        out[f"ralph_own_ingest_seconds_{args.concurrency}_at_once"] = round(seconds, 1)
    finally:
        ralph.stop()
    del statements
    print(json.dumps(out), flush=True)
    for concurrency in sorted({1, args.concurrency}):
        ralph = fresh_ralph(root, f"year-bridge-{concurrency}", index_ids=True)
        try:
            settings = settings_for(ralph, nats_url, root / f"y{concurrency}.db", args.batch)
            settings = settings.model_copy(update={"resend_concurrency": concurrency})
            seconds, waited, cpu = await backfill(settings, args.year)
        finally:
            ralph.stop()
        out[f"bridge_resend_{concurrency}_at_once"] = {
            "seconds": round(seconds, 1),
            "statements_per_s": round(args.year / seconds, 1),
            "seconds_waiting_on_lrs": round(waited, 1),
            "bridge_cpu_seconds": round(cpu, 1),
        }
        print(json.dumps(out), flush=True)
    best = min(v["seconds"] for k, v in out.items() if k.startswith("bridge_resend"))
    out["target_seconds"] = TARGET_BACKFILL_SECONDS
    out["met"] = best < TARGET_BACKFILL_SECONDS
    return out


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="passhub-bench-xapi-"))
    server = NatsServer(root / "nats")
    server.start()
    result: dict[str, Any] = {"benchmark": "xapi", "batch": args.batch, "events": args.events}
    try:
        if args.year:
            result["year"] = await year(args, server.url, root)
        sessions = sessions_events(args.sessions)
        events = sign_ins(args.events, args.sessions)
        await publish(server.url, sessions, events)

        if not args.events:
            raise _Done
        ralph = fresh_ralph(root, "raw")
        try:
            statements = statements_of(
                events, sessions, settings_for(ralph, server.url, root / "x.db", args.batch)
            )
            raw_seconds = await raw_ingest(ralph, statements, args.batch)
        finally:
            ralph.stop()
        ralph = fresh_ralph(root, "bridge")
        try:
            settings = settings_for(ralph, server.url, root / "bridge.db", args.batch)
            bridge_seconds, waited, requests = await bridge_live(settings, args.events)
        finally:
            ralph.stop()
        raw_rate, bridge_rate = args.events / raw_seconds, args.events / bridge_seconds
        result["live"] = {
            "raw_statements_per_s": round(raw_rate, 1),
            "bridge_statements_per_s": round(bridge_rate, 1),
            "ratio": round(bridge_rate / raw_rate, 3),
            "target_ratio": TARGET_RATIO,
            "met": bridge_rate / raw_rate >= TARGET_RATIO,
            "bridge_seconds": round(bridge_seconds, 2),
            "bridge_seconds_waiting_on_lrs": round(waited, 2),
            "raw_seconds": round(raw_seconds, 2),
            "raw_posts": -(-args.events // args.batch),
            "bridge_posts": requests,
        }
        print(json.dumps(result["live"], indent=2), flush=True)

        result["backfill"] = []
        for size in args.backfill:
            events = sign_ins(size, args.sessions)
            await publish(server.url, sessions, events)
            ralph = fresh_ralph(root, f"backfill-{size}")
            try:
                settings = settings_for(ralph, server.url, root / f"b{size}.db", args.batch)
                seconds, waited, cpu = await backfill(settings, size)
            finally:
                ralph.stop()
            row = {
                "events": size,
                "seconds": round(seconds, 2),
                "statements_per_s": round(size / seconds, 1),
                "seconds_waiting_on_lrs": round(waited, 2),
                "bridge_cpu_seconds": round(cpu, 2),
                "bridge_cpu_us_per_event": round(cpu / size * 1e6, 1),
            }
            result["backfill"].append(row)
            print(json.dumps(row), flush=True)
        if result["backfill"]:
            last = result["backfill"][-1]
            result["backfill_year_extrapolated"] = {
                "events": YEAR,
                "from_events": last["events"],
                "into_ralph_fs_seconds_linear": round(last["seconds"] / last["events"] * YEAR, 1),
                "bridge_cpu_seconds": round(last["bridge_cpu_us_per_event"] * YEAR / 1e6, 1),
                "target_seconds": TARGET_BACKFILL_SECONDS,
                "note": "a year does not fit Ralph's file-system backend in one run: it rescans "
                "its file on every POST, so its time per statement grows with what it holds "
                "and the linear figure is a lower bound for it; the bridge's own CPU time is "
                "linear in the events, and the rest is the LRS's ingest",
            }
    except _Done:
        pass
    finally:
        server.stop()
    result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--backfill",
        type=lambda v: [int(x) for x in v.split(",") if x],
        default=[10_000, 20_000],
    )
    parser.add_argument("--year", type=int, default=0, help="a whole backfill of this many")
    parser.add_argument("--concurrency", type=int, default=2, help="POSTs at once (--year)")
    parser.add_argument("--output", type=Path, default=RESULTS / "xapi.json")
    args = parser.parse_args(argv)
    result = asyncio.run(main_async(args))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
