"""`passhub privacy erase` and `passhub privacy subject-access`: one command, over real HTTP,
reaches the four running services' privacy routes and says per service what was done; a
service that does not answer is reported and the others go ahead; run again, it completes."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import text
from typer.testing import CliRunner

from passhub_shared.contracts.attendance import StudentSignedIn
from passhub_shared.dev.devservers import free_port
from passhub_shared.operations import cli
from tests.e2e.test_leader_year import services  # noqa: F401  (the four services running)
from tests.support import Harness, wait_for

PERSON = "S2607311"


@contextlib.asynccontextmanager
async def served(harness: Harness) -> AsyncIterator[str]:
    """The service's app (already started) on a real port, in this event loop."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(harness.app, port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())

    async def started() -> bool:
        return server.started

    await wait_for(started, timeout=10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def invoke(*args: str) -> Any:
    # in a thread: the command runs its own event loop while this one serves the services
    return await asyncio.to_thread(CliRunner().invoke, cli.app, list(args))


async def test_one_command_erases_and_exports_a_person_across_every_service(
    services: dict[str, Harness],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    att = services["attendance"].runtime
    async with att.transaction() as conn:
        await att.store.append(
            conn,
            f"attendance-s1/{await att.store.pseudonym(conn, PERSON)}",
            0,
            [
                StudentSignedIn(
                    session_id="s1",
                    scheme_id="2026-27-PHYS",
                    student_number=PERSON,
                    signed_in_at=datetime.now(UTC),
                    method="kiosk",
                )
            ],
        )
    token = services["attendance"].token("coordinator", "dpo-1")
    monkeypatch.setenv("PASSHUB_TOKEN", token)
    async with contextlib.AsyncExitStack() as stack:
        for name, harness in services.items():
            url = await stack.enter_async_context(served(harness))
            monkeypatch.setenv(f"PASSHUB_{name.upper()}_URL", url)

        out = tmp_path / "sar"
        sar = await invoke(
            "privacy", "subject-access", PERSON, "--reason", "request 12", "--out", str(out)
        )
        assert sar.exit_code == 0, sar.output
        (archive_path,) = out.glob("*.json")
        archive = json.loads(archive_path.read_text())
        assert sorted(archive["services"]) == sorted(services)
        held = archive["services"]["attendance"]
        assert held["status"] == "held"
        assert [e["data"]["student_number"] for e in held["events"]] == [PERSON]
        assert archive["services"]["recruitment"]["status"] == "unknown"
        (page,) = out.glob("*.html")
        assert PERSON in page.read_text()

        # recognition does not answer: the others erase, the command says so and fails
        monkeypatch.setenv("PASSHUB_RECOGNITION_URL", f"http://127.0.0.1:{free_port()}")
        partial = await invoke("privacy", "erase", PERSON, "--reason", "asked", "--json")
        assert partial.exit_code == 1, partial.output
        report = {o["service"]: o for o in json.loads(partial.output.split("\nnot done")[0])}
        assert report["recognition"]["done"] is False
        assert report["recognition"]["status"] is None
        assert "not reached" in report["recognition"]["error"]
        assert report["attendance"]["done"] is True
        assert report["attendance"]["report"]["keys_deleted"] == 1
        assert report["sessions"]["report"]["keys_deleted"] == 0  # unknown there: a tombstone
        assert "recognition" in partial.output.split("not done")[1]

        monkeypatch.setenv("PASSHUB_RECOGNITION_URL", url)  # answering again: served last
        again = await invoke("privacy", "erase", PERSON, "--reason", "asked", "--json")
        assert again.exit_code == 0, again.output
        report = {o["service"]: o for o in json.loads(again.output)}
        assert all(o["done"] for o in report.values())
        assert report["attendance"]["report"]["keys_deleted"] == 0  # already done: safe

        bad = await invoke("privacy", "erase", PERSON, "--reason", " ")
        assert bad.exit_code == 2
        refused = await invoke(
            "privacy", "erase", PERSON, "--reason", "asked", "--token", "not-a-token", "--json"
        )
        assert refused.exit_code == 1
        assert {o["status"] for o in json.loads(refused.output.split("\nnot done")[0])} == {401}

    for harness in services.values():
        async with harness.runtime.engine.connect() as conn:
            rows = (await conn.execute(text("SELECT action, people FROM privacy_audit"))).all()
        erasures = [r for r in rows if r[0] == "erasure"]
        assert len(erasures) == (1 if harness is services["recognition"] else 2)
    async with att.engine.connect() as conn:
        raw = (await conn.execute(text("SELECT data::text FROM events"))).all()
    assert PERSON not in str(raw)
