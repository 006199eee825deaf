"""`passhub demo` against the four services on real NATS and PostgreSQL, through their HTTP APIs
only: in process (an httpx client per service), with a living year's figures checked, what
`make run`'s dev users find in it, and a second run that appends no event anywhere; and as the
command, against `passhub dev up` over real HTTP, then in the portal as the dev users, logged in
through the dev OIDC provider's form."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from passhub_attendance.service import service as attendance_service
from passhub_recognition.service import service as recognition_service
from passhub_recruitment.service import service as recruitment_service
from passhub_sessions.service import service as sessions_service
from passhub_shared.dev import devportal
from passhub_shared.dev.demo import run_demo
from passhub_shared.dev.demo.people import (
    KIOSK,
    KIOSK_ROOM,
    dev_leader,
    dev_logins,
    dev_student,
    schemes,
)
from passhub_shared.dev.devrun import SERVICES
from passhub_shared.operations.localtime import institution_timezone
from passhub_shared.storage.schema import events, outbox
from tests.kit.test_devrun import dev_up, get, wait_until
from tests.support import Harness, running_service

__all__ = ["dev_up"]  # the fixture, shared with the test of `passhub dev up`

CAMPUS = ZoneInfo(institution_timezone())
DEFINITIONS = {
    "recruitment": recruitment_service,
    "sessions": sessions_service,
    "attendance": attendance_service,
    "recognition": recognition_service,
}


@pytest.fixture
async def services(pg_server: Any, nats_url: str) -> AsyncIterator[dict[str, Harness]]:
    async with AsyncExitStack() as stack:
        running = {}
        for name, definition in DEFINITIONS.items():
            db = pg_server.create_database(f"demo_{name}_{uuid.uuid4().hex[:8]}")
            running[name] = await stack.enter_async_context(
                running_service(definition, db, nats_url)
            )
        yield running


async def event_counts(services: dict[str, Harness]) -> dict[str, tuple[int, int]]:
    """Per service: events in its log (its own and those it consumed), outbox rows left."""
    out = {}
    for name, h in services.items():
        async with h.runtime.engine.connect() as conn:
            logged = (await conn.execute(select(func.count()).select_from(events))).scalar_one()
            waiting = (await conn.execute(select(func.count()).select_from(outbox))).scalar_one()
        out[name] = (logged, waiting)
    return out


async def settled(services: dict[str, Harness], quiet: float = 3.0) -> dict[str, int]:
    """Wait until every outbox is empty and no log has grown for `quiet` seconds."""
    last: dict[str, tuple[int, int]] = {}
    since = asyncio.get_running_loop().time()
    deadline = since + 120
    while True:
        counts = await event_counts(services)
        now = asyncio.get_running_loop().time()
        if counts != last:
            last, since = counts, now
        elif now - since >= quiet and all(w == 0 for _, w in counts.values()):
            return {name: logged for name, (logged, _) in counts.items()}
        assert now < deadline, f"events still flowing after 120 s: {counts}"
        await asyncio.sleep(0.25)


async def test_the_demo_loads_a_living_year_and_a_second_run_changes_nothing(
    services: dict[str, Harness],
) -> None:
    clients = {name: h.client for name, h in services.items()}
    settings = services["sessions"].settings
    first = await run_demo(clients, settings)
    assert first.changed
    after_first = await settled(services)

    year = first.academic_year
    ses, att, rcg, rec = (
        services[n] for n in ("sessions", "attendance", "recognition", "recruitment")
    )
    coordinator = ses.auth("coordinator", "coord-test")
    now = datetime.now(UTC)

    # sessions: three schemes with weekly series, rostered in pairs, some today, some to come
    all_sessions: list[dict[str, Any]] = []
    for scheme in schemes():
        r = await ses.client.get(f"/schemes/{year}-{scheme.code}/sessions", headers=coordinator)
        assert r.status_code == 200
        all_sessions += r.json()
    assert len(all_sessions) >= 40
    upcoming = [s for s in all_sessions if datetime.fromisoformat(s["starts_at"]) > now]
    assert upcoming, "nothing to show under 'next'"
    past = [s for s in all_sessions if datetime.fromisoformat(s["ends_at"]) < now]
    assert all(len(s["leaders"]) == 2 for s in past), "past sessions back-filled in pairs"
    local_today = now.astimezone(CAMPUS).date()
    today = [
        s
        for s in all_sessions
        if datetime.fromisoformat(s["starts_at"]).astimezone(CAMPUS).date() == local_today
    ]
    assert any(s["room"].startswith("Library") for s in today), "no session today"
    assert first.live_session in {s["session_id"] for s in today}
    leaders = await rec.client.get("/leaders", params={"academic_year": year}, headers=coordinator)
    roles = [x["role"] for x in leaders.json()]
    assert roles.count("leader") == 18 and roles.count("organiser") == 1

    # attendance: every method, past sessions from the paper sheets, the live session
    methods: set[str] = set()
    attendances = led = 0
    for s in [*past, *today]:
        r = await att.client.get(f"/sessions/{s['session_id']}/attendances", headers=coordinator)
        rows = r.json()["attendances"]
        attendances += sum(a["active"] for a in rows)
        led += sum(a["active"] and a["role"] == "leader" for a in rows)
        methods |= {a["method"] for a in rows}
    assert attendances >= 4 * len(past)  # two leaders and a few students at least
    assert methods == {"import", "qr", "kiosk", "leader"}
    live = (
        await att.client.get(f"/sessions/{first.live_session}/attendances", headers=coordinator)
    ).json()["attendances"]
    assert sum(not a["active"] for a in live) == 1, "one corrected attendance"
    assert sum(a["role"] == "leader" for a in live) == 1, "the other leader signs in themselves"
    sheets = named = 0
    for s in past[:5]:
        r = await att.client.get(f"/sessions/{s['session_id']}/feedback", headers=coordinator)
        body = r.json()
        sheets += body["summary"]["responses"]
        named += sum(f["student_number"] is not None for f in body["feedback"])
    assert sheets >= 10 and 0 < named < sheets, (sheets, named)

    # recognition has heard of every leader's sign-in
    progress = await rcg.client.get(f"/progress/{year}", headers=coordinator)
    assert progress.status_code == 200 and len(progress.json()) >= 18
    delivered = sum(p["sessions_delivered"] for p in progress.json())
    assert delivered == led, "recognition counts every leader sign-in, after the events flowed"

    await dev_users_see_a_living_year(services, year, first.live_session)

    # a second run changes nothing: no service's log grows
    second = await run_demo(clients, settings)
    assert not second.changed, second.created
    assert await settled(services) == after_first


async def dev_users_see_a_living_year(
    services: dict[str, Harness], year: str, live_session: str | None
) -> None:
    """What `make run`'s dev users find after the demo, asked of the services as the portal
    asks them, each with their own token."""
    ses, att, rcg, rec = (
        services[n] for n in ("sessions", "attendance", "recognition", "recruitment")
    )
    student, leader = dev_student(), dev_leader()
    users = {u["sub"]: u for u in devportal.DEV_USERS}
    assert users["student"]["student_number"] == student.student_number
    assert users["leader"]["student_number"] == leader.student_number
    assert users["student"]["name"] == student.name
    now = datetime.now(UTC)
    local_today = now.astimezone(CAMPUS).date()
    coordinator = ses.auth("coordinator", "coord-test")

    # the leader: appointed, rostered on the session in progress (and the rest of today's),
    # with sessions delivered so far and not yet signed in today
    appointments = await rec.client.get(
        f"/people/{leader.student_number}/appointments", headers=rec.auth("integration", "x")
    )
    assert appointments.status_code == 200, appointments.text
    assert appointments.json(), "the dev leader is appointed"
    as_leader = ses.auth("leader", leader.student_number)
    mine = await ses.client.get(f"/leaders/{leader.student_number}/sessions", headers=as_leader)
    assert mine.status_code == 200, mine.text
    rostered_today = [
        r
        for r in mine.json()
        if r["rostered"]
        and datetime.fromisoformat(r["starts_at"]).astimezone(CAMPUS).date() == local_today
    ]
    assert live_session in {r["session_id"] for r in rostered_today}
    assert any(r["rostered"] and datetime.fromisoformat(r["starts_at"]) > now for r in mine.json())
    led = await att.client.get(
        f"/students/{leader.student_number}/attendance",
        headers=att.auth("leader", leader.student_number),
    )
    signed = [a for a in led.json()["attendances"] if a["role"] == "leader" and a["active"]]
    assert signed, "the dev leader has led sessions already"
    assert live_session not in {a["session_id"] for a in signed}, "left to sign in themselves"
    progress = await rcg.client.get(f"/progress/{year}", headers=coordinator)
    delivered = {p["student_number"]: p["sessions_delivered"] for p in progress.json()}
    assert delivered.get(leader.student_number, 0) == len(signed)

    # the student: a first-year in Physics who came to every session so far, gave named
    # feedback, has sessions to come, and is left to sign in to today's themselves
    as_student = att.auth("student", student.student_number)
    history = await att.client.get(
        f"/students/{student.student_number}/attendance", headers=as_student
    )
    came = [a for a in history.json()["attendances"] if a["active"] and a["role"] == "student"]
    assert len(came) >= 1
    assert live_session not in {a["session_id"] for a in came}
    named = 0
    for a in came[:3]:
        r = await att.client.get(f"/sessions/{a['session_id']}/feedback", headers=coordinator)
        named += sum(f["student_number"] == student.student_number for f in r.json()["feedback"])
    assert named == min(3, len(came)), "named feedback on each session they came to"
    (scheme_id,) = {a["scheme_id"] for a in came}
    coming = await att.client.get(
        "/sessions", params={"scheme_id": scheme_id, "start": now.isoformat()}, headers=as_student
    )
    assert any(datetime.fromisoformat(s["starts_at"]) > now for s in coming.json()) or any(
        s["session_id"] == live_session for s in coming.json()
    ), "a session today or to come"

    # the kiosk: its room has the session in progress, as the portal's kiosk page asks
    kiosk = att.auth("integration", KIOSK.student_number)
    on_now = await att.client.get(
        "/sessions",
        params={
            "room": KIOSK_ROOM,
            "start": now.isoformat(),
            "end": (now + timedelta(minutes=30)).isoformat(),
        },
        headers=kiosk,
    )
    assert live_session in {s["session_id"] for s in on_now.json() if not s["cancelled"]}


def test_passhub_demo_against_dev_up_over_http(
    dev_up: tuple[subprocess.Popen[bytes], Path, Path, int],
) -> None:
    """`make run` then `make demo`, as a newcomer types them: the command finds the services
    from var/passhub.env, loads the year over real HTTP, and a second run changes nothing."""
    proc, var, log, http = dev_up
    ports = {name: http + i for i, name in enumerate(SERVICES)}
    wait_until(
        "every service",
        lambda: all(get(f"http://127.0.0.1:{p}/healthz")[0] == 200 for p in ports.values()),
        proc,
        log,
    )
    written = dict(
        line.split("=", 1) for line in (var / "passhub.env").read_text().splitlines() if "=" in line
    )
    for name, port in ports.items():
        assert written[f"PASSHUB_{name.upper()}_URL"] == f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSHUB_")}
    env |= {"PASSHUB_ENV_FILE": str(var / "passhub.env"), "COLUMNS": "200"}
    passhub = str(Path(sys.executable).with_name("passhub"))
    runs = []
    for _ in range(2):
        done = subprocess.run(
            [passhub, "demo", "--quiet"], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
        runs.append(done.stdout)
    assert "loaded in" in runs[0], runs[0]
    assert "in progress now" in runs[0]
    assert "already loaded: nothing changed" in runs[1], runs[1]

    # it sends people to the portal, at its public address, as the dev users
    portal_port = http + len(SERVICES)
    public = f"http://pilot.example.test:{portal_port}"
    assert written["PASSHUB_PORTAL_PUBLIC_URL"] == public
    assert f"Open passhub: {public}" in runs[0], runs[0]
    live = re.search(rf"{re.escape(public)}/leader/sessions/([0-9a-f-]+)", runs[0])
    assert live, runs[0]
    for login in dev_logins():
        assert login.what in runs[0]

    # and there each dev user finds the year: logged in through the provider's form
    portal = Portal(f"http://127.0.0.1:{portal_port}", public)
    session_id = live.group(1)
    leader_home = portal.page("leader", "/leader")
    assert f"/leader/sessions/{session_id}" in leader_home
    assert "<svg" in portal.page("leader", f"/leader/sessions/{session_id}")
    my_pass = portal.page("student", "/me")
    assert "Physics PASS" in my_pass and dev_student().name in my_pass
    kiosk = portal.page("kiosk", "/kiosk")
    assert KIOSK_ROOM in kiosk and "Physics PASS" in kiosk


class Portal:
    """The portal over plain HTTP, logging in on the dev provider's form; the public address's
    links are followed on this machine."""

    def __init__(self, local: str, public: str) -> None:
        self.local, self.public = local, public

    def page(self, user: str, path: str) -> str:
        with httpx.Client(trust_env=False, timeout=30) as client:
            r = client.get(f"{self.local}/login", params={"next": path})
            for _ in range(10):
                if r.status_code not in (302, 303, 307):
                    break
                url = str(r.url.join(r.headers["location"]))
                if url.startswith(self.public):
                    url = self.local + url[len(self.public) :]
                if "/oauth2/authorize" in url:
                    r = client.post(url, data={"sub": user})
                else:
                    r = client.get(url)
            assert r.status_code == 200, (user, path, r.status_code, r.text[:2000])
            return r.text
