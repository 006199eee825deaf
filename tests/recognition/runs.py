"""Awards runs and certificate batches through HTTP: start one, follow it until it is done."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

FINISHED = ("done", "failed")


async def follow(
    client: httpx.AsyncClient, location: str, headers: dict[str, str], timeout: float = 60
) -> dict[str, Any]:
    """Poll a job at `location` until it is done or failed: its last state."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        state = await client.get(location, headers=headers)
        assert state.status_code == 200, state.text
        if state.json()["state"] in FINISHED:
            return dict(state.json())
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{location} not finished within {timeout}s: {state.json()}")
        await asyncio.sleep(0.05)


async def run_awards(
    client: httpx.AsyncClient, year: str, headers: dict[str, str]
) -> dict[str, Any]:
    """Start the awards run of `year`, wait until it is done: what it decided (the summary the
    run answers once done)."""
    started = await client.post("/awards/runs", json={"academic_year": year}, headers=headers)
    assert started.status_code == 202, started.text
    assert started.headers["location"] == f"/awards/runs/{started.json()['run_id']}"
    run = await follow(client, started.headers["location"], headers)
    assert run["state"] == "done", run
    return dict(run["result"])


async def certificate_batch(
    client: httpx.AsyncClient, year: str, headers: dict[str, str]
) -> httpx.Response:
    """Make the year's certificate batch and download its PDF."""
    started = await client.post(f"/certificates/{year}/batches", headers=headers)
    assert started.status_code == 202, started.text
    batch = await follow(client, started.headers["location"], headers)
    assert batch["state"] == "done", batch
    return await client.get(batch["pdf"], headers=headers)
