"""The HTTP API against real PostgreSQL and NATS: schemes, scheduling, clashes, rescheduling,
cancelling, availability, and who may do what."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from tests.sessions.flows import all_week, appoint, event_count, launch, series, sessions_service


async def test_roles_are_checked(database_url: str, nats_url: str) -> None:
    async with sessions_service(database_url, nats_url) as h:
        body = {"code": "PHYS", "title": "Physics", "school": "Science", "academic_year": "2026-27"}
        assert (await h.client.post("/schemes", json=body)).status_code == 401
        assert (await h.client.get("/schemes")).status_code == 401
        r = await h.client.post("/schemes", json=body, headers=h.auth("student"))
        assert r.status_code == 403
        r = await h.client.post("/schemes", json=body, headers=h.auth("organiser"))
        assert r.status_code == 403

        scheme = await launch(h, organisers=["org-1"])
        other = await launch(h, "CHEM", organisers=["org-2"])
        single = {
            "starts_at": "2026-10-06T14:00:00",
            "ends_at": "2026-10-06T15:00:00",
            "room": "Physics 1.02",
            "capacity": 30,
        }
        r = await h.client.post(
            f"/schemes/{scheme}/sessions", json=single, headers=h.auth("leader")
        )
        assert r.status_code == 403
        # an organiser runs only their own schemes
        r = await h.client.post(
            f"/schemes/{other}/sessions", json=single, headers=h.auth("organiser", "org-1")
        )
        assert r.status_code == 403
        r = await h.client.post(
            f"/schemes/{scheme}/sessions", json=single, headers=h.auth("organiser", "org-1")
        )
        assert r.status_code == 201, r.text

        # students see sessions but not who leads them
        r = await h.client.get(f"/schemes/{scheme}/sessions", headers=h.auth("student", "u123"))
        assert r.status_code == 200 and "leaders" not in r.json()[0]
        assert (
            await h.client.get(f"/schemes/{scheme}/rota", headers=h.auth("student"))
        ).status_code == 403


async def test_bad_input_is_a_clear_4xx_and_writes_nothing(
    database_url: str, nats_url: str
) -> None:
    async with sessions_service(database_url, nats_url) as h:
        coordinator = h.auth("coordinator", "staff-1")
        bad = [
            {"code": "PH YS", "title": "Physics", "school": "Science", "academic_year": "2026-27"},
            {"code": "PHYS", "title": "Physics", "school": "Science", "academic_year": "2026-28"},
            {"code": "PHYS", "title": "Physics", "school": "Science"},
            {
                "code": "PHYS",
                "title": "Physics",
                "school": "Science",
                "academic_year": "2026-27",
                "mode": "sometimes",
            },
            {
                "code": "PHYS",
                "title": "Physics",
                "school": "Science",
                "academic_year": "2026-27",
                "min_leaders_per_session": 12,
            },
        ]
        for body in bad:
            r = await h.client.post("/schemes", json=body, headers=coordinator)
            assert r.status_code == 422, (body, r.text)
            assert r.json()["detail"]
        assert await event_count(h) == 0

        scheme = await launch(h)
        written = await event_count(h)
        for body in (
            {
                "starts_at": "2026-10-06T15:00:00",
                "ends_at": "2026-10-06T14:00:00",
                "room": "A",
                "capacity": 3,
            },
            {
                "starts_at": "2026-10-06T09:00:00",
                "ends_at": "2026-10-06T17:00:00",
                "room": "A",
                "capacity": 3,
            },
            {
                "starts_at": "2026-10-06T14:00:00",
                "ends_at": "2026-10-06T15:00:00",
                "room": "",
                "capacity": 3,
            },
            {
                "starts_at": "2026-10-06T14:00:00",
                "ends_at": "2026-10-06T15:00:00",
                "room": "A",
                "capacity": 0,
            },
            {
                "starts_at": "not a time",
                "ends_at": "2026-10-06T15:00:00",
                "room": "A",
                "capacity": 3,
            },
        ):
            r = await h.client.post(f"/schemes/{scheme}/sessions", json=body, headers=coordinator)
            assert r.status_code == 422, (body, r.text)
        for body in (
            {"weekday": "someday", "starts": "14:00", "ends": "15:00", "room": "A", "capacity": 3},
            {
                "weekday": "tuesday",
                "starts": "14:00",
                "ends": "15:00",
                "room": "A",
                "capacity": 3,
                "skip_weeks": ["S9W9"],
            },
            {
                "weekday": "tuesday",
                "starts": "14:00",
                "ends": "15:00",
                "room": "A",
                "capacity": 3,
                "semesters": [4],
            },
        ):
            r = await h.client.post(f"/schemes/{scheme}/series", json=body, headers=coordinator)
            assert r.status_code == 422, (body, r.text)
        r = await h.client.put(
            "/leaders/s1/availability/2026-27",
            json={"slots": [{"weekday": "tuesday", "starts": "17:00", "ends": "13:00"}]},
            headers=h.auth("leader", "s1"),
        )
        assert r.status_code == 422
        assert await event_count(h) == written
        assert (await h.client.get("/schemes/2026-27-NOPE", headers=coordinator)).status_code == 404


async def test_a_weekly_series_over_the_teaching_weeks(database_url: str, nats_url: str) -> None:
    async with sessions_service(database_url, nats_url) as h:
        scheme = await launch(h)
        result = await series(h, scheme)

        sessions = result["sessions"]
        assert len(sessions) == 22
        assert sessions[0]["starts_at"] == "2026-09-22T14:00:00+01:00"
        assert sessions[6]["starts_at"] == "2026-11-10T14:00:00+00:00"  # after the clock change
        assert sessions[0]["teaching_week"] == "S1W1" and sessions[-1]["teaching_week"] == "S2W11"
        assert "RRULE:FREQ=WEEKLY" in result["rule"]
        assert not any(s["starts_at"].startswith("2026-10-27") for s in sessions)  # reading week

        listed = await h.client.get(f"/schemes/{scheme}/series", headers=h.auth("student"))
        assert listed.json()[0]["sessions"] == 22 and listed.json()[0]["weekday"] == "tuesday"
        weeks = await h.client.get("/term-dates/2026-27", headers=h.auth("student"))
        assert len(weeks.json()["teaching_weeks"]) == 22


async def test_a_room_is_never_double_booked(database_url: str, nats_url: str) -> None:
    async with sessions_service(database_url, nats_url) as h:
        coordinator = h.auth("coordinator")
        physics, chemistry = await launch(h), await launch(h, "CHEM")
        first = await series(h, physics)
        before = await event_count(h)

        # a series in the same room at an overlapping time: rejected whole, clash named
        body = {
            "weekday": "tuesday",
            "starts": "14:30",
            "ends": "15:30",
            "room": "physics  1.02",
            "capacity": 20,
        }
        r = await h.client.post(f"/schemes/{chemistry}/series", json=body, headers=coordinator)
        assert r.status_code == 409
        assert first["sessions"][0]["session_id"] in r.json()["detail"]
        assert "2026-27-PHYS" in r.json()["detail"]
        assert await event_count(h) == before

        single = {
            "starts_at": "2026-09-22T14:59:00+01:00",
            "ends_at": "2026-09-22T16:00:00+01:00",
            "room": "Physics 1.02",
            "capacity": 20,
        }
        r = await h.client.post(f"/schemes/{chemistry}/sessions", json=single, headers=coordinator)
        assert r.status_code == 409

        # back to back, or in another room, is fine
        single["starts_at"] = "2026-09-22T15:00:00+01:00"
        r = await h.client.post(f"/schemes/{chemistry}/sessions", json=single, headers=coordinator)
        assert r.status_code == 201
        body["room"] = "Chemistry G.01"
        r = await h.client.post(f"/schemes/{chemistry}/series", json=body, headers=coordinator)
        assert r.status_code == 201

        # moving a session into a booked room is a clash too
        chem_session = r.json()["sessions"][0]["session_id"]
        r = await h.client.post(
            f"/sessions/{chem_session}/move", json={"room": "Physics 1.02"}, headers=coordinator
        )
        assert r.status_code == 409 and first["sessions"][0]["session_id"] in r.json()["detail"]


async def test_reschedule_move_and_cancel(database_url: str, nats_url: str) -> None:
    async with sessions_service(database_url, nats_url) as h:
        coordinator = h.auth("coordinator")
        scheme = await launch(h)
        sessions = (await series(h, scheme))["sessions"]
        sid = sessions[2]["session_id"]

        r = await h.client.post(
            f"/sessions/{sid}/reschedule",
            json={"starts_at": "2026-10-08T10:00:00", "reason": "lab clash"},
            headers=coordinator,
        )
        assert r.status_code == 200, r.text
        moved = r.json()["session"]
        assert (moved["starts_at"], moved["ends_at"]) == (
            "2026-10-08T10:00:00+01:00",
            "2026-10-08T11:00:00+01:00",
        )
        assert moved["sequence"] == 1

        r = await h.client.post(
            f"/sessions/{sid}/move",
            json={"room": "Physics 2.01", "capacity": 25},
            headers=coordinator,
        )
        assert (
            r.json()["session"]["room"] == "Physics 2.01" and r.json()["session"]["sequence"] == 2
        )
        r = await h.client.post(
            f"/sessions/{sid}/move",
            json={"room": "Physics 2.01", "capacity": 25},
            headers=coordinator,
        )
        assert r.json()["changed"] is False

        assert (
            await h.client.post(f"/sessions/{sid}/cancel", json={"reason": ""}, headers=coordinator)
        ).status_code == 422
        assert (
            await h.client.post(f"/sessions/{sid}/cancel", json={}, headers=coordinator)
        ).status_code == 422
        r = await h.client.post(
            f"/sessions/{sid}/cancel", json={"reason": "Building closed"}, headers=coordinator
        )
        assert r.status_code == 200
        assert (r.json()["status"], r.json()["cancel_reason"]) == ("cancelled", "Building closed")
        assert (
            await h.client.post(
                f"/sessions/{sid}/cancel", json={"reason": "again"}, headers=coordinator
            )
        ).status_code == 409
        r = await h.client.post(
            f"/sessions/{sid}/move", json={"room": "Physics 3.01"}, headers=coordinator
        )
        assert r.status_code == 422

        # it stays in the history, and frees its room
        listed = (await h.client.get(f"/schemes/{scheme}/sessions", headers=coordinator)).json()
        assert [s["status"] for s in listed].count("cancelled") == 1 and len(listed) == 22
        live = (
            await h.client.get(
                f"/schemes/{scheme}/sessions?include_cancelled=false", headers=coordinator
            )
        ).json()
        assert len(live) == 21
        history = (await h.client.get(f"/sessions/{sid}/history", headers=coordinator)).json()
        assert [e["event"] for e in history] == [
            "session_scheduled",
            "session_rescheduled",
            "session_rescheduled",
            "session_cancelled",
        ]
        other = await launch(h, "CHEM")
        freed = {
            "starts_at": "2026-10-08T10:00:00",
            "ends_at": "2026-10-08T11:00:00",
            "room": "Physics 2.01",
            "capacity": 5,
        }
        assert (
            await h.client.post(f"/schemes/{other}/sessions", json=freed, headers=coordinator)
        ).status_code == 201

        # a session that has taken place cannot be cancelled
        h.runtime.state["clock"] = lambda: datetime(2026, 9, 23, tzinfo=UTC)
        first = sessions[0]["session_id"]
        r = await h.client.post(
            f"/sessions/{first}/cancel", json={"reason": "late"}, headers=coordinator
        )
        assert r.status_code == 422 and r.json()["code"] == "past"


async def test_availability_is_the_leaders_or_their_organisers(
    database_url: str, nats_url: str
) -> None:
    async with sessions_service(database_url, nats_url) as h:
        scheme = await launch(h, organisers=["org-1"])
        await launch(h, "CHEM", organisers=["org-2"])
        await appoint(h, nats_url, ["s1"], [scheme])
        body: dict[str, Any] = {
            "slots": [{"weekday": "tuesday", "starts": "13:00", "ends": "17:00"}]
        }
        url = "/leaders/s1/availability/2026-27"

        assert (
            await h.client.put(url, json=body, headers=h.auth("leader", "s2"))
        ).status_code == 403
        assert (
            await h.client.put(url, json=body, headers=h.auth("organiser", "org-2"))
        ).status_code == 403
        assert (
            await h.client.put(url, json=body, headers=h.auth("student", "s1"))
        ).status_code == 403
        r = await h.client.put(url, json=body, headers=h.auth("leader", "s1"))
        assert r.status_code == 200 and r.json()["changed"] is True
        body["unavailable_dates"] = ["2026-11-03"]
        r = await h.client.put(url, json=body, headers=h.auth("organiser", "org-1"))
        assert r.status_code == 200 and r.json()["stated_by"] == "org-1"
        r = await h.client.get(url, headers=h.auth("leader", "s1"))
        assert r.json()["unavailable_dates"] == ["2026-11-03"]
        await all_week(h, ["s9"])  # any leader may state their own


async def test_concurrent_requests_cannot_double_book(database_url: str, nats_url: str) -> None:
    async with sessions_service(database_url, nats_url) as h:
        coordinator = h.auth("coordinator")
        physics, chemistry = await launch(h), await launch(h, "CHEM")
        body = {
            "starts_at": "2026-10-06T14:00:00",
            "ends_at": "2026-10-06T15:00:00",
            "room": "Lecture Theatre A",
            "capacity": 100,
        }
        answers = await asyncio.gather(
            *(
                h.client.post(f"/schemes/{s}/sessions", json=body, headers=coordinator)
                for s in (physics, chemistry, physics, chemistry)
            )
        )
        assert sorted(r.status_code for r in answers) == [201, 409, 409, 409]

        # one leader, two overlapping sessions of two schemes, rostered at the same moment
        await appoint(h, nats_url, ["s1"], [physics, chemistry])
        await all_week(h, ["s1"])
        first = next(r for r in answers if r.status_code == 201).json()["session_id"]
        body["room"] = "Lecture Theatre B"
        second = await h.client.post(
            f"/schemes/{chemistry}/sessions", json=body, headers=coordinator
        )
        answers = await asyncio.gather(
            *(
                h.client.post(
                    f"/sessions/{s}/leaders", json={"student_number": "s1"}, headers=coordinator
                )
                for s in (first, second.json()["session_id"])
            )
        )
        assert sorted(r.status_code for r in answers) == [201, 409]


async def test_organisers_come_from_the_scheme_or_from_recruitment(
    database_url: str, nats_url: str
) -> None:
    async with sessions_service(database_url, nats_url) as h:
        scheme = await launch(h)
        single = {
            "starts_at": "2026-10-06T14:00:00",
            "ends_at": "2026-10-06T15:00:00",
            "room": "Physics 1.02",
            "capacity": 30,
        }
        url = f"/schemes/{scheme}/sessions"
        assert (
            await h.client.post(url, json=single, headers=h.auth("organiser", "s50"))
        ).status_code == 403

        await appoint(h, nats_url, ["s50"], [scheme], role="organiser")
        r = await h.client.post(url, json=single, headers=h.auth("organiser", "s50"))
        assert r.status_code == 201
        leaders = (
            await h.client.get(f"/schemes/{scheme}/leaders", headers=h.auth("leader"))
        ).json()
        assert leaders[0]["organiser"] is True and leaders[0]["leader"] is False

        r = await h.client.patch(
            f"/schemes/{scheme}",
            json={"organisers": ["s60"], "min_leaders_per_session": 3},
            headers=h.auth("coordinator"),
        )
        assert r.status_code == 200 and r.json()["min_leaders_per_session"] == 3
        assert (
            await h.client.patch(
                f"/schemes/{scheme}",
                json={"min_leaders_per_session": 3},
                headers=h.auth("organiser", "s60"),
            )
        ).status_code == 403
        single["starts_at"], single["ends_at"] = "2026-10-07T14:00:00", "2026-10-07T15:00:00"
        assert (
            await h.client.post(url, json=single, headers=h.auth("organiser", "s60"))
        ).status_code == 201
        r = await h.client.patch(
            f"/schemes/{scheme}", json={"min_leaders_per_session": 0}, headers=h.auth("coordinator")
        )
        assert r.status_code == 422
