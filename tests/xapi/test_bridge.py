"""Attendance through NATS and the bridge into a real LRS (Ralph), read back from its own
`GET /xAPI/statements`: every way of signing in, a revocation voiding, feedback kept out."""

from __future__ import annotations

import asyncio
import json
import sys

import nats

from passhub_attendance.service import service
from passhub_xapi.settings import BridgeSettings
from tests.attendance.helpers import now, publish, scheme_launched, session_events
from tests.support import read_stream, running_service, wait_for
from tests.xapi.flow import (
    assert_same,
    attendance_events,
    bridge_running,
    consumer_drained,
    expected_attended,
    expected_voiding,
    kiosk,
    known,
    ours,
    schedule,
    statement_id,
    until_statements,
)
from tests.xapi.ralph import Ralph


async def test_every_sign_in_a_revocation_and_feedback_reach_the_lrs_once(
    database_url: str, nats_url: str, ralph: Ralph, bridge_settings: BridgeSettings
) -> None:
    sessions = await schedule(nats_url, "S1")
    async with running_service(service, database_url, nats_url) as h:
        await wait_for(lambda: known(h, "S1"))
        # QR: the leader's code, scanned by the student
        r = await h.client.get("/sessions/S1/qr-code", headers=h.auth("leader", "L100"))
        code = r.json()["code"]
        r = await h.client.post(
            "/sessions/S1/sign-in", json={"code": code}, headers=h.auth("student", "1001")
        )
        assert r.status_code == 201, r.text
        await kiosk(h, "S1", "1002")  # kiosk
        r = await h.client.post(  # a leader adds a student in the room
            "/sessions/S1/attendances",
            json={"student_number": "1003"},
            headers=h.auth("leader", "L200"),
        )
        assert r.status_code == 201, r.text
        sheet = f"session_id,student_number,signed_in_at\nS1,1004,{(now()).isoformat()}\n"
        r = await h.client.post(  # a paper sheet typed in
            "/imports",
            content=sheet.encode(),
            headers=h.auth("coordinator", "c1") | {"content-type": "text/csv"},
        )
        assert r.status_code == 200, r.text
        r = await h.client.post("/sessions/S1/leader-sign-in", headers=h.auth("leader", "L100"))
        assert r.status_code == 201, r.text
        r = await h.client.post(
            "/sessions/S1/attendances/1002/revoke",
            json={"reason": "signed in for a friend"},
            headers=h.auth("coordinator", "c1"),
        )
        assert r.status_code == 200, r.text
        for student, anonymous in (("1001", False), ("1003", True)):
            r = await h.client.post(
                "/sessions/S1/feedback",
                json={
                    "understanding": 5,
                    "enjoyable": 4,
                    "recommend": 5,
                    "comment": "the worked examples helped",
                    "anonymous": anonymous,
                },
                headers=h.auth("student", student),
            )
            assert r.status_code == 201, r.text
        # 4 sign-ins, a leader's sign-in, a revocation, two feedback sheets
        events = await attendance_events(nats_url, 8)

    signed = {e["data"]["student_number"]: e for e in events if "student_signed_in" in e["type"]}
    [revoked] = [e for e in events if "attendance_revoked" in e["type"]]
    session = sessions["S1"]
    expected = [
        expected_attended(bridge_settings, signed["1001"], session, "qr"),
        expected_attended(bridge_settings, signed["1002"], session, "kiosk"),
        expected_attended(bridge_settings, signed["1003"], session, "leader"),
        expected_attended(bridge_settings, signed["1004"], session, "paper"),
        expected_voiding(bridge_settings, revoked, statement_id(signed["1002"]["id"])),
    ]

    async with bridge_running(bridge_settings):
        got = await until_statements(ralph, bridge_settings, len(expected))
        await wait_for(lambda: consumer_drained(bridge_settings))
    assert_same(got, expected)
    # feedback, named or anonymous, never reaches the LRS; nor does the comment
    assert "the worked examples helped" not in json.dumps(got)
    assert not any("feedback" in json.dumps(s) for s in got)


async def test_a_statement_the_lrs_rejects_is_parked_and_those_behind_it_go_through(
    database_url: str, nats_url: str, ralph: Ralph, bridge_settings: BridgeSettings
) -> None:
    await schedule(nats_url, "S1")
    async with running_service(service, database_url, nats_url) as h:
        await wait_for(lambda: known(h, "S1"))
        await kiosk(h, "S1", "2001")
        [first] = await attendance_events(nats_url, 1)
        # A sign-in the LRS must refuse (an account with an empty name: xAPI requires one),
        # published as any producer on the stream would.
        bad = json.loads(json.dumps(first))
        bad["id"] = "0190e0d0-0000-7000-8000-00000000bad1"
        bad["data"]["student_number"] = ""
        nc = await nats.connect(nats_url)
        await nc.jetstream().publish(
            "passhub.attendance.student_signed_in", json.dumps(bad).encode()
        )
        await nc.close()
        for student in ("2002", "2003"):
            await kiosk(h, "S1", student)
        await attendance_events(nats_url, 4)

    async with bridge_running(bridge_settings) as bridge:
        await wait_for(lambda: consumer_drained(bridge_settings), timeout=60)
        got = ours(ralph, bridge_settings)
        parked = bridge.store.parked()
    assert sorted(s["actor"]["account"]["name"] for s in got) == ["2001", "2002", "2003"]
    [one] = parked
    assert one.statement_id == statement_id(bad["id"])
    assert one.status in (400, 422)
    assert "name" in one.reason  # the LRS's own words
    assert one.event["id"] == bad["id"]


