"""HTTP: who may do what, bad input refused with nothing written, the policy, activities and
the progress view."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text

from passhub_shared.storage.schema import events
from tests.recognition.builders import YEAR, appointed, delivered, launched, trained
from tests.recognition.feed import LocalFeed
from tests.support import Harness


async def own_event_count(h: Harness) -> int:
    async with h.runtime.engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    select(func.count()).select_from(events).where(events.c.origin == "recognition")
                )
            ).scalar_one()
        )


async def test_routes_need_a_token_and_the_right_role(recognition: Harness) -> None:
    c = recognition.client
    no_token = [
        ("GET", f"/progress/{YEAR}"),
        ("GET", f"/progress/{YEAR}/me"),
        ("POST", "/awards/runs"),
        ("GET", f"/awards?academic_year={YEAR}"),
        ("PUT", f"/policies/{YEAR}"),
        ("GET", f"/exports/{YEAR}/hear"),
        ("GET", f"/certificates/{YEAR}"),
        ("POST", "/activities"),
    ]
    for method, url in no_token:
        response = await c.request(method, url, json={})
        assert response.status_code == 401, (method, url, response.text)

    leader = recognition.auth("leader", "S1")
    coordinator_only = [
        ("GET", f"/progress/{YEAR}"),
        ("POST", "/awards/runs"),
        ("GET", f"/awards?academic_year={YEAR}"),
        ("PUT", f"/policies/{YEAR}"),
        ("GET", f"/exports/{YEAR}/hear"),
        ("GET", f"/certificates/{YEAR}"),
        ("POST", "/activities/x/strike"),
        ("POST", "/awards/x/withdraw"),
    ]
    for method, url in coordinator_only:
        response = await c.request(method, url, json={}, headers=leader)
        assert response.status_code == 403, (method, url, response.text)
    # an academic sees reports, not the policy editor or anyone's progress
    academic = recognition.auth("academic", "A1")
    assert (await c.get(f"/progress/{YEAR}/leaders/S1", headers=academic)).status_code == 403
    assert (await c.get(f"/policies/{YEAR}", headers=academic)).status_code == 200
    assert await own_event_count(recognition) == 0


async def test_a_leader_sees_only_their_own_progress(recognition: Harness, feed: LocalFeed) -> None:
    await feed.apply(
        [launched(), appointed("S1"), appointed("S2", name="Grace Hopper"), trained("S1")]
    )
    await feed.apply(delivered(6, "S1"))
    c = recognition.client
    mine = await c.get(f"/progress/{YEAR}/me", headers=recognition.auth("leader", "S1"))
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["name"] == "Ada Lovelace" and body["role"] == "PASS Leader"
    assert body["sessions_delivered"] == 6 and body["policy_version"] == 0
    cert = next(a for a in body["awards"] if a["kind"] == "certificate")
    assert cert["missing"] == ["6 of 8 sessions delivered"]
    assert cert["status"] == "undecided" and not cert["eligible"]
    assert [r["code"] for r in cert["requirements"]] == ["training", "sessions"]
    assert [r["met"] for r in cert["requirements"]] == [True, False]

    other = await c.get(f"/progress/{YEAR}/leaders/S2", headers=recognition.auth("leader", "S1"))
    assert other.status_code == 403
    own = await c.get(f"/progress/{YEAR}/leaders/S1", headers=recognition.auth("leader", "S1"))
    assert own.status_code == 200 and own.json()["student_number"] == "S1"

    everyone = await c.get(f"/progress/{YEAR}", headers=recognition.auth("coordinator"))
    assert [p["student_number"] for p in everyone.json()] == ["S1", "S2"]
    grace = everyone.json()[1]
    assert grace["awards"][0]["missing"] == [
        "core training not completed",
        "0 of 8 sessions delivered",
    ]
    stranger = await c.get(f"/progress/{YEAR}/me", headers=recognition.auth("leader", "S9"))
    assert stranger.status_code == 404
    assert "not an appointed leader" in stranger.json()["detail"]


async def test_the_policy_is_versioned_and_bad_policies_write_nothing(
    recognition: Harness,
) -> None:
    c, coordinator = recognition.client, recognition.auth("coordinator")
    current = await c.get(f"/policies/{YEAR}", headers=coordinator)
    assert current.json()["version"] == 0 and not current.json()["adopted"]
    assert current.json()["policy"]["awards"]["hear"]["requirements"]["min_sessions"] == 8

    bad: list[dict[str, Any]] = [
        {"awards": {"hear": {"requirements": {"min_sessions": 0}}}},
        {"awards": {"hear": {"description": "Led $sessoins sessions"}}},
        {"awards": {"nobel": {}}},
        {"surprise": 1},
    ]
    hear = current.json()["policy"]["awards"]["hear"]
    for body in bad:
        awards = {k: {**hear, **v} for k, v in body.get("awards", {}).items()}
        payload = {"awards": awards} if "awards" in body else body
        response = await c.put(f"/policies/{YEAR}", json=payload, headers=coordinator)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"]
    response = await c.put("/policies/2026-28", json={"awards": {}}, headers=coordinator)
    assert response.status_code == 422 and "2026-27" in response.json()["detail"]
    assert await own_event_count(recognition) == 0

    stricter = {**hear, "requirements": {**hear["requirements"], "min_sessions": 10}}
    first = await c.put(
        f"/policies/{YEAR}", json={"awards": {"hear": stricter}}, headers=coordinator
    )
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 1
    assert first.json()["criteria"]["hear"].startswith("The leader completed the core training")
    same = await c.put(
        f"/policies/{YEAR}", json={"awards": {"hear": stricter}}, headers=coordinator
    )
    assert same.json()["version"] == 1
    default = await c.put(f"/policies/{YEAR}", json={"awards": {}}, headers=coordinator)
    assert default.json()["version"] == 2
    versions = await c.get(f"/policies/{YEAR}/versions", headers=coordinator)
    assert [v["version"] for v in versions.json()] == [1, 2]
    assert versions.json()[0]["set_by"] == "user-1"


async def test_activities_are_recorded_for_leaders_only_and_can_be_struck(
    recognition: Harness, feed: LocalFeed
) -> None:
    await feed.apply([launched(), appointed("S1"), trained("S1")])
    c, coordinator = recognition.client, recognition.auth("coordinator")
    meeting = {
        "academic_year": YEAR,
        "student_number": "S1",
        "kind": "mentor_meeting",
        "held_on": "2026-11-02",
        "hours": 1.5,
        "note": "first mentor meeting",
    }
    for bad in (
        {**meeting, "hours": 30},
        {**meeting, "kind": "party"},
        {**meeting, "academic_year": "2026"},
        {**meeting, "student_number": "S9"},  # not a leader
        {**meeting, "held_on": "yesterday"},
    ):
        response = await c.post("/activities", json=bad, headers=coordinator)
        assert response.status_code == 422, (bad, response.text)
    assert await own_event_count(recognition) == 0

    organiser = recognition.auth("organiser", "O1")
    created = await c.post("/activities", json=meeting, headers=organiser)
    assert created.status_code == 201, created.text
    activity_id = created.json()["activity_id"]
    progress = await c.get(f"/progress/{YEAR}/me", headers=recognition.auth("leader", "S1"))
    assert progress.json()["mentor_meetings"] == 1
    assert progress.json()["training_admin_hours"] == 1.5

    listed = await c.get(
        f"/activities?academic_year={YEAR}", headers=recognition.auth("leader", "S1")
    )
    assert [a["activity_id"] for a in listed.json()] == [activity_id]
    others = await c.get(
        f"/activities?academic_year={YEAR}&student_number=S2",
        headers=recognition.auth("leader", "S1"),
    )
    assert others.status_code == 403

    assert (
        await c.post(f"/activities/{activity_id}/strike", json={"reason": ""}, headers=coordinator)
    ).status_code == 422
    struck = await c.post(
        f"/activities/{activity_id}/strike", json={"reason": "did not attend"}, headers=coordinator
    )
    assert struck.status_code == 200 and struck.json()["withdrawn_awards"] == []
    again = await c.post(
        f"/activities/{activity_id}/strike", json={"reason": "twice"}, headers=coordinator
    )
    assert again.status_code == 409
    missing = await c.post("/activities/nope/strike", json={"reason": "x"}, headers=coordinator)
    assert missing.status_code == 404
    progress = await c.get(f"/progress/{YEAR}/me", headers=recognition.auth("leader", "S1"))
    assert progress.json()["mentor_meetings"] == 0


async def test_verification_is_public_and_reveals_nothing_for_unknown_codes(
    recognition: Harness,
) -> None:
    c = recognition.client
    for code in ("7KQ2-M9XD-A4TR-0HVZ", "short", "%27%20OR%201=1"):
        response = await c.get(f"/verify/{code}.json")
        assert response.status_code == 404
        assert response.json()["detail"] == "no certificate has this verification code"
        assert response.headers["cache-control"] == "no-store"
        page = await c.get(f"/verify/{code}")
        assert page.status_code == 404 and "No certificate has the verification code" in page.text
    garbage = await c.post("/verify/credential", json={"credential": "not.a.jwt"})
    assert garbage.status_code == 200 and garbage.json() == {
        "valid": False,
        "status": "invalid",
        "error": garbage.json()["error"],
    }
    assert (await c.post("/verify/credential", json={})).status_code == 422
    jwks = (await c.get("/.well-known/jwks.json")).json()
    assert jwks["keys"][0]["crv"] == "Ed25519" and jwks["keys"][0]["alg"] == "EdDSA"
    did = (await c.get("/.well-known/did.json")).json()
    assert did["id"] == "did:web:localhost%3A8004"
    assert did["verificationMethod"][0]["publicKeyJwk"]["x"] == jwks["keys"][0]["x"]
    achievement = (await c.get(f"/achievements/{YEAR}/hear")).json()
    assert achievement["achievementType"] == "CoCurricular"
    assert (await c.get(f"/achievements/{YEAR}/nobel")).status_code == 422


async def test_the_signing_key_is_made_once_and_kept(recognition: Harness) -> None:
    async with recognition.runtime.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT count(*) FROM rec_signing_keys"))).scalar_one()
    assert rows == 1
    from passhub_recognition.service import start

    before = recognition.runtime.state["recognition"].key.kid
    await start(recognition.runtime)  # a second start (or replica) reads the same key
    assert recognition.runtime.state["recognition"].key.kid == before
