"""iCalendar feeds: served as text/calendar, read back with `icalendar` and with `vobject` (an
independent parser), updated by changes and cancellations, and reachable by a signed link."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import icalendar
import vobject

from tests.sessions.flows import all_week, appoint, launch, series, sessions_service
from tests.support import Harness


def by_uid(body: bytes) -> dict[str, Any]:
    calendar = icalendar.Calendar.from_ical(body)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def independently(body: bytes) -> dict[str, Any]:
    """The same feed through vobject."""
    calendar = vobject.readOne(body.decode())
    return {e.uid.value: e for e in calendar.vevent_list}


async def feed(h: Harness, url: str, **headers: str) -> bytes:
    r = await h.client.get(url, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/calendar")
    return r.content


async def test_scheme_and_leader_feeds(database_url: str, nats_url: str) -> None:
    async with sessions_service(database_url, nats_url) as h:
        coordinator = h.auth("coordinator")
        scheme = await launch(h)
        sessions = (await series(h, scheme))["sessions"]
        await appoint(h, nats_url, ["s1", "s2", "s3"], [scheme])
        await all_week(h, ["s1", "s2", "s3"])
        await h.client.post(f"/schemes/{scheme}/rota", headers=coordinator)
        moved, cancelled = sessions[3]["session_id"], sessions[4]["session_id"]
        uid = f"{moved}@passhub"

        before = by_uid(await feed(h, f"/feeds/schemes/{scheme}.ics", **h.auth("student", "u1")))
        assert len(before) == 22
        first = before[f"{sessions[0]['session_id']}@passhub"]
        assert first.decoded("DTSTART") == datetime.fromisoformat(sessions[0]["starts_at"])
        assert str(first["DTSTART"].params["TZID"]) == "Europe/London"
        assert str(first["STATUS"]) == "CONFIRMED" and str(first["LOCATION"]) == "Physics 1.02"

        r = await h.client.post(
            f"/sessions/{moved}/reschedule",
            json={"starts_at": "2026-10-16T10:00:00"},
            headers=coordinator,
        )
        assert r.status_code == 200, r.text
        r = await h.client.post(
            f"/sessions/{cancelled}/cancel", json={"reason": "Strike"}, headers=coordinator
        )
        assert r.status_code == 200

        body = await feed(h, f"/feeds/schemes/{scheme}.ics", **h.auth("student", "u1"))
        after = by_uid(body)
        assert len(after) == 22
        assert int(after[uid]["SEQUENCE"]) > int(before[uid]["SEQUENCE"])
        assert after[uid].decoded("DTSTART").isoformat() == "2026-10-16T10:00:00+01:00"
        assert str(after[f"{cancelled}@passhub"]["STATUS"]) == "CANCELLED"
        assert "Strike" in str(after[f"{cancelled}@passhub"]["DESCRIPTION"])

        other = independently(body)
        assert len(other) == 22
        assert other[uid].dtstart.value.isoformat() == "2026-10-16T10:00:00+01:00"
        assert other[uid].sequence.value == str(after[uid]["SEQUENCE"])
        assert other[f"{cancelled}@passhub"].status.value == "CANCELLED"
        assert {e.status.value for e in other.values()} == {"CONFIRMED", "CANCELLED"}

        # a leader's own feed: their sessions, and the ones they were taken off as cancelled
        mine = by_uid(await feed(h, "/feeds/leaders/s1.ics", **h.auth("leader", "s1")))
        rostered = [s for s in sessions if s["session_id"] != cancelled]
        on_s1 = [u for u, e in mine.items() if str(e["STATUS"]) == "CONFIRMED"]
        assert 0 < len(on_s1) < 22
        target = on_s1[0].removesuffix("@passhub")
        assert target in {s["session_id"] for s in rostered}
        r = await h.client.post(
            f"/sessions/{target}/leaders/s1/unroster", json={"reason": "ill"}, headers=coordinator
        )
        assert r.status_code == 200
        again = by_uid(await feed(h, "/feeds/leaders/s1.ics", **h.auth("leader", "s1")))
        assert str(again[f"{target}@passhub"]["STATUS"]) == "CANCELLED"
        assert int(again[f"{target}@passhub"]["SEQUENCE"]) > int(
            mine[f"{target}@passhub"]["SEQUENCE"]
        )
        assert len(independently(await feed(h, "/feeds/leaders/s1.ics", **coordinator))) == len(
            again
        )


async def test_feed_links_are_signed(database_url: str, nats_url: str) -> None:
    async with sessions_service(database_url, nats_url) as h:
        scheme = await launch(h)
        await series(h, scheme, semesters=[1])
        await appoint(h, nats_url, ["s1", "s2"], [scheme])

        assert (await h.client.get("/feeds/leaders/s1.ics")).status_code == 401
        assert (await h.client.get(f"/feeds/schemes/{scheme}.ics")).status_code == 401
        assert (
            await h.client.get("/feeds/leaders/s1.ics", headers=h.auth("leader", "s2"))
        ).status_code == 403
        assert (
            await h.client.get("/feeds/leaders/s1/link", headers=h.auth("leader", "s2"))
        ).status_code == 403

        link = (await h.client.get("/feeds/leaders/s1/link", headers=h.auth("leader", "s1"))).json()
        url = urlsplit(link["url"])
        assert url.path == "/feeds/leaders/s1.ics"
        await feed(h, f"{url.path}?{url.query}")  # no bearer: the link is enough
        assert (await h.client.get(f"/feeds/leaders/s2.ics?{url.query}")).status_code == 403
        assert (await h.client.get("/feeds/leaders/s1.ics?token=forged")).status_code == 403

        scheme_link = (
            await h.client.get(f"/feeds/schemes/{scheme}/link", headers=h.auth("student"))
        ).json()
        path = urlsplit(scheme_link["url"])
        events = independently(await feed(h, f"{path.path}?{path.query}"))
        assert len(events) == 11
