"""What an organiser sees before saving: the candidates for a session (and why it is short),
and dry runs of the rota, a reschedule, a move and a cancellation that save nothing."""

from __future__ import annotations

from tests.sessions.flows import (
    all_week,
    appoint,
    event_count,
    launch,
    series,
    sessions_service,
)
from tests.support import Harness


async def _first_session(h: Harness, scheme: str) -> dict[str, object]:
    r = await h.client.get(f"/schemes/{scheme}/sessions", headers=h.auth("coordinator"))
    first: dict[str, object] = r.json()[0]
    return first


async def test_candidates_say_who_may_lead_and_why_a_session_is_short(
    database_url: str, nats_url: str
) -> None:
    async with sessions_service(database_url, nats_url) as h:
        scheme = await launch(h, organisers=["org-1"])
        await series(h, scheme, semesters=[1])
        await appoint(h, nats_url, ["s1", "s2", "s3"], [scheme])
        await all_week(h, ["s1"])
        # s2 is free on Mondays only; s3 states nothing
        await all_week(h, ["s2"], [{"weekday": "monday", "starts": "08:00", "ends": "20:00"}])
        first = await _first_session(h, scheme)
        sid = first["session_id"]
        r = await h.client.post(
            f"/sessions/{sid}/leaders", json={"student_number": "s1"}, headers=h.auth("coordinator")
        )
        assert r.status_code == 201, r.text

        r = await h.client.get(f"/sessions/{sid}/candidates", headers=h.auth("organiser", "org-1"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["needed"], body["rostered"], body["short"]) == (2, 1, True)
        assert body["reference"] == first["reference"]
        assert body["why_short"] == (
            "of 2 other appointed leaders: 1 no availability stated, 1 not available then"
        )
        found = {c["student_number"]: c for c in body["candidates"]}
        assert found["s1"]["rostered"] and found["s1"]["free"] and found["s1"]["load"] == 1
        assert found["s1"]["name"] == "Leader s1"
        assert found["s2"]["problem"]["kind"] == "unavailable" and not found["s2"]["free"]
        assert found["s3"]["problem"]["kind"] == "no_availability"

        # an organiser of another scheme may not look; nor may a leader
        other = h.auth("organiser", "org-2")
        assert (await h.client.get(f"/sessions/{sid}/candidates", headers=other)).status_code == 403
        leader = h.auth("leader", "s1")
        assert (
            await h.client.get(f"/sessions/{sid}/candidates", headers=leader)
        ).status_code == 403
        assert (
            await h.client.get("/sessions/nope/candidates", headers=h.auth("coordinator"))
        ).status_code == 404


async def test_dry_runs_answer_as_the_change_would_and_save_nothing(
    database_url: str, nats_url: str
) -> None:
    async with sessions_service(database_url, nats_url) as h:
        scheme = await launch(h)
        await series(h, scheme, semesters=[1])
        await series(h, scheme, semesters=[1], weekday="wednesday", room="Maths 2.10")
        await appoint(h, nats_url, ["s1", "s2"], [scheme])
        await all_week(h, ["s1", "s2"])
        staff = h.auth("coordinator")

        before = await event_count(h)
        preview = await h.client.post(
            f"/schemes/{scheme}/rota", json={"dry_run": True}, headers=staff
        )
        assert preview.status_code == 200, preview.text
        planned = preview.json()
        assert planned["dry_run"] is True and len(planned["rostered"]) > 0
        assert await event_count(h) == before
        view = (await h.client.get(f"/schemes/{scheme}/rota", headers=staff)).json()
        assert all(s["leaders"] == [] for s in view["sessions"])

        saved = (await h.client.post(f"/schemes/{scheme}/rota", json={}, headers=staff)).json()
        assert saved["dry_run"] is False and saved["rostered"] == planned["rostered"]

        first = await _first_session(h, scheme)
        sid = first["session_id"]
        day = str(first["starts_at"])[:10]
        before = await event_count(h)
        r = await h.client.post(
            f"/sessions/{sid}/reschedule",
            json={"starts_at": f"{day}T16:00:00", "reason": "lab clash", "dry_run": True},
            headers=staff,
        )
        assert r.status_code == 200, r.text
        moved = r.json()
        assert moved["dry_run"] and moved["changed"]
        assert moved["session"]["starts_at"].startswith(f"{day}T16:00")
        assert sorted(c["student_number"] for c in moved["calendar_changes"]) == ["s1", "s2"]
        assert {c["change"] for c in moved["calendar_changes"]} == {"moved"}
        assert await event_count(h) == before
        unchanged = (await h.client.get(f"/sessions/{sid}", headers=staff)).json()
        assert unchanged["starts_at"] == first["starts_at"]

        # a room clash is refused by a dry run as by the change itself
        wednesday = (await h.client.get(f"/schemes/{scheme}/sessions", headers=staff)).json()
        other = next(s for s in wednesday if s["room"] == "Maths 2.10")
        r = await h.client.post(
            f"/sessions/{sid}/reschedule",
            json={"starts_at": other["starts_at"], "room": "Maths 2.10", "dry_run": True},
            headers=staff,
        )
        assert r.status_code == 409, r.text

        r = await h.client.post(
            f"/sessions/{sid}/move",
            json={"room": "Physics 2.01", "reason": "bigger room", "dry_run": True},
            headers=staff,
        )
        assert r.status_code == 200 and r.json()["session"]["room"] == "Physics 2.01"

        r = await h.client.post(
            f"/sessions/{sid}/cancel", json={"reason": "strike", "dry_run": True}, headers=staff
        )
        assert r.status_code == 200, r.text
        cancelled = r.json()
        assert cancelled["dry_run"] and cancelled["session"]["status"] == "cancelled"
        assert {c["change"] for c in cancelled["calendar_changes"]} == {"cancelled"}
        assert await event_count(h) == before
        still = (await h.client.get(f"/sessions/{sid}", headers=staff)).json()
        assert still["status"] == "scheduled" and still["room"] == first["room"]

        r = await h.client.post(f"/sessions/{sid}/cancel", json={"reason": "strike"}, headers=staff)
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
