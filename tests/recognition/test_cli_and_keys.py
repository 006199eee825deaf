"""The operator commands, and a signing key configured as a file."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from passhub_recognition.cli import app
from passhub_recognition.service import service
from passhub_recognition.signing import IssuerKey, key_from_file
from passhub_shared.operations.service import Runtime
from tests.recognition.builders import YEAR, appointed, delivered, launched, trained
from tests.recognition.feed import LocalFeed
from tests.support import running_service, service_settings


def test_keygen_writes_a_private_key_once(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "recognition.pem"
    result = CliRunner().invoke(app, ["keygen", str(path)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key_from_file(str(path))  # an Ed25519 key
    assert CliRunner().invoke(app, ["keygen", str(path)]).exit_code != 0
    assert CliRunner().invoke(app, ["keygen", str(path), "--force"]).exit_code == 0


async def test_a_configured_key_file_signs_and_is_published(
    database_url: str, nats_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "recognition.pem"
    assert CliRunner().invoke(app, ["keygen", str(path)]).exit_code == 0
    monkeypatch.setenv("PASSHUB_RECOGNITION_SIGNING_KEY_PATH", str(path))
    monkeypatch.setenv("PASSHUB_RECOGNITION_PUBLIC_BASE_URL", "https://pass.example.ac.uk")
    expected = IssuerKey(key_from_file(str(path)), "did:web:pass.example.ac.uk")
    async with running_service(service, database_url, nats_url) as h:
        jwks = (await h.client.get("/.well-known/jwks.json")).json()
        assert jwks["keys"][0]["x"] == expected.public_jwk["x"]
        assert jwks["keys"][0]["kid"] == expected.kid
        async with h.runtime.engine.connect() as conn:
            stored = (await conn.execute(text("SELECT count(*) FROM rec_signing_keys"))).scalar()
        assert stored == 0  # nothing kept in the database when a file is configured


def test_the_awards_run_from_the_command_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def prepare() -> None:
        runtime = Runtime(service, service_settings(database_url, "nats://127.0.0.1:1"))
        await runtime.migrate()
        await LocalFeed(runtime).apply(
            [launched(), appointed("S1"), trained("S1"), *delivered(8, "S1")]
        )
        await runtime.engine.dispose()

    asyncio.run(prepare())
    monkeypatch.setenv("PASSHUB_RECOGNITION_DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["run", YEAR])
    assert result.exit_code == 0, result.output
    assert "1 leaders, 3 granted, 0 withheld, 0 unchanged" in result.output
    again = CliRunner().invoke(app, ["run", YEAR])
    assert "0 granted, 0 withheld, 1 unchanged" in again.output
    assert CliRunner().invoke(app, ["run", "2026"]).exit_code != 0
