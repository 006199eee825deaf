"""A leader's year through all four services, on real NATS and PostgreSQL, talking only through
events: recruited and trained (recruitment), rostered (sessions), signing in at the sessions
they lead (attendance), recognised at the awards run (recognition); then one sign-in is
corrected away and the awards that depended on it are withdrawn."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from passhub_attendance.service import service as attendance_service
from passhub_recognition.service import service as recognition_service
from passhub_recruitment.queries import launched_schemes
from passhub_recruitment.service import service as recruitment_service
from passhub_sessions.service import service as sessions_service
from tests.recognition.runs import run_awards
from tests.support import Harness, read_stream, running_service, wait_for

LEADER = "S2400042"
SESSIONS = 8  # the default policy's minimum
CAMPUS = ZoneInfo("Europe/London")  # the sessions service's default time zone


def past_session_starts(now: datetime, count: int) -> list[datetime]:
    """`count` hourly sessions, ended before `now`, within the late sign-in window, and all on
    one local day: a session across midnight fits no one's weekday availability."""
    local = now.astimezone(CAMPUS)
    if local.hour > count:
        return [now - timedelta(hours=k) for k in range(count, 0, -1)]
    noon = (local - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    return [(noon + timedelta(hours=k)).astimezone(UTC) for k in range(count)]


def academic_year(now: datetime) -> str:
    start = now.year if now.month >= 8 else now.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


@pytest.fixture
async def services(
    pg_server: Any, nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[dict[str, Harness]]:
    # Leaders sign in after the fact here: their sessions are in the last few hours.
    monkeypatch.setenv("PASSHUB_ATTENDANCE_LATE_MINUTES", str(24 * 60))
    definitions = {
        "recruitment": recruitment_service,
        "sessions": sessions_service,
        "attendance": attendance_service,
        "recognition": recognition_service,
    }
    async with AsyncExitStack() as stack:
        running = {}
        for name, definition in definitions.items():
            db = pg_server.create_database(f"e2e_{name}_{uuid.uuid4().hex[:8]}")
            running[name] = await stack.enter_async_context(
                running_service(definition, db, nats_url)
            )
        yield running


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def test_a_leaders_year_from_application_to_withdrawn_award(
    services: dict[str, Harness], nats_url: str
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    year = academic_year(now)
    scheme = f"{year}-PHYS"
    rec, ses, att, rcg = (
        services[n] for n in ("recruitment", "sessions", "attendance", "recognition")
    )
    coordinator = rec.auth("coordinator", "coord-1")

    # -- recruitment: campaign, records, application, assessment, training, appointment -----
    await ok(
        await rec.client.post(
            "/campaigns",
            json={"academic_year": year, "participating_schools": ["Physics"]},
            headers=coordinator,
        ),
        201,
    )
    csv = (
        "student_number,name,email,school,programme,level,year_of_study,year1_mark,year2_mark\n"
        f"{LEADER},Ada Lovelace,ada@example.ac.uk,Physics,BSc Physics,UG,2,71.5,\n"
    )
    await ok(
        await rec.client.post(
            "/records/imports",
            content=csv.encode(),
            headers={**coordinator, "Content-Type": "text/csv"},
        ),
        201,
    )
    application = await ok(
        await rec.client.post(
            f"/campaigns/{year}/applications",
            json={
                "name": "Ada Lovelace",
                "email": "ada@example.ac.uk",
                "school": "Physics",
                "level": "undergraduate",
                "year_of_study": 2,
                "preferred_schemes": [scheme],
                "statement": "PASS got me through first year; I want to give that back.",
            },
            headers=rec.auth("student", LEADER),
        ),
        201,
    )
    application_id = application["application_id"]
    detail = await ok(await rec.client.get(f"/applications/{application_id}", headers=coordinator))
    pending = [c["code"] for c in detail["criteria"] if c["met"] is None]
    await ok(
        await rec.client.post(
            f"/applications/{application_id}/assessments",
            json={"outcomes": [{"code": c, "met": True, "note": "training day"} for c in pending]},
            headers=coordinator,
        )
    )
    await ok(
        await rec.client.post(
            "/training-sessions",
            json={
                "training_id": "core-1",
                "academic_year": year,
                "title": "Core training",
                "held_on": (now - timedelta(days=30)).date().isoformat(),
                "hours": "6",
            },
            headers=coordinator,
        ),
        201,
    )
    await ok(
        await rec.client.post(
            "/training-sessions/core-1/completions",
            json={"completions": [{"student_number": LEADER}]},
            headers=coordinator,
        )
    )

    # -- sessions: the scheme, eight past sessions today, the leader rostered -----------------
    await ok(
        await ses.client.post(
            "/schemes",
            json={
                "code": "PHYS",
                "title": "Physics PASS",
                "school": "Physics",
                "academic_year": year,
                "mode": "opt_in",
                "modules": ["PHY1001"],
            },
            headers=coordinator,
        ),
        201,
    )

    # recruitment appoints only to schemes whose launch it has consumed: wait for it
    async def launch_reached_recruitment() -> bool:
        async with rec.runtime.engine.connect() as conn:
            return scheme in await launched_schemes(conn, [scheme])

    await wait_for(launch_reached_recruitment, timeout=20)
    await ok(
        await rec.client.post(
            f"/applications/{application_id}/appointments",
            json={
                "role": "leader",
                "schemes": [scheme],
                "appointed_on": (now - timedelta(days=60)).date().isoformat(),
            },
            headers=coordinator,
        )
    )

    async def appointed_in_sessions() -> bool:
        r = await ses.client.get(f"/schemes/{scheme}/leaders", headers=coordinator)
        return r.status_code == 200 and any(x["student_number"] == LEADER for x in r.json())

    await wait_for(appointed_in_sessions, timeout=30)
    days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    await ok(
        await ses.client.put(
            f"/leaders/{LEADER}/availability/{year}",
            json={"slots": [{"weekday": d, "starts": "00:00", "ends": "23:59"} for d in days]},
            headers=coordinator,
        )
    )
    session_ids = []
    for starts in past_session_starts(now, SESSIONS):
        created = await ok(
            await ses.client.post(
                f"/schemes/{scheme}/sessions",
                json={
                    "starts_at": starts.isoformat(),
                    "ends_at": (starts + timedelta(minutes=50)).isoformat(),
                    "room": "Physics 1.02",
                    "capacity": 40,
                },
                headers=coordinator,
            ),
            201,
        )
        session_id = created["session_id"]
        session_ids.append(session_id)
        await ok(
            await ses.client.post(
                f"/sessions/{session_id}/leaders",
                json={"student_number": LEADER},
                headers=coordinator,
            ),
            201,
        )

    # -- attendance: the rostered leader signs in at each session ------------------------------
    leader = att.auth("leader", LEADER)

    async def attendance_knows_the_rota() -> bool:
        for session_id in session_ids:
            r = await att.client.post(f"/sessions/{session_id}/leader-sign-in", headers=leader)
            if r.status_code not in (200, 201):
                return False
        return True

    await wait_for(attendance_knows_the_rota, timeout=30)

    # -- recognition: the awards run grants the certificate, PSA and HEAR entries -------------
    rc = rcg.auth("coordinator", "coord-1")

    async def recognition_sees_eight() -> bool:
        r = await rcg.client.get(f"/progress/{year}/leaders/{LEADER}", headers=rc)
        if r.status_code != 200:
            return False
        return f"{SESSIONS} of {SESSIONS} sessions delivered" in r.text

    await wait_for(recognition_sees_eight, timeout=30)
    run = await run_awards(rcg.client, year, rc)
    assert run["granted"] == 3, run
    again = await run_awards(rcg.client, year, rc)
    assert again["granted"] == 0, "the run is idempotent"

    async def published(kind: str, n: int) -> bool:
        events = await read_stream(nats_url, "PASSHUB_RECOGNITION", timeout=0.5)
        return sum(e["type"] == f"passhub.recognition.{kind}.v1" for e in events) >= n

    await wait_for(lambda: published("award_granted", 3), timeout=30)
    granted = [
        e
        for e in await read_stream(nats_url, "PASSHUB_RECOGNITION")
        if e["type"] == "passhub.recognition.award_granted.v1"
    ]
    assert sorted(e["data"]["kind"] for e in granted) == ["certificate", "hear", "psa"]
    assert all(e["data"]["student_number"] == LEADER for e in granted)
    assert all(e["data"]["sessions_delivered"] == SESSIONS for e in granted)
    code = next(e["data"]["verification_code"] for e in granted if e["data"]["kind"] == "hear")
    verified = await ok(await rcg.client.get(f"/verify/{code}.json"))
    assert verified["status"] == "valid", verified

    # -- a correction: one leader sign-in revoked, the awards that needed it withdrawn --------
    await ok(
        await att.client.post(
            f"/sessions/{session_ids[0]}/attendances/{LEADER}/revoke",
            json={"reason": "signed in by mistake: the session was covered by someone else"},
            headers=att.auth("coordinator", "coord-1"),
        )
    )
    await wait_for(lambda: published("award_withdrawn", 3), timeout=30)
    withdrawn = [
        e
        for e in await read_stream(nats_url, "PASSHUB_RECOGNITION")
        if e["type"] == "passhub.recognition.award_withdrawn.v1"
    ]
    assert sorted(e["data"]["kind"] for e in withdrawn) == ["certificate", "hear", "psa"]
    after = await ok(await rcg.client.get(f"/verify/{code}.json"))
    assert after["status"] == "withdrawn", after

    # every service's projections equal a replay of its own log
    from passhub_shared.operations.replay import rebuild

    for name, harness in services.items():
        report = await rebuild(harness.runtime.engine, harness.runtime.store, commit=False)
        assert report.identical, (name, report.differing_tables)
