"""The attendances projection's write on the sign-in path: the kit's `upsert` against the
statement the projection wrote by hand before (the baseline, kept here verbatim), on the same
database in the same run.

    python -m bench.attendance_write            # writes bench/results/attendance_write.json
    python -m bench.attendance_write --rounds 50

Each round writes one group commit's worth of sign-ins (`--batch`, 200 by default: the most a
batch takes) as new attendance rows, once through each statement (the order swapped every
round, each in a transaction of its own), then the same rows again (the upsert of rows already
there, as a replay's `apply` does). Reported: best and median per batch, and the median of the
per-round ratios new / baseline. Starts its own PostgreSQL, or uses `--database-url`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from bench.common import database
from passhub_attendance.service import service
from passhub_attendance.tables import attendances
from passhub_shared.operations import loop
from passhub_shared.operations.secretkeys import generate_secret
from passhub_shared.operations.service import Runtime
from passhub_shared.operations.settings import Settings
from passhub_shared.storage.projections import upsert

RESULTS = Path(__file__).parent / "results" / "attendance_write.json"

#: the projection's statement before it wrote with the kit's `upsert`
BASELINE_SQL = f"""
INSERT INTO {attendances.name}
SELECT * FROM json_populate_recordset(NULL::{attendances.name}, $1::json)
ON CONFLICT (session_id, student_number) DO UPDATE SET
    scheme_id = excluded.scheme_id, role = excluded.role, method = excluded.method,
    signed_in_at = excluded.signed_in_at, active = excluded.active,
    revoked_reason = excluded.revoked_reason
"""

Write = Callable[[AsyncConnection, list[dict[str, Any]]], Awaitable[None]]


async def baseline(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    await conn.exec_driver_sql(BASELINE_SQL, (orjson.dumps(rows).decode(),))


async def kit(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    await upsert(conn, attendances, rows)


def batch_of(prefix: str, size: int) -> list[dict[str, Any]]:
    at = datetime.now(UTC)
    return [
        {
            "session_id": f"{prefix}-S{n % 8}",
            "student_number": f"{prefix}-{n:06d}",
            "scheme_id": "2026-27-PHYS",
            "role": "student",
            "method": "qr",
            "signed_in_at": at,
            "active": True,
            "revoked_reason": None,
        }
        for n in range(size)
    ]


async def timed(runtime: Runtime, write: Write, rows: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    async with runtime.transaction() as conn:
        await write(conn, rows)
    return (time.perf_counter() - started) * 1000


def summary(times: list[float]) -> dict[str, float]:
    return {"best_ms": round(min(times), 3), "median_ms": round(statistics.median(times), 3)}


async def run(args: argparse.Namespace, dsn: str) -> dict[str, Any]:
    runtime = Runtime(
        service,
        Settings(
            database_url=dsn,
            log_json=False,
            jwt_secret=generate_secret(),
            privacy_master_key=generate_secret(),
            stream_key=generate_secret(),
        ),
    )
    await runtime.migrate()
    writes: dict[str, Write] = {"baseline": baseline, "kit_upsert": kit}
    times: dict[str, dict[str, list[float]]] = {kind: {"new": [], "again": []} for kind in writes}
    try:
        for warm in writes.values():  # the first statements prepare and warm the caches
            await timed(runtime, warm, batch_of(f"warm-{id(warm)}", args.batch))
        for r in range(args.rounds):
            order = list(writes) if r % 2 == 0 else list(writes)[::-1]
            for kind in order:
                rows = batch_of(f"{kind}-{r}", args.batch)
                times[kind]["new"].append(await timed(runtime, writes[kind], rows))
                times[kind]["again"].append(await timed(runtime, writes[kind], rows))
    finally:
        await runtime.engine.dispose()
    figures: dict[str, Any] = {"batch": args.batch, "rounds": args.rounds}
    for kind in writes:
        figures[kind] = {case: summary(t) for case, t in times[kind].items()}
    for case in ("new", "again"):
        ratios = [
            k / b for k, b in zip(times["kit_upsert"][case], times["baseline"][case], strict=True)
        ]
        figures[f"ratio_{case}"] = round(statistics.median(ratios), 3)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--database-url", help="an empty database instead of an embedded one")
    args = parser.parse_args()
    with database(args.database_url, "attendance_write") as dsn:
        result = loop.run(run(args, dsn))
    result["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "platform": platform.platform(),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
