"""Events in and out over a real NATS: the sessions service's events build the schedule, and
an outside system subscribing with plain nats-py sees each attendance exactly once."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from passhub_attendance.service import service
from passhub_shared.contracts.sessions import SessionRescheduled
from passhub_shared.messages import envelope
from passhub_shared.messages.events import new_event_id
from tests.attendance.helpers import (
    as_sessions_event,
    cancelled,
    now,
    publish,
    scheme_launched,
    session_events,
)
from tests.support import Harness, open_sealed, read_stream, running_service, wait_for


async def session_known(h: Harness, session_id: str) -> bool:
    r = await h.client.get("/sessions", headers=h.auth("integration", "kiosk"))
    return any(s["session_id"] == session_id for s in r.json())


async def test_sessions_events_from_nats_build_the_schedule_and_sign_ins_are_published(
    database_url: str, nats_url: str
) -> None:
    scheduled = session_events("S1")
    await publish(nats_url, [scheme_launched(), *scheduled])
    async with running_service(service, database_url, nats_url) as h:
        await wait_for(lambda: session_known(h, "S1"))
        moved = as_sessions_event(
            SessionRescheduled(
                session_id="S1",
                scheme_id=scheduled[0].data["scheme_id"],
                starts_at=now() - timedelta(minutes=5),
                ends_at=now() + timedelta(minutes=55),
                room="P/T/101",
                capacity=30,
            ),
            "session-S1",
        )
        await publish(nats_url, [moved])

        async def moved_room() -> bool:
            r = await h.client.get("/sessions", headers=h.auth("integration"))
            return r.json()[0]["room"] == "P/T/101"

        await wait_for(moved_room)
        r = await h.client.post(
            "/sessions/S1/kiosk",
            json={"student_number": "1234567"},
            headers=h.auth("integration", "kiosk-P101"),
        )
        assert r.status_code == 201

        async def published() -> bool:
            return len(await read_stream(nats_url, "PASSHUB_ATTENDANCE")) == 1

        await wait_for(published)
        [event] = await read_stream(nats_url, "PASSHUB_ATTENDANCE")
        assert event["type"] == "passhub.attendance.student_signed_in.v1"
        assert event["source"] == "/passhub/attendance"
        async with h.runtime.transaction() as conn:
            person = await h.runtime.store.pseudonym(conn, "1234567")
        assert event["subject"] == f"attendance-S1/{person}"  # never the student number
        assert event["specversion"] == "1.0"
        assert event["data"]["student_number"] == "1234567"
        assert event["data"]["modules"] == ["PHYS101", "PHYS102"]
        assert event["data"]["method"] == "kiosk"
        assert "actor" not in json.dumps(event)


class Analytics:
    """An outside subscriber, written as docs/integrators.md shows: a durable pull consumer
    from the start of the stream, de-duplicating by CloudEvent id, acking after processing."""

    def __init__(self, nats_url: str) -> None:
        self.nats_url = nats_url
        self.seen: set[str] = set()
        self.attendances: list[dict[str, Any]] = []
        self.deliveries = 0

    async def run_once(self, *, ack: bool, max_messages: int = 100) -> None:
        nc = await nats.connect(self.nats_url)
        try:
            js = nc.jetstream()
            sub = await js.pull_subscribe(
                "passhub.attendance.>",
                durable="learner-analytics",
                stream="PASSHUB_ATTENDANCE",
                config=ConsumerConfig(
                    deliver_policy=DeliverPolicy.ALL,
                    ack_policy=AckPolicy.EXPLICIT,
                    ack_wait=1.0,
                ),
            )
            try:
                messages = await sub.fetch(max_messages, timeout=2)
            except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either
                messages = []
            for msg in messages:
                self.deliveries += 1
                event = json.loads(msg.data)
                if event["id"] not in self.seen:
                    self.seen.add(event["id"])
                    if event["type"] == "passhub.attendance.student_signed_in.v1":
                        # authorised to read personal fields: opens them as the guide shows
                        self.attendances.append(await open_sealed(js, "attendance", event["data"]))
                if ack:
                    await msg.ack()
        finally:
            await nc.close()  # without acks: as if the subscriber crashed mid-batch


async def test_an_outside_subscriber_sees_each_attendance_once(
    database_url: str, nats_url: str
) -> None:
    scheduled = [scheme_launched(), *session_events("S1"), *session_events("S2")]
    await publish(nats_url, scheduled)
    async with running_service(service, database_url, nats_url) as h:
        await wait_for(lambda: session_known(h, "S2"))
        for student in ("1001", "1002", "1003"):
            for _ in range(2):  # twice each: one attendance
                r = await h.client.post(
                    "/sessions/S1/kiosk",
                    json={"student_number": student},
                    headers=h.auth("integration", "kiosk"),
                )
                assert r.status_code in (200, 201)
        await h.client.post(
            "/sessions/S2/attendances",
            json={"student_number": "1001"},
            headers=h.auth("leader", "L100"),
        )

        async def relayed() -> bool:
            return len(await read_stream(nats_url, "PASSHUB_ATTENDANCE")) == 4

        await wait_for(relayed)

        # A sessions event delivered again (same CloudEvent id, republished after the
        # duplicate window: a new NATS message id) changes nothing.
        nc = await nats.connect(nats_url)
        again = replace(scheduled[1])
        await nc.jetstream().publish(
            again.subject, envelope.encode(again), headers={"Nats-Msg-Id": str(new_event_id())}
        )
        await nc.close()
        await asyncio.sleep(0.5)

    # The service restarts (relay and consumer again from their durable state).
    async with running_service(service, database_url, nats_url) as h:
        r = await h.client.post(
            "/sessions/S1/kiosk",
            json={"student_number": "1001"},
            headers=h.auth("integration", "kiosk"),
        )
        assert r.status_code == 200 and r.json()["created"] is False
        await asyncio.sleep(0.5)

    analytics = Analytics(nats_url)
    await analytics.run_once(ack=False)  # crashes before acking
    assert analytics.deliveries == 4
    await asyncio.sleep(1.2)  # past ack_wait: JetStream delivers them again
    await analytics.run_once(ack=True)
    assert analytics.deliveries == 8
    await analytics.run_once(ack=True)  # nothing left
    assert analytics.deliveries == 8
    assert sorted((a["session_id"], a["student_number"]) for a in analytics.attendances) == [
        ("S1", "1001"),
        ("S1", "1002"),
        ("S1", "1003"),
        ("S2", "1001"),
    ]
    stream = await read_stream(nats_url, "PASSHUB_ATTENDANCE")
    assert len(stream) == 4
    assert len({e["id"] for e in stream}) == 4


async def test_a_cancellation_over_nats_revokes_and_publishes(
    database_url: str, nats_url: str
) -> None:
    await publish(nats_url, [scheme_launched(), *session_events("S1")])
    async with running_service(service, database_url, nats_url) as h:
        await wait_for(lambda: session_known(h, "S1"))
        await h.client.post(
            "/sessions/S1/kiosk",
            json={"student_number": "1001"},
            headers=h.auth("integration", "kiosk"),
        )
        await publish(nats_url, [cancelled("S1")])

        async def revoked() -> bool:
            types = [e["type"] for e in await read_stream(nats_url, "PASSHUB_ATTENDANCE")]
            return types == [
                "passhub.attendance.student_signed_in.v1",
                "passhub.attendance.attendance_revoked.v1",
            ]

        await wait_for(revoked)
        [_, revocation] = await read_stream(nats_url, "PASSHUB_ATTENDANCE")
        assert revocation["data"]["reason"] == "session cancelled: leader ill"
        assert revocation["causationid"]  # caused by the sessions event
