"""The sessions service against its access table in docs/access.md: every route, every role,
and the scope rules (an organiser of another scheme, a leader speaking for another)."""

from __future__ import annotations

from tests.access import World, check_table
from tests.sessions.flows import all_week, appoint, launch, sessions_service

SUBS = {
    "coordinator": "c1",
    "organiser": "org-1",
    "leader": "L1",
    "student": "1001",
    "academic": "a1",
    "integration": "sync-1",
}
SINGLE = {
    "starts_at": "2026-10-06T14:00:00",
    "ends_at": "2026-10-06T15:00:00",
    "room": "Physics 1.02",
    "capacity": 30,
}


async def test_every_route_answers_every_role_as_the_table_says(
    database_url: str, nats_url: str
) -> None:
    async with sessions_service(database_url, nats_url) as h:
        scheme = await launch(h, organisers=["org-1"])
        await appoint(h, nats_url, ["L1"], [scheme])
        await all_week(h, ["L1"])
        r = await h.client.post(
            f"/schemes/{scheme}/sessions", json=SINGLE, headers=h.auth("coordinator")
        )
        assert r.status_code == 201, r.text
        session_id = r.json()["session_id"]
        r = await h.client.post(
            f"/sessions/{session_id}/leaders",
            json={"student_number": "L1"},
            headers=h.auth("coordinator"),
        )
        assert r.status_code in (200, 201), r.text
        world = World(
            subs=SUBS,
            params={"scheme_id": scheme, "session_id": session_id, "academic_year": "2026-27"},
        )
        await check_table(h, "sessions", world)


async def test_scope_an_organiser_of_another_scheme(database_url: str, nats_url: str) -> None:
    async with sessions_service(database_url, nats_url) as h:
        scheme = await launch(h, organisers=["org-1"])
        other = h.auth("organiser", "org-2")
        r = await h.client.post(f"/schemes/{scheme}/sessions", json=SINGLE, headers=other)
        assert r.status_code == 403
        r = await h.client.post(
            f"/schemes/{scheme}/sessions", json=SINGLE, headers=h.auth("organiser", "org-1")
        )
        assert r.status_code == 201, r.text
        session_id = r.json()["session_id"]
        r = await h.client.post(
            f"/sessions/{session_id}/cancel", json={"reason": "no room"}, headers=other
        )
        assert r.status_code == 403
        r = await h.client.post(f"/schemes/{scheme}/rota", json={}, headers=other)
        assert r.status_code in (403, 422)
        history = await h.client.get(f"/sessions/{session_id}/history", headers=other)
        assert history.status_code == 403
        history = await h.client.get(
            f"/sessions/{session_id}/history", headers=h.auth("organiser", "org-1")
        )
        assert history.status_code == 200


async def test_leaders_see_no_emails(database_url: str, nats_url: str) -> None:
    async with sessions_service(database_url, nats_url) as h:
        scheme = await launch(h, organisers=["org-1"])
        await appoint(h, nats_url, ["L1"], [scheme])
        for role, email in (
            ("coordinator", "L1@example.ac.uk"),
            ("organiser", "L1@example.ac.uk"),
            ("integration", "L1@example.ac.uk"),
            ("leader", None),
        ):
            r = await h.client.get(f"/schemes/{scheme}/leaders", headers=h.auth(role, "x"))
            assert [row["email"] for row in r.json()] == [email], role


async def test_scope_a_leader_speaks_only_for_themself(database_url: str, nats_url: str) -> None:
    async with sessions_service(database_url, nats_url) as h:
        scheme = await launch(h, organisers=["org-1"])
        await appoint(h, nats_url, ["L1", "L2"], [scheme])
        slots = {"slots": [{"weekday": "monday", "starts": "09:00", "ends": "17:00"}]}
        l1 = h.auth("leader", "L1")
        r = await h.client.put("/leaders/L2/availability/2026-27", json=slots, headers=l1)
        assert r.status_code == 403
        assert (
            await h.client.get("/leaders/L2/availability/2026-27", headers=l1)
        ).status_code == 403
        assert (await h.client.get("/feeds/leaders/L2/link", headers=l1)).status_code == 403
        assert (await h.client.get("/feeds/leaders/L2.ics", headers=l1)).status_code == 403
        # the feed's link token, and nothing else, opens the feed without a login
        link = await h.client.get("/feeds/leaders/L2/link", headers=h.auth("leader", "L2"))
        token = link.json()["token"]
        feed = await h.client.get("/feeds/leaders/L2.ics", params={"token": token})
        assert feed.status_code == 200
        wrong = await h.client.get("/feeds/leaders/L1.ics", params={"token": token})
        assert wrong.status_code in (401, 403)
