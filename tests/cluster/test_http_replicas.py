"""Two replicas of the attendance service's HTTP side (two apps, each with its own connection
pool, group commit and relay) on one database: they share nothing but PostgreSQL. A code one
replica's leader page would show signs in on the other; the same student signing in on both at
once is recorded once (one 201, one 200), and each sign-in reaches the stream once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bench.checkin import schedule
from passhub_attendance.domain.qr import QrCodes
from passhub_attendance.service import service
from tests.support import SECRET_ENV, read_stream, running_service, service_settings, wait_for

SESSIONS = 4
STUDENTS = 30


async def test_two_replicas_record_each_sign_in_once(database_url: str, nats_url: str) -> None:
    settings = service_settings(database_url, nats_url)
    settings.service = "attendance"
    await schedule(settings, ["hr"], SESSIONS)
    codes = QrCodes(SECRET_ENV["PASSHUB_ATTENDANCE_QR_SECRET"], timedelta(seconds=60))
    async with (
        running_service(service, database_url, nats_url, relay_poll_seconds=0.1) as a,
        running_service(service, database_url, nats_url, relay_poll_seconds=0.1) as b,
    ):
        assert a.runtime.relay is not None and b.runtime.relay is not None

        async def sign_in(replica, session_id: str, student: str) -> int:  # type: ignore[no-untyped-def]
            answer = await replica.client.post(
                f"/sessions/{session_id}/sign-in",
                json={"code": codes.issue(session_id, datetime.now(UTC))},
                headers=replica.auth("student", student),
            )
            return int(answer.status_code)

        calls = []
        for s in range(SESSIONS):
            for n in range(STUDENTS):
                session_id, student = f"hr{s:04d}", f"S{s}{n:03d}"
                calls += [sign_in(a, session_id, student), sign_in(b, session_id, student)]
        statuses = await asyncio.gather(*calls)
        pairs = Counter(tuple(sorted(statuses[i : i + 2])) for i in range(0, len(statuses), 2))
        assert pairs == {(200, 201): SESSIONS * STUDENTS}, pairs

        async with a.runtime.engine.connect() as conn:
            rows = (
                await conn.execute(text("SELECT count(*) FROM attendance_attendances WHERE active"))
            ).scalar_one()
            signed = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM events "
                        "WHERE type = 'passhub.attendance.student_signed_in.v1'"
                    )
                )
            ).scalar_one()
        assert rows == signed == SESSIONS * STUDENTS
        assert [a.runtime.relay.is_leader, b.runtime.relay.is_leader].count(True) == 1

        async def published() -> bool:
            async with a.runtime.engine.connect() as conn:
                left = (await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one()
            return left == 0

        await wait_for(published, timeout=30)
        messages = [
            m
            for m in await read_stream(nats_url, "PASSHUB_ATTENDANCE")
            if m["type"] == "passhub.attendance.student_signed_in.v1"
        ]
        assert len(messages) == len({m["id"] for m in messages}) == SESSIONS * STUDENTS
