"""Helpers for the sessions API tests: a running service with a fixed clock, recruitment's
events published with plain nats-py, and the usual steps of a scheme's year."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any, Literal

import nats
from sqlalchemy import text

from passhub_sessions.service import service
from passhub_shared.contracts.recruitment import LeaderAppointed, LeaderStoodDown
from passhub_shared.messages import envelope
from passhub_shared.messages.events import Event, Recorded, new_event_id
from tests.support import Harness, running_service, wait_for

#: 1 September 2026: before the first teaching week of 2026-27
TODAY = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
ALL_WEEK = [
    {"weekday": d, "starts": "08:00", "ends": "20:00"}
    for d in ("monday", "tuesday", "wednesday", "thursday", "friday")
]


@asynccontextmanager
async def sessions_service(database_url: str, nats_url: str) -> AsyncIterator[Harness]:
    async with running_service(service, database_url, nats_url) as harness:
        harness.runtime.state["clock"] = lambda: TODAY
        yield harness


async def publish(nats_url: str, event: Event, stream_id: str, version: int = 1) -> Recorded:
    """Publish one of recruitment's events as recruitment would: a CloudEvent on its stream."""
    recorded = Recorded(
        id=new_event_id(),
        stream_id=stream_id,
        stream_version=version,
        type=event.type_name(),
        origin="recruitment",
        data=event.model_dump(mode="json"),
        occurred_at=datetime.now(UTC),
    )
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await js.publish(
            event.subject(),
            envelope.encode(recorded),
            headers={"Nats-Msg-Id": str(recorded.id), "content-type": envelope.CONTENT_TYPE},
        )
    finally:
        await nc.close()
    return recorded


async def appoint(
    h: Harness,
    nats_url: str,
    numbers: list[str],
    schemes: list[str],
    role: Literal["leader", "organiser"] = "leader",
) -> None:
    for n in numbers:
        await publish(
            nats_url,
            LeaderAppointed(
                student_number=n,
                name=f"Leader {n}",
                email=f"{n}@example.ac.uk",
                academic_year="2026-27",
                role=role,
                schemes=schemes,
                appointed_on=date(2026, 7, 1),
            ),
            f"leader-{n}",
        )

    async def recorded() -> bool:
        for scheme in schemes:
            leaders = await h.client.get(
                f"/schemes/{scheme}/leaders", headers=h.auth("coordinator")
            )
            if leaders.status_code != 200:
                return False
            flags = {r["student_number"]: r[role] for r in leaders.json()}
            if not all(flags.get(n) for n in numbers):
                return False
        return True

    await wait_for(recorded)


async def stand_down(
    nats_url: str, number: str, schemes: list[str], effective_from: date, reason: str = "resigned"
) -> Recorded:
    return await publish(
        nats_url,
        LeaderStoodDown(
            student_number=number,
            academic_year="2026-27",
            schemes=schemes,
            effective_from=effective_from,
            reason=reason,
        ),
        f"leader-{number}",
        version=2,
    )


async def launch(h: Harness, code: str = "PHYS", **extra: Any) -> str:
    body = {
        "code": code,
        "title": f"{code.title()} PASS",
        "school": "Science",
        "academic_year": "2026-27",
        "mode": "opt_in",
        **extra,
    }
    r = await h.client.post("/schemes", json=body, headers=h.auth("coordinator", "staff-1"))
    assert r.status_code == 201, r.text
    return str(r.json()["scheme_id"])


async def series(h: Harness, scheme: str, **extra: Any) -> dict[str, Any]:
    body = {
        "weekday": "tuesday",
        "starts": "14:00",
        "ends": "15:00",
        "room": "Physics 1.02",
        "capacity": 40,
        **extra,
    }
    r = await h.client.post(f"/schemes/{scheme}/series", json=body, headers=h.auth("coordinator"))
    assert r.status_code == 201, r.text
    result: dict[str, Any] = r.json()
    return result


async def all_week(
    h: Harness, numbers: list[str], slots: list[dict[str, Any]] | None = None
) -> None:
    for n in numbers:
        r = await h.client.put(
            f"/leaders/{n}/availability/2026-27",
            json={"slots": slots or ALL_WEEK},
            headers=h.auth("leader", n),
        )
        assert r.status_code == 200, r.text


async def event_count(h: Harness) -> int:
    async with h.runtime.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM events"))).scalar_one())
