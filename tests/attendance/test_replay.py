"""After a realistic flow, rebuilding the read models from the log gives the same rows."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import update

from passhub_attendance.tables import attendances
from passhub_shared.contracts.recruitment import LeaderAppointed, LeaderStoodDown
from passhub_shared.contracts.sessions import LeaderUnrostered, SchemeAmended, SessionRescheduled
from passhub_shared.operations.replay import rebuild
from tests.attendance.helpers import (
    SCHEME,
    as_received,
    as_sessions_event,
    cancelled,
    given,
    given_session,
    now,
)
from tests.support import Harness


def organiser_appointed(student_number: str) -> LeaderAppointed:
    return LeaderAppointed(
        student_number=student_number,
        name="An Organiser",
        email="organiser@example.ac.uk",
        academic_year="2026-27",
        role="organiser",
        schemes=[SCHEME],
        appointed_on=date(2026, 9, 1),
    )


async def test_replay_rebuilds_identical_read_models(h: Harness) -> None:
    await given_session(h, "S1")
    await given_session(h, "S2", starts_at=now() - timedelta(hours=3))
    await given_session(h, "S3")
    await given(
        h,
        as_sessions_event(
            SessionRescheduled(
                session_id="S1",
                scheme_id=SCHEME,
                starts_at=now() - timedelta(minutes=20),
                ends_at=now() + timedelta(minutes=40),
                room="P/T/101",
                capacity=25,
                reason="bigger room",
            ),
            "session-S1",
        ),
        as_sessions_event(
            LeaderUnrostered(session_id="S1", scheme_id=SCHEME, student_number="L200"),
            "session-S1",
        ),
    )
    kiosk = h.auth("integration", "kiosk")
    for student in ("1001", "1002", "1003", "1004"):
        await h.client.post("/sessions/S1/kiosk", json={"student_number": student}, headers=kiosk)
        await h.client.post("/sessions/S3/kiosk", json={"student_number": student}, headers=kiosk)
    await h.client.post("/sessions/S1/leader-sign-in", headers=h.auth("leader", "L100"))
    await h.client.post(
        "/sessions/S1/attendances/1002/revoke",
        json={"reason": "not in the room"},
        headers=h.auth("leader", "L100"),
    )
    await h.client.post(
        "/sessions/S1/kiosk", json={"student_number": "1002"}, headers=kiosk
    )  # back in the room
    await h.client.post(
        "/sessions/S1/attendances/1003/revoke",
        json={"reason": "left early"},
        headers=h.auth("coordinator", "c1"),
    )
    sheet = "session_id,student_number\nS2,2001\nS2,2002\nS2,L100\n"
    r = await h.client.post("/imports", content=sheet.encode(), headers=h.auth("coordinator"))
    assert r.status_code == 200, r.text
    rating = {"understanding": 4, "enjoyable": 5, "recommend": 4}
    await h.client.post("/sessions/S1/feedback", json=rating, headers=h.auth("student", "1001"))
    await h.client.post(
        "/sessions/S1/feedback",
        json=rating | {"anonymous": True, "comment": "more examples"},
        headers=h.auth("student", "1004"),
    )
    await given(h, cancelled("S3"))
    # who organises what: amended, appointed, appointed and stood down
    await given(
        h,
        as_received(
            SchemeAmended(
                scheme_id=SCHEME,
                coordinator="c1",
                organisers=["o2", "o3"],
                min_leaders_per_session=2,
            ),
            f"scheme-{SCHEME}",
        ),
        as_received(organiser_appointed("s-org"), "leader-s-org"),
        as_received(organiser_appointed("s-gone"), "leader-s-gone"),
        as_received(
            LeaderStoodDown(
                student_number="s-gone",
                academic_year="2026-27",
                schemes=[SCHEME],
                effective_from=date(2026, 11, 1),
            ),
            "leader-s-gone",
        ),
    )

    report = await rebuild(h.runtime.engine, h.runtime.store, commit=False)
    assert report.events > 30
    assert report.identical, report.differing_tables
    assert report.before["attendance_scheme_organisers"].startswith("3:")
    assert report.before["attendance_attendances"].startswith("12:")
    assert report.before["attendance_feedback"].startswith("2:")

    # The check can fail: a row edited behind the log's back is found.
    async with h.runtime.transaction() as conn:
        await conn.execute(
            update(attendances).where(attendances.c.student_number == "1001").values(method="x")
        )
    report = await rebuild(h.runtime.engine, h.runtime.store, commit=False)
    assert not report.identical
    assert report.differing_tables == ["attendance_attendances"]

    # As an operator runs it: the check finds the drift, a replay repairs it, and folds held to
    # a handful of rows (written early, the rest applied) give the same tables.
    async def passhub(*args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "PASSHUB_ATTENDANCE_DATABASE_URL": h.runtime.settings.database_url,
            "COLUMNS": "200",
        }
        command = [str(Path(sys.executable).parent / "passhub"), *args]
        return await asyncio.to_thread(
            subprocess.run, command, capture_output=True, text=True, env=env, timeout=120
        )

    checked = await passhub("replay", "attendance", "--check", "--fold-limit", "4")
    assert checked.returncode == 1 and "differs: attendance_attendances" in checked.stdout
    repaired = await passhub("replay", "attendance", "--fold-limit", "4")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "committed" in repaired.stdout and "write folds" in repaired.stdout
    again = await passhub("replay", "attendance", "--check")
    assert again.returncode == 0, again.stdout
    report = await rebuild(h.runtime.engine, h.runtime.store, commit=False)
    assert report.identical and report.before["attendance_attendances"].startswith("12:")
