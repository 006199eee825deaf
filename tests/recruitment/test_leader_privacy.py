"""Who sees a leader's email and why they stood down: the reason is for coordinators only (it
is not published either), the email for the staff who contact leaders."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from passhub_recruitment.service import service
from tests.recruitment.flow import (
    PERSONAL,
    PHYS,
    YEAR,
    apply,
    appoint,
    assess,
    coordinator,
    csv_of,
    import_csv,
    launch,
    open_campaign,
    train,
)
from tests.support import Harness, read_stream, running_service, wait_for

REASON = "mental health leave"


@pytest.fixture
async def h(database_url: str, nats_url: str) -> AsyncIterator[Harness]:
    async with running_service(service, database_url, nats_url) as harness:
        await launch(harness, nats_url, PHYS)
        await open_campaign(harness)
        assert (await import_csv(harness, csv_of("S1000001"))).status_code == 201
        application_id = (await apply(harness, "S1000001")).json()["application_id"]
        await assess(harness, application_id, PERSONAL)
        await train(harness, f"{YEAR}-core-1", "S1000001")
        assert (await appoint(harness, application_id, [PHYS])).status_code == 200
        stood = await harness.client.post(
            f"/applications/{application_id}/stand-down",
            json={"effective_from": "2026-11-01", "reason": REASON},
            headers=coordinator(harness),
        )
        assert stood.status_code == 200, stood.text
        yield harness


@pytest.mark.parametrize(
    ("role", "sees_email", "sees_reason"),
    [
        ("coordinator", True, True),
        ("organiser", True, False),
        ("integration", True, False),
        ("leader", False, False),
        ("academic", False, False),
    ],
)
async def test_past_leaders_as_each_role_sees_them(
    h: Harness, role: str, sees_email: bool, sees_reason: bool
) -> None:
    for url, params in (
        ("/leaders", {"academic_year": YEAR, "include_past": "true"}),
        (f"/schemes/{PHYS}/leaders", {"include_past": "true"}),
    ):
        r = await h.client.get(url, params=params, headers=h.auth(role, "someone"))
        assert r.status_code == 200, r.text
        [leader] = r.json()
        assert leader["name"] == "Ada Lovelace" and leader["stood_down_from"] == "2026-11-01"
        assert (leader["email"] == "ada@example.ac.uk") is sees_email
        assert leader["email"] is None or sees_email
        assert (leader["stand_down_reason"] == REASON) is sees_reason
        assert (REASON in r.text) is sees_reason


async def test_the_reason_is_not_published(h: Harness, nats_url: str) -> None:
    async def stood_down_on_nats() -> bool:
        published = await read_stream(nats_url, "PASSHUB_RECRUITMENT")
        return any(m["type"].endswith("leader_stood_down.v1") for m in published)

    await wait_for(stood_down_on_nats, timeout=20)
    published = await read_stream(nats_url, "PASSHUB_RECRUITMENT")
    [stood] = [m for m in published if m["type"].endswith("leader_stood_down.v1")]
    assert stood["data"]["reason"] == "" and stood["data"]["effective_from"] == "2026-11-01"
    assert all(REASON not in str(m) for m in published)
