"""From recruitment's `leader_appointed` to a rostered session, from `leader_stood_down` to
`leader_unrostered`, what is published, and a replay that equals the live tables."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text

from passhub_shared.contracts.sessions import LeaderUnrostered
from passhub_shared.operations import replay
from tests.sessions.flows import (
    all_week,
    appoint,
    launch,
    series,
    sessions_service,
    stand_down,
)
from tests.support import Harness, read_stream, wait_for

LEADERS = [f"s{i}" for i in range(1, 7)]


async def rota(h: Harness, scheme: str) -> dict[str, Any]:
    r = await h.client.get(f"/schemes/{scheme}/rota", headers=h.auth("coordinator"))
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


async def test_appointed_leaders_are_rostered_fairly(database_url: str, nats_url: str) -> None:
    async with sessions_service(database_url, nats_url) as h:
        scheme = await launch(h, organisers=["org-1"])
        await series(h, scheme)
        await series(h, scheme, weekday="thursday", starts="11:00", ends="12:00")
        await appoint(h, nats_url, LEADERS, [scheme])
        await all_week(h, LEADERS[:5])  # s6 states nothing

        r = await h.client.post(
            f"/schemes/{scheme}/rota", json={}, headers=h.auth("organiser", "org-1")
        )
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["sessions_considered"] == 44 and report["unfillable"] == []
        assert len(report["rostered"]) == 88
        assert report["leaders_without_availability"] == ["s6"]
        spread = report["spread"]
        assert spread["per_leader"]["s6"] == 0
        assert {spread["per_leader"][n] for n in LEADERS[:5]} <= {17, 18}
        assert spread["max"] == 18 and spread["mean"] == round(88 / 6, 2)

        view = await rota(h, scheme)
        assert view["short"] == [] and all(len(s["leaders"]) == 2 for s in view["sessions"])

        # generating again changes nothing: every session already has its two leaders
        again = (
            await h.client.post(f"/schemes/{scheme}/rota", headers=h.auth("coordinator"))
        ).json()
        assert again["rostered"] == [] and again["unfillable"] == []

        # what other services see: plain CloudEvents on the sessions stream
        async def published() -> bool:
            found = await read_stream(nats_url, "PASSHUB_SESSIONS")
            return sum(m["type"] == "passhub.sessions.leader_rostered.v1" for m in found) == 88

        await wait_for(published)
        messages = await read_stream(nats_url, "PASSHUB_SESSIONS")
        types = {m["type"] for m in messages}
        assert {
            "passhub.sessions.scheme_launched.v1",
            "passhub.sessions.session_scheduled.v1",
            "passhub.sessions.leader_rostered.v1",
        } <= types
        assert not any("series_planned" in t or "availability" in t for t in types)
        rostered = next(m for m in messages if m["type"].endswith("leader_rostered.v1"))
        assert rostered["source"] == "/passhub/sessions" and rostered["data"]["scheme_id"] == scheme


async def test_manual_changes_get_the_same_checks(database_url: str, nats_url: str) -> None:
    async with sessions_service(database_url, nats_url) as h:
        organiser = h.auth("organiser", "org-1")
        physics = await launch(h, organisers=["org-1"])
        maths = await launch(h, "MATH")
        sessions = (await series(h, physics))["sessions"]
        maths_sessions = (await series(h, maths, room="Maths 1.01", starts="14:30", ends="15:30"))[
            "sessions"
        ]
        await appoint(h, nats_url, ["s1", "s2", "s3"], [physics, maths])
        await appoint(h, nats_url, ["s4"], [maths])
        await all_week(h, ["s1", "s2", "s4"])
        await all_week(h, ["s3"], [{"weekday": "monday", "starts": "09:00", "ends": "17:00"}])
        sid = sessions[0]["session_id"]
        url = f"/sessions/{sid}/leaders"

        r = await h.client.post(url, json={"student_number": "s4"}, headers=organiser)
        assert r.status_code == 422 and r.json()["code"] == "not_appointed"
        r = await h.client.post(url, json={"student_number": "s3"}, headers=organiser)
        assert r.status_code == 422 and r.json()["code"] == "unavailable"
        r = await h.client.post(url, json={"student_number": "s1"}, headers=organiser)
        assert r.status_code == 201 and [x["student_number"] for x in r.json()["leaders"]] == ["s1"]
        assert (
            await h.client.post(url, json={"student_number": "s1"}, headers=organiser)
        ).status_code == 409

        # s1 leads Physics at 14:00, so not Maths at 14:30 the same day
        r = await h.client.post(
            f"/sessions/{maths_sessions[0]['session_id']}/leaders",
            json={"student_number": "s1"},
            headers=h.auth("coordinator"),
        )
        assert r.status_code == 409 and sid in r.json()["detail"]

        # swapping checks the incoming leader too
        r = await h.client.post(
            f"/sessions/{sid}/swap", json={"out": "s1", "incoming": "s3"}, headers=organiser
        )
        assert r.status_code == 422
        r = await h.client.post(
            f"/sessions/{sid}/swap", json={"out": "s1", "incoming": "s2"}, headers=organiser
        )
        assert r.status_code == 200 and [x["student_number"] for x in r.json()["leaders"]] == ["s2"]
        r = await h.client.post(
            f"/sessions/{sid}/leaders/s2/unroster", json={"reason": "exam"}, headers=organiser
        )
        assert r.status_code == 200 and r.json()["leaders"] == []
        mine = (await h.client.get("/leaders/s2/sessions", headers=h.auth("leader", "s2"))).json()
        assert [(m["rostered"], m["unrostered_reason"]) for m in mine] == [(False, "exam")]
        assert (
            await h.client.get("/leaders/s2/sessions", headers=h.auth("leader", "s1"))
        ).status_code == 403

        # a rostered leader's other session blocks moving this one onto it
        assert (
            await h.client.post(url, json={"student_number": "s1"}, headers=organiser)
        ).status_code == 201
        busy = maths_sessions[1]["session_id"]  # Tuesday of week 2, 14:30-15:30
        r = await h.client.post(
            f"/sessions/{busy}/leaders",
            json={"student_number": "s1"},
            headers=h.auth("coordinator"),
        )
        assert r.status_code == 201
        r = await h.client.post(
            f"/sessions/{sid}/reschedule",
            json={"starts_at": "2026-09-29T15:00:00"},
            headers=organiser,
        )
        assert r.status_code == 409 and "s1" in r.json()["detail"] and busy in r.json()["detail"]
        r = await h.client.post(
            f"/sessions/{sid}/reschedule",
            json={"starts_at": "2026-09-29T16:00:00"},
            headers=organiser,
        )
        assert r.status_code == 200 and r.json()["session"]["leaders"][0]["student_number"] == "s1"
        assert r.json()["leaders_not_available"] == []
        # a move is not refused for availability, but the leaders it no longer suits are named
        r = await h.client.post(
            f"/sessions/{sid}/reschedule",
            json={"starts_at": "2026-10-03T10:00:00"},
            headers=organiser,
        )
        assert r.status_code == 200 and r.json()["leaders_not_available"] == ["s1"]


async def test_a_leader_who_stands_down_leaves_future_sessions(
    database_url: str, nats_url: str
) -> None:
    async with sessions_service(database_url, nats_url) as h:
        scheme = await launch(h)
        other = await launch(h, "CHEM")
        sessions = (await series(h, scheme))["sessions"]
        await appoint(h, nats_url, ["s1", "s2", "s3"], [scheme, other])
        await all_week(h, ["s1", "s2"])
        r = await h.client.post(f"/schemes/{scheme}/rota", headers=h.auth("coordinator"))
        assert r.json()["unfillable"] == [] and len(r.json()["rostered"]) == 44

        stood = await stand_down(nats_url, "s1", [scheme], date(2027, 1, 1), "Year abroad")

        async def unrostered() -> bool:
            view = await rota(h, scheme)
            return len(view["short"]) == 11

        await wait_for(unrostered)
        view = await rota(h, scheme)
        leaders = {
            s["session_id"]: [x["student_number"] for x in s["leaders"]] for s in view["sessions"]
        }
        for s in sessions:
            if s["starts_at"] < "2027":
                assert leaders[s["session_id"]] == ["s1", "s2"]
            else:
                assert leaders[s["session_id"]] == ["s2"]
        assert {x["teaching_week"][:2] for x in view["short"]} == {"S2"}

        # the unrostering is published, caused by recruitment's event
        async def published() -> list[dict[str, Any]]:
            found = await read_stream(nats_url, "PASSHUB_SESSIONS")
            return [m for m in found if m["type"] == "passhub.sessions.leader_unrostered.v1"]

        await wait_for(lambda: _has(published, 11))
        off = await published()
        assert all(m["causationid"] == str(stood.id) for m in off)
        assert all(m["data"]["reason"] == "stood down from 2027-01-01: Year abroad" for m in off)

        # the same event delivered again is recorded once and unrosters nothing more
        assert await h.runtime.applier.apply([stood]) == []
        async with h.runtime.engine.connect() as conn:
            count = await conn.execute(
                text("SELECT count(*) FROM events WHERE type = :t"),
                {"t": LeaderUnrostered.type_name()},
            )
            assert count.scalar_one() == 11
        leaders_row = (
            await h.client.get(f"/schemes/{scheme}/leaders", headers=h.auth("coordinator"))
        ).json()
        assert (
            next(r for r in leaders_row if r["student_number"] == "s1")["stood_down_from"]
            == "2027-01-01"
        )
        # ...and s1 can no longer be rostered in semester 2, so the gaps are reported
        r = await h.client.post(f"/schemes/{scheme}/rota", headers=h.auth("coordinator"))
        unfillable = r.json()["unfillable"]
        assert len(unfillable) == 11 and "1 stood down" in unfillable[0]["reason"]
        assert "1 no availability stated" in unfillable[0]["reason"]

        # s3 states availability: regenerating fills the gaps
        await all_week(h, ["s3"])
        r = await h.client.post(f"/schemes/{scheme}/rota", headers=h.auth("coordinator"))
        assert r.json()["unfillable"] == [] and {
            x["student_number"] for x in r.json()["rostered"]
        } == {"s3"}

        # the whole year replays to exactly the live tables
        report = await replay.rebuild(h.runtime.engine, h.runtime.store, commit=False)
        assert report.identical, report.differing_tables
        assert report.events > 90


async def _has(fetch: Any, n: int) -> bool:
    return len(await fetch()) >= n


async def test_past_sessions_are_reported_and_filled_only_when_asked(
    database_url: str, nats_url: str
) -> None:
    async with sessions_service(database_url, nats_url) as h:
        scheme = await launch(h)
        planned = (await series(h, scheme))["sessions"]  # Tuesdays at 14:00 from 22 September
        await appoint(h, nats_url, ["s1", "s2", "s3"], [scheme])
        await all_week(h, ["s1", "s2"])
        await all_week(h, ["s3"], [{"weekday": "monday", "starts": "09:00", "ends": "17:00"}])
        # Wednesday 21 October: five Tuesdays (22 Sep to 20 Oct) have taken place
        h.runtime.state["clock"] = lambda: datetime(2026, 10, 21, 9, 0, tzinfo=UTC)
        past = [s for s in planned if s["starts_at"] < "2026-10-21"]
        assert len(past) == 5
        coordinator = h.auth("coordinator")

        r = await h.client.post(
            f"/schemes/{scheme}/rota", json={"from": "2026-09-01"}, headers=coordinator
        )
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["backfill"] is False
        assert report["sessions_considered"] == len(planned) - 5
        assert not {a["session_id"] for a in report["rostered"]} & {s["session_id"] for s in past}
        skipped = report["past_sessions_skipped"]
        assert [s["session_id"] for s in skipped] == [s["session_id"] for s in past]
        assert skipped[0] == {
            "session_id": past[0]["session_id"],
            "reference": "PHYS-2026-09-22-14:00",
            "starts_at": "2026-09-22T14:00:00+01:00",
            "teaching_week": past[0]["teaching_week"],
            "rostered": 0,
            "needed": 2,
            "reason": "already_started",
        }
        assert report["note"] == (
            "5 session(s) from 2026-09-01 had already started and were left as they are "
            '(5 of them short of leaders); send "backfill": true to roster past sessions'
        )

        # from today on, or with no date, nothing is skipped and nothing is said
        r = await h.client.post(f"/schemes/{scheme}/rota", json={}, headers=coordinator)
        assert r.json()["past_sessions_skipped"] == [] and r.json()["note"] is None

        # back-filling needs a date, and fills the past sessions by the same rules
        r = await h.client.post(
            f"/schemes/{scheme}/rota", json={"backfill": True}, headers=coordinator
        )
        assert r.status_code == 422 and r.json()["code"] == "backfill_needs_from"
        r = await h.client.post(
            f"/schemes/{scheme}/rota",
            json={"from": "2026-09-01", "backfill": True},
            headers=coordinator,
        )
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["backfill"] is True and report["past_sessions_skipped"] == []
        assert report["note"] is None
        filled = {(a["session_id"], a["student_number"]) for a in report["rostered"]}
        # s3 is available on Mondays only: past Tuesdays get s1 and s2, as future ones did
        assert filled == {(s["session_id"], n) for s in past for n in ("s1", "s2")}
        view = (
            await h.client.get(
                f"/schemes/{scheme}/rota", params={"from": "2026-09-01"}, headers=coordinator
            )
        ).json()
        assert view["short"] == []
        assert {s["reference"] for s in view["sessions"]} >= {"PHYS-2026-10-20-14:00"}
