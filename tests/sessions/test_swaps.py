"""Swaps leaders ask each other for: request, accept, decline and withdraw over HTTP, who may
do each, the rota after an accepted swap, and what other services see of it."""

from __future__ import annotations

from tests.sessions.flows import all_week, appoint, launch, series, sessions_service
from tests.support import Harness, read_stream, wait_for


async def _swaps(h: Harness, number: str) -> list[dict[str, object]]:
    r = await h.client.get(f"/leaders/{number}/swaps", headers=h.auth("leader", number))
    assert r.status_code == 200, r.text
    found: list[dict[str, object]] = r.json()
    return found


async def test_leaders_swap_a_session_between_them(database_url: str, nats_url: str) -> None:
    async with sessions_service(database_url, nats_url) as h:
        scheme = await launch(h)
        other = await launch(h, "CHEM")
        sessions = (await series(h, scheme))["sessions"]
        await appoint(h, nats_url, ["s1", "s2", "s3"], [scheme])
        await appoint(h, nats_url, ["s4"], [other])
        await all_week(h, ["s1", "s2", "s3", "s4"])
        first, second = sessions[0]["session_id"], sessions[1]["session_id"]
        for sid in (first, second):
            r = await h.client.post(
                f"/sessions/{sid}/leaders",
                json={"student_number": "s1"},
                headers=h.auth("coordinator"),
            )
            assert r.status_code == 201, r.text
        s1, s2, s3 = (h.auth("leader", n) for n in ("s1", "s2", "s3"))

        # only a leader rostered on the session asks, and only a leader of its scheme is asked
        r = await h.client.post(
            f"/sessions/{first}/swap-requests", json={"incoming": "s1"}, headers=s2
        )
        assert r.status_code == 422 and r.json()["code"] == "not_rostered"
        r = await h.client.post(
            f"/sessions/{first}/swap-requests", json={"incoming": "s4"}, headers=s1
        )
        assert r.status_code == 422 and r.json()["code"] == "not_appointed"
        r = await h.client.post(
            f"/sessions/{first}/swap-requests",
            json={"incoming": "s2"},
            headers=h.auth("student", "s1"),
        )
        assert r.status_code == 403
        r = await h.client.post(
            f"/sessions/{first}/swap-requests",
            json={"incoming": "s2", "reason": "exam"},
            headers=s1,
        )
        assert r.status_code == 201, r.text
        asked = r.json()
        assert (asked["out"], asked["incoming"], asked["status"], asked["reason"]) == (
            "s1",
            "s2",
            "open",
            "exam",
        )
        r = await h.client.post(
            f"/sessions/{first}/swap-requests", json={"incoming": "s2"}, headers=s1
        )
        assert r.status_code == 409  # asked already
        r = await h.client.post(
            f"/sessions/{second}/swap-requests", json={"incoming": "s3"}, headers=s1
        )
        assert r.status_code == 201
        withdrawn_id = r.json()["swap_id"]

        # both leaders see the swap; a third leader does not, nor may they list another's
        assert [(s["swap_id"], s["status"]) for s in await _swaps(h, "s2")] == [
            (asked["swap_id"], "open")
        ]
        mine = await _swaps(h, "s1")
        assert [s["session_id"] for s in mine] == [first, second]
        assert mine[0]["scheme_title"] == "Phys PASS" and mine[0]["starts_at"]
        r = await h.client.get("/leaders/s1/swaps", headers=s3)
        assert r.status_code == 403

        # the one who asked cannot accept, the one asked cannot withdraw, nobody else answers
        url = f"/swap-requests/{asked['swap_id']}"
        assert (await h.client.post(f"{url}/accept", headers=s1)).status_code == 403
        assert (await h.client.post(f"{url}/withdraw", headers=s2)).status_code == 403
        assert (await h.client.post(f"{url}/decline", headers=s3)).status_code == 403
        assert (await h.client.post(f"{url}/maybe", headers=s2)).status_code == 422
        assert (await h.client.post("/swap-requests/nope/accept", headers=s2)).status_code == 404

        r = await h.client.post(f"{url}/accept", headers=s2)
        assert r.status_code == 200 and r.json()["status"] == "accepted", r.text
        r = await h.client.get(f"/sessions/{first}", headers=h.auth("coordinator"))
        assert [x["student_number"] for x in r.json()["leaders"]] == ["s2"]
        assert (await h.client.post(f"{url}/decline", headers=s2)).status_code == 409
        r = await h.client.post(f"/swap-requests/{withdrawn_id}/withdraw", headers=s1)
        assert r.status_code == 200 and r.json()["status"] == "withdrawn"
        r = await h.client.get(f"/sessions/{second}", headers=h.auth("coordinator"))
        assert [x["student_number"] for x in r.json()["leaders"]] == ["s1"]
        assert [s["status"] for s in await _swaps(h, "s1")] == ["accepted", "withdrawn"]
        taken_off = (await h.client.get("/leaders/s1/sessions", headers=s1)).json()
        was = taken_off[0]
        assert (was["session_id"], was["rostered"], was["unrostered_reason"]) == (
            first,
            False,
            "exam",
        )

        # other services see the rota change, never the request itself
        async def published() -> bool:
            found = await read_stream(nats_url, "PASSHUB_SESSIONS")
            return any(m["type"].endswith("leader_unrostered.v1") for m in found)

        await wait_for(published)
        types = {m["type"] for m in await read_stream(nats_url, "PASSHUB_SESSIONS")}
        assert not any("swap" in t for t in types)
