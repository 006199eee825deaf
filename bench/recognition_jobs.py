"""The awards run as a job: how long it takes beside the run in one transaction, and how the
service answers meanwhile.

`python -m bench.recognition_jobs` starts its own PostgreSQL (or uses `--database-url`), runs
the recognition service in this process (no NATS: no relay, no consumers), and records a year
of `--leaders` leaders, each trained and with eight sessions delivered. Then, on the same data:

- baseline: the run in one transaction (`handlers.run_awards`), rolled back;
- the run as a job (`POST /awards/runs`, followed until done);
- `GET /policies/{year}` asked every 20 ms for three seconds with nothing else going on
  (baseline), then all the while the job runs: the answer times, median, 99th percentile and
  longest.

Results go to `bench/results/recognition_jobs.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import database, machine_info
from passhub_recognition import handlers
from passhub_recognition.api.deps import handler_context
from passhub_recognition.service import service
from passhub_shared.operations import loop
from passhub_shared.operations.secretkeys import generate_secret
from tests.recognition.builders import YEAR, appointed, delivered, launched, trained
from tests.recognition.feed import LocalFeed
from tests.support import running_service

RESULTS = Path(__file__).parent / "results" / "recognition_jobs.json"
EVERY = 0.02


def _times(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "answers": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


async def bench(url: str, leaders: int) -> dict[str, Any]:
    async with running_service(
        service,
        url,
        "nats://127.0.0.1:1",
        relay=False,
        consumers=False,
        jwt_secret=generate_secret(),
        privacy_master_key=generate_secret(),
        stream_key=generate_secret(),
    ) as h:
        feed = LocalFeed(h.runtime)
        await feed.apply([launched()])
        for first in range(0, leaders, 50):
            batch: list[Any] = []
            for i in range(first, min(first + 50, leaders)):
                s = f"S{i:05d}"
                batch += [appointed(s, name=f"Leader {i}"), trained(s)]
                batch += delivered(8, s, start=i * 8 + 1)
            await feed.apply(batch)
        coordinator = h.auth("coordinator")
        probe = f"/policies/{YEAR}"

        async def ask() -> float:
            began = time.perf_counter()
            r = await h.client.get(probe, headers=coordinator)
            assert r.status_code == 200, r.text
            return time.perf_counter() - began

        await ask()
        # baseline: the run in one transaction, undone
        async with h.runtime.engine.connect() as conn, conn.begin() as undo:
            began = time.perf_counter()
            at_once = await handlers.run_awards(conn, handler_context(h.runtime), YEAR)
            one_transaction = time.perf_counter() - began
            await undo.rollback()

        idle: list[float] = []
        until = time.perf_counter() + 3
        while time.perf_counter() < until:
            idle.append(await ask())
            await asyncio.sleep(EVERY)

        during: list[float] = []
        began = time.perf_counter()
        started = await h.client.post(
            "/awards/runs", json={"academic_year": YEAR}, headers=coordinator
        )
        assert started.status_code == 202, started.text
        where = started.headers["location"]
        while True:
            during.append(await ask())
            state = (await h.client.get(where, headers=coordinator)).json()
            if state["state"] in ("done", "failed"):
                break
            await asyncio.sleep(EVERY)
        as_job = time.perf_counter() - began
        assert state["state"] == "done", state
        assert state["result"]["granted"] == at_once.granted
    return {
        "leaders": leaders,
        "awards_granted": at_once.granted,
        "run_in_one_transaction_s (baseline)": round(one_transaction, 2),
        "run_as_a_job_s": round(as_job, 2),
        "answers_idle (baseline)": _times(idle),
        "answers_during_the_job": _times(during),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--leaders", type=int, default=300)
    args = parser.parse_args()
    with database(args.database_url, "recognition_jobs") as url:
        figures = loop.run(bench(url, args.leaders))
    payload = {"benchmark": "recognition_jobs", "machine": machine_info(), **figures}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
