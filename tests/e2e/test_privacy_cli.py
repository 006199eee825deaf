"""The privacy commands over the four services' databases: `passhub retention run` (a dry run
lists who and why and changes nothing; a run erases them; a second run finds no one),
`passhub subject-access` (a JSON archive and an HTML summary of what every service holds),
and `passhub erase` (safe to repeat), each audited without the student number."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from passhub_shared.contracts.attendance import StudentSignedIn
from passhub_shared.operations import cli
from passhub_shared.operations.service import Runtime, installed_services, load_service
from tests.support import service_settings

OLD, RECENT = "S1990001", "S2026002"


@pytest.fixture
async def runtimes(
    pg_server: Any, nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[dict[str, Runtime]]:
    monkeypatch.setenv("PASSHUB_NATS_URL", nats_url)
    found: dict[str, Runtime] = {}
    for name in installed_services():
        db = pg_server.create_database(f"cli_{name}_{uuid.uuid4().hex[:8]}")
        monkeypatch.setenv(f"PASSHUB_{name.upper()}_DATABASE_URL", db)
        rt = Runtime(load_service(name), service_settings(db, nats_url))
        await rt.migrate()
        found[name] = rt
    yield found
    for rt in found.values():
        await rt.engine.dispose()


async def invoke(*args: str) -> Any:
    # in a thread: each command runs its own event loop
    return await asyncio.to_thread(CliRunner().invoke, cli.app, list(args))


async def audit_of(rt: Runtime) -> list[tuple[str, str, int]]:
    async with rt.engine.connect() as conn:
        rows = await conn.execute(text("SELECT action, reason, people FROM privacy_audit"))
        return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_retention_subject_access_and_erase_from_the_command_line(
    runtimes: dict[str, Runtime], tmp_path: Path
) -> None:
    att = runtimes["attendance"]
    long_ago = datetime(2019, 6, 1, tzinfo=UTC)
    async with att.transaction() as conn:
        for n, (who, when) in enumerate([(OLD, long_ago), (RECENT, datetime.now(UTC))]):
            await att.store.append(
                conn,
                f"attendance-s{n}/{await att.store.pseudonym(conn, who)}",
                0,
                [
                    StudentSignedIn(
                        session_id=f"s{n}",
                        scheme_id="2018-19-PHYS",
                        student_number=who,
                        signed_in_at=when,
                        method="kiosk",
                    )
                ],
                occurred_at=when,
            )

    dry = await invoke("retention", "run", "--dry-run", "--today", "2026-12-01", "--actor", "dpo")
    assert dry.exit_code == 0, dry.output
    assert OLD in dry.output and RECENT not in dry.output and "1 to erase" in dry.output
    assert await audit_of(att) == []  # a dry run changes nothing

    done = await invoke("retention", "run", "--today", "2026-12-01", "--actor", "dpo")
    assert done.exit_code == 0, done.output
    for rt in runtimes.values():
        assert [(a, p) for a, _, p in await audit_of(rt)] == [("retention", 1)]
        async with rt.engine.connect() as conn:
            dumped = (await conn.execute(text("SELECT subject FROM subject_keys"))).all()
        assert OLD not in str(dumped)
    again = await invoke("retention", "run", "--today", "2026-12-01", "--actor", "dpo")
    assert again.exit_code == 0 and "0 to erase" in again.output

    out = tmp_path / "sar"
    sar = await invoke("subject-access", RECENT, "--out", str(out), "--reason", "request 9")
    assert sar.exit_code == 0, sar.output
    (archive_path,) = out.glob("*.json")
    archive = json.loads(archive_path.read_text())
    held = archive["services"]["attendance"]
    assert held["status"] == "held"
    assert [e["data"]["student_number"] for e in held["events"]] == [RECENT]
    assert held["tables"]  # the attendance row naming them
    assert archive["services"]["recruitment"]["status"] == "unknown"
    (page,) = out.glob("*.html")
    assert RECENT in page.read_text() and "student signed in" in page.read_text()

    for _ in range(2):  # twice: safe
        erased = await invoke("erase", RECENT, "--reason", "asked", "--actor", "dpo")
        assert erased.exit_code == 0, erased.output
    async with att.engine.connect() as conn:
        raw = (await conn.execute(text("SELECT data::text FROM events"))).all()
        left = (await conn.execute(text("SELECT count(*) FROM subject_keys"))).scalar_one()
    assert RECENT not in str(raw) and left == 0
    actions = [a for a, _, _ in await audit_of(att)]
    assert actions == ["retention", "retention", "subject_access", "erasure", "erasure"]
    assert all(RECENT not in str(row) and OLD not in str(row) for row in await audit_of(att))
    no_reason = await invoke("erase", RECENT, "--reason", " ")
    assert no_reason.exit_code == 2


async def test_retention_keeps_each_kind_of_data_for_its_own_period(
    runtimes: dict[str, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sign-ins kept a year: someone who only signed in two years ago is due; someone who also
    has an enrolment imported since (records: the default six years) is kept for it."""
    from passhub_attendance.evaluation.events import EnrolmentRow, ModuleEnrolmentsImported

    only_signed_in, also_enrolled = "S2024101", "S2024102"
    att = runtimes["attendance"]
    signed_in_at = datetime(2024, 6, 1, tzinfo=UTC)
    async with att.transaction() as conn:
        for n, who in enumerate([only_signed_in, also_enrolled]):
            await att.store.append(
                conn,
                f"attendance-k{n}/{await att.store.pseudonym(conn, who)}",
                0,
                [
                    StudentSignedIn(
                        session_id=f"k{n}",
                        scheme_id="2023-24-PHYS",
                        student_number=who,
                        signed_in_at=signed_in_at,
                        method="kiosk",
                    )
                ],
                occurred_at=signed_in_at,
            )
        await att.store.append(
            conn,
            "evaluation-enrolments-2024-25",
            0,
            [
                ModuleEnrolmentsImported(
                    import_id="enrolments-2024-25",
                    academic_year="2024-25",
                    rows=[EnrolmentRow(student_number=also_enrolled, module="PHYS201")],
                )
            ],
            occurred_at=datetime(2024, 9, 1, tzinfo=UTC),
        )

    dry = await invoke("retention", "run", "--dry-run", "--today", "2026-12-01")
    assert dry.exit_code == 0, dry.output
    assert "0 to erase" in dry.output  # six years for everything by default

    monkeypatch.setenv("PASSHUB_RETENTION_YEARS_BY_KIND", '{"sign_ins": 1}')
    dry = await invoke("retention", "run", "--dry-run", "--today", "2026-12-01")
    assert dry.exit_code == 0, dry.output
    assert only_signed_in in dry.output and "sign_ins" in dry.output
    assert also_enrolled not in dry.output and "1 to erase" in dry.output

    done = await invoke("retention", "run", "--today", "2026-12-01", "--actor", "dpo")
    assert done.exit_code == 0, done.output
    async with att.engine.connect() as conn:
        kept = (await conn.execute(text("SELECT subject FROM subject_keys"))).scalars().all()
    assert kept == [also_enrolled]

    monkeypatch.setenv("PASSHUB_RETENTION_YEARS_BY_KIND", '{"comments": 1}')
    refused = await invoke("retention", "run", "--dry-run")
    assert refused.exit_code != 0
    assert "unknown kind" in refused.output
