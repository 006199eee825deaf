"""Attendance through NATS and the bridge into a real LRS (Ralph), read back from its own
`GET /xAPI/statements`: every way of signing in, a revocation voiding, feedback kept out."""

from __future__ import annotations

import json

import nats

from passhub_attendance.service import service
from passhub_xapi.settings import BridgeSettings
from tests.attendance.helpers import now
from tests.support import running_service, wait_for
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
