"""`passhub republish attendance`, as an operator runs it: the attendance stream is deleted
after a morning of sign-ins; the command (with its progress bar) restores it from the service's
log while the service runs, and an outside subscriber reading from the start with plain nats-py
sees each sign-in once, in order per session."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nats
from sqlalchemy import text

from bench.checkin import schedule
from passhub_attendance.domain.qr import QrCodes
from passhub_attendance.service import service
from tests.cluster.support import ROOT, assert_once_in_order, read_all
from tests.support import SECRET_ENV, open_sealed, running_service, service_settings, wait_for

SESSIONS = 5
STUDENTS = 20


async def test_republish_restores_a_deleted_attendance_stream(
    database_url: str, nats_url: str
) -> None:
    settings = service_settings(database_url, nats_url)
    settings.service = "attendance"
    await schedule(settings, ["rp"], SESSIONS)
    codes = QrCodes(SECRET_ENV["PASSHUB_ATTENDANCE_QR_SECRET"], timedelta(seconds=60))
    async with running_service(service, database_url, nats_url, relay_poll_seconds=0.1) as app:
        for n in range(STUDENTS):
            for s in range(SESSIONS):
                session_id = f"rp{s:04d}"
                answer = await app.client.post(
                    f"/sessions/{session_id}/sign-in",
                    json={"code": codes.issue(session_id, datetime.now(UTC))},
                    headers=app.auth("student", f"S{s}{n:03d}"),
                )
                assert answer.status_code == 201, answer.text

        async def published() -> bool:
            async with app.runtime.engine.connect() as conn:
                return (await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one() == 0

        await wait_for(published)
        async with app.runtime.engine.connect() as conn:
            logged = (
                await conn.execute(text("SELECT count(*) FROM events WHERE origin = 'attendance'"))
            ).scalar_one()
        nc = await nats.connect(nats_url)
        try:
            await nc.jetstream().delete_stream("PASSHUB_ATTENDANCE")
        finally:
            await nc.close()

        done = await asyncio.to_thread(
            subprocess.run,
            [str(Path(sys.executable).parent / "passhub"), "republish", "attendance"],
            cwd=ROOT,
            env={
                **os.environ,
                "PASSHUB_ENV_FILE": "/nonexistent",
                "PASSHUB_ATTENDANCE_DATABASE_URL": database_url,
                "PASSHUB_NATS_URL": nats_url,
                "COLUMNS": "120",
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "publishing" in done.stdout and "the stream was created" in done.stdout
        assert f"{logged} published again" in done.stdout, done.stdout

        messages = await read_all(nats_url, "PASSHUB_ATTENDANCE")
        assert len(messages) == logged
        assert_once_in_order(messages)
        signed = [m for m in messages if m["type"] == "passhub.attendance.student_signed_in.v1"]
        assert len(signed) == SESSIONS * STUDENTS
        by_session: dict[str, list[str]] = {}
        nc = await nats.connect(nats_url)
        try:  # student numbers are sealed: opened as an authorised integration opens them
            js = nc.jetstream()
            for m in signed:
                number = await open_sealed(js, "attendance", m["data"]["student_number"])
                by_session.setdefault(m["data"]["session_id"], []).append(number)
        finally:
            await nc.close()
        # in the order they signed in, per session
        assert all(students == sorted(students) for students in by_session.values())
        assert len(by_session) == SESSIONS
