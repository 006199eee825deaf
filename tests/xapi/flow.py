"""A PASS week as the bridge sees it: the sessions service's events on NATS, the attendance
service running in this process (consuming them and publishing its own), sign-ins of every
kind, and the statements the bridge should have posted, written out by hand."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import nats
from nats.js.errors import NotFoundError

from passhub_xapi.bridge import Bridge
from passhub_xapi.settings import BridgeSettings
from tests.attendance.helpers import publish, scheme_launched, session_events
from tests.support import Harness, read_stream, wait_for
from tests.xapi.ralph import Ralph

JISC = "http://xapi.jisc.ac.uk/"


def utc(value: str) -> str:
    moment = datetime.fromisoformat(value).astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def statement_id(event_id: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:uuid:{event_id}"))


async def schedule(nats_url: str, *session_ids: str, leaders: tuple[str, ...] = ("L100", "L200")):
    """Publish the scheme and its sessions (started 10 minutes ago) on NATS."""
    events = [scheme_launched()]
    scheduled = {}
    for session_id in session_ids:
        recorded = session_events(session_id, leaders=leaders)
        scheduled[session_id] = recorded[0].data
        events.extend(recorded)
    await publish(nats_url, events)
    return scheduled


async def known(h: Harness, session_id: str) -> bool:
    r = await h.client.get("/sessions", headers=h.auth("integration", "kiosk"))
    return any(s["session_id"] == session_id for s in r.json())


async def kiosk(h: Harness, session_id: str, student: str) -> None:
    r = await h.client.post(
        f"/sessions/{session_id}/kiosk",
        json={"student_number": student},
        headers=h.auth("integration", "kiosk"),
    )
    assert r.status_code in (200, 201), r.text


async def attendance_events(nats_url: str, count: int) -> list[dict[str, Any]]:
    async def relayed() -> bool:
        return len(await read_stream(nats_url, "PASSHUB_ATTENDANCE")) >= count

    await wait_for(relayed, timeout=30)
    return await read_stream(nats_url, "PASSHUB_ATTENDANCE")


def ours(ralph: Ralph, settings: BridgeSettings) -> list[dict[str, Any]]:
    """The statements the LRS returns whose actor is an account on this test's home page."""
    home = settings.home_page
    return [
        s
        for s in ralph.statements()
        if (s.get("actor", {}).get("account") or {}).get("homePage") == home
    ]


async def until_statements(
    ralph: Ralph, settings: BridgeSettings, count: int, timeout: float = 60
) -> list[dict[str, Any]]:
    async def enough() -> bool:
        return len(await asyncio.to_thread(ours, ralph, settings)) >= count

    await wait_for(enough, timeout=timeout, interval=0.3)
    return await asyncio.to_thread(ours, ralph, settings)


@contextlib.asynccontextmanager
async def bridge_running(settings: BridgeSettings) -> AsyncIterator[Bridge]:
    bridge = Bridge(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(bridge.run(stop))
    try:
        yield bridge
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await bridge.close()


async def consumer_drained(settings: BridgeSettings) -> bool:
    nc = await nats.connect(settings.nats_url)
    try:
        info = await nc.jetstream().consumer_info(
            "PASSHUB_ATTENDANCE", f"{settings.durable}-attendance"
        )
        return info.num_pending == 0 and info.num_ack_pending == 0
    except NotFoundError:  # the bridge has not made it yet
        return False
    finally:
        await nc.close()


def expected_attended(
    settings: BridgeSettings,
    event: dict[str, Any],
    session: dict[str, Any],
    captured_from: str,
    leaders: tuple[str, ...] = ("L100", "L200"),
) -> dict[str, Any]:
    """The statement for a `student_signed_in`, written from Jisc's recipe by hand."""
    base, home = settings.base, settings.home_page
    data = event["data"]
    start, end = utc(session["starts_at"]), utc(session["ends_at"])
    return {
        "id": statement_id(event["id"]),
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": home, "name": data["student_number"]},
        },
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en": "attended"}},
        "object": {
            "objectType": "Activity",
            "id": f"{base}/sessions/{session['session_id']}",
            "definition": {
                "type": "http://xapi.jisc.ac.uk/event_non-timetabled",
                "name": {"en-GB": f"Physics PASS, {start[:10]} {start[11:16]} UTC"},
                "description": {"en-GB": f"PASS session in {session['room']}"},
                "extensions": {
                    JISC + "event_type_description": "PASS session",
                    JISC + "event_max_count": session["capacity"],
                    JISC + "event_mandatory": 0,
                    JISC + "starttime": start,
                    JISC + "endtime": end,
                },
            },
        },
        "result": {
            "completion": True,
            "extensions": {JISC + "submission_time": utc(data["signed_in_at"])},
        },
        "context": {
            "platform": "passhub",
            "instructor": {
                "objectType": "Group",
                "member": [
                    {"objectType": "Agent", "account": {"homePage": home, "name": leader}}
                    for leader in leaders
                ],
            },
            "contextActivities": {
                "parent": [
                    {
                        "objectType": "Activity",
                        "id": f"{base}/schemes/2026-27-PHYS",
                        "definition": {"name": {"en-GB": "Physics PASS"}},
                    }
                ],
                "grouping": [
                    {
                        "objectType": "Activity",
                        "id": f"{base}/modules/{module}",
                        "definition": {"name": {"en-GB": module}},
                    }
                    for module in ("PHYS101", "PHYS102")
                ],
            },
            "extensions": {
                JISC + "recipeCat": "Attendance",
                JISC + "captured_from": captured_from,
                JISC + "courseArea": {JISC + "uddModInstanceID": "PHYS101"},
            },
        },
        "timestamp": start,
    }


def expected_voiding(
    settings: BridgeSettings, event: dict[str, Any], voided: str
) -> dict[str, Any]:
    return {
        "id": statement_id(event["id"]),
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": settings.home_page, "name": "passhub"},
        },
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en": "voided"}},
        "object": {"objectType": "StatementRef", "id": voided},
        "context": {
            "extensions": {f"{settings.base}/extensions/revocation_reason": event["data"]["reason"]}
        },
        "timestamp": utc(event["time"]),
    }


def assert_same(got: list[dict[str, Any]], expected: list[dict[str, Any]]) -> None:
    """Each expected statement is in the LRS once, equal field by field (the LRS adds
    `stored`, `authority` and maybe `version`)."""
    ids = [s["id"] for s in got]
    assert len(ids) == len(set(ids)), "a statement is in the LRS twice"
    assert sorted(ids) == sorted(e["id"] for e in expected)
    by_id = {s["id"]: s for s in got}
    for e in expected:
        stored = by_id[e["id"]]
        for key, value in e.items():
            assert stored[key] == value, (key, stored[key], value)