async def cli(settings: BridgeSettings, *args: str) -> tuple[int, str]:
    """`passhub-xapi ...` as an operator runs it, in a process of its own."""
    from tests.xapi.test_faults import bridge_env

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "passhub_xapi",
        *args,
        env=bridge_env(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def test_an_operator_lists_parked_statements_and_retries_them(
    database_url: str, nats_url: str, ralph: Ralph, bridge_settings: BridgeSettings
) -> None:
    await schedule(nats_url, "S1")
    async with running_service(service, database_url, nats_url) as h:
        await wait_for(lambda: known(h, "S1"))
        await kiosk(h, "S1", "4001")
        [first] = await attendance_events(nats_url, 1)
    # a sign-in for a session the sessions stream has not (yet) described, and one the LRS
    # refuses
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    early = json.loads(json.dumps(first))
    early["id"] = "0190e0d0-0000-7000-8000-0000000e0001"
    early["data"]["session_id"] = "S9"
    refused = json.loads(json.dumps(first))
    refused["id"] = "0190e0d0-0000-7000-8000-0000000e0002"
    refused["data"]["student_number"] = ""
    for event in (early, refused):
        await js.publish("passhub.attendance.student_signed_in", json.dumps(event).encode())
    await nc.close()

    async with bridge_running(bridge_settings):
        await wait_for(lambda: consumer_drained(bridge_settings), timeout=60)
    code, out = await cli(bridge_settings, "parked", "list", "--json")
    assert code == 0, out
    listed = {row["statement_id"]: row for row in map(json.loads, out.splitlines())}
    assert set(listed) == {statement_id(early["id"]), statement_id(refused["id"])}
    assert listed[statement_id(early["id"])]["reason"] == "session unknown to the bridge"
    assert listed[statement_id(refused["id"])]["status"] in (400, 422)

    # the session is published; a retry delivers the first and keeps the other
    await publish(nats_url, session_events("S9"))
    code, out = await cli(bridge_settings, "parked", "retry")
    assert code == 1 and "1 delivered, 1 still parked" in out, out
    code, out = await cli(bridge_settings, "parked", "list", "--json")
    assert [json.loads(line)["statement_id"] for line in out.splitlines()] == [
        statement_id(refused["id"])
    ]
    got = ours(ralph, bridge_settings)
    assert sorted(s["object"]["id"].rsplit("/", 1)[1] for s in got) == ["S1", "S9"]


async def test_resend_from_the_start_since_a_date_or_of_one_scheme(
    database_url: str, nats_url: str, ralph: Ralph, bridge_settings: BridgeSettings
) -> None:
    chem = "2026-27-CHEM"
    await schedule(nats_url, "S1")
    await publish(
        nats_url, [scheme_launched(chem, ["CHEM101"]), *session_events("C1", scheme_id=chem)]
    )
    async with running_service(service, database_url, nats_url) as h:
        await wait_for(lambda: known(h, "C1"))
        for student in ("5001", "5002"):
            await kiosk(h, "S1", student)
        await kiosk(h, "C1", "5003")
        await attendance_events(nats_url, 3)

    code, out = await cli(bridge_settings, "resend", "--scheme", chem)
    assert code == 0, out
    assert "3/3" in out and "1 events, 1 statements posted" in out, out  # 3 read, 1 of CHEM
    assert [s["actor"]["account"]["name"] for s in ours(ralph, bridge_settings)] == ["5003"]

    code, out = await cli(bridge_settings, "resend", "--since", "2100-01-01")
    assert code == 0 and "0 events" in out, out

    code, out = await cli(bridge_settings, "resend")
    assert code == 0 and "3 events, 3 statements posted" in out, out
    got = ours(ralph, bridge_settings)
    assert sorted(s["actor"]["account"]["name"] for s in got) == ["5001", "5002", "5003"]


async def test_an_erased_students_sign_ins_stay_sealed_and_never_reach_the_lrs(
    database_url: str, nats_url: str, ralph: Ralph, bridge_settings: BridgeSettings
) -> None:
    sessions = await schedule(nats_url, "S1")
    async with running_service(service, database_url, nats_url) as h:
        await wait_for(lambda: known(h, "S1"))
        await kiosk(h, "S1", "2001")
        await kiosk(h, "S1", "2002")
        events = await attendance_events(nats_url, 2)
        r = await h.client.post(
            "/privacy/erasures",
            json={"student_numbers": ["2001"], "reason": "asked to be forgotten"},
            headers=h.auth("coordinator", "c1"),
        )
        assert r.status_code == 200, r.text
        sealed = await read_stream(nats_url, "PASSHUB_ATTENDANCE", opened=False)
        token = next(
            e["data"]["student_number"]
            for e, o in zip(sealed, events, strict=False)
            if o["data"].get("student_number") == "2001"
        )
        assert token.startswith("pii:")
        key_id = token.split(":")[1]
        nc = await nats.connect(nats_url)
        try:
            js = nc.jetstream()

            async def key_gone() -> bool:
                try:
                    await js.get_last_msg("PASSHUB_KEYS", f"passhub.keys.attendance.{key_id}")
                except nats.js.errors.NotFoundError:
                    return True
                return False

            await wait_for(key_gone, timeout=30)
        finally:
            await nc.close()

    [kept] = [e for e in events if e["data"].get("student_number") == "2002"]
    async with bridge_running(bridge_settings):
        got = await until_statements(ralph, bridge_settings, 1)
        await wait_for(lambda: consumer_drained(bridge_settings))
        got = ours(ralph, bridge_settings)
    assert_same(got, [expected_attended(bridge_settings, kept, sessions["S1"], "kiosk")])
    assert "2001" not in json.dumps(got)
