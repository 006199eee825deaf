"""Hostile input to the sessions service gets a 4xx with the usual body and writes nothing:
NUL characters in JSON, in a path id, in a query and in a token's subject, non-ASCII in a feed
link's token, and dates Python or PostgreSQL cannot hold."""

from __future__ import annotations

from typing import Any

import icalendar
import pytest

from tests.sessions.flows import event_count, launch, series, sessions_service
from tests.support import Harness


def refused(r: Any, status: int = 422, code: str = "invalid_text") -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["code"] == code and body["detail"], body
    return body


@pytest.fixture
async def h(database_url: str, nats_url: str):  # type: ignore[no-untyped-def]
    async with sessions_service(database_url, nats_url) as harness:
        yield harness


async def test_a_nul_in_any_json_string_is_refused_and_writes_nothing(h: Harness) -> None:
    coordinator = h.auth("coordinator")
    scheme = await launch(h)
    session = (await series(h, scheme))["sessions"][0]["session_id"]
    before = await event_count(h)
    body = {
        "code": "CHEM",
        "title": "Chemistry\u0000PASS",
        "school": "Science",
        "academic_year": "2026-27",
        "mode": "opt_in",
    }
    problem = refused(await h.client.post("/schemes", json=body, headers=coordinator))
    assert problem["errors"][0]["loc"] == ["body", "title"]
    r = await h.client.post(
        f"/sessions/{session}/move", json={"room": "Lab\u0000 2"}, headers=coordinator
    )
    refused(r)
    r = await h.client.post(
        f"/sessions/{session}/cancel", json={"reason": "\u0000"}, headers=coordinator
    )
    refused(r)
    # a NUL in a key, and an escaped backslash before "u0000" (which is no NUL) passes
    r = await h.client.post(
        f"/sessions/{session}/cancel", json={"reason\u0000": "x"}, headers=coordinator
    )
    refused(r)
    assert await event_count(h) == before
    r = await h.client.post(
        f"/sessions/{session}/cancel", json={"reason": "typed \\u0000"}, headers=coordinator
    )
    assert r.status_code == 200, r.text
    assert await event_count(h) == before + 1


async def test_a_nul_in_a_path_or_query_is_refused(h: Harness) -> None:
    coordinator = h.auth("coordinator")
    refused(await h.client.get("/schemes/2026-27-PHYS%00", headers=coordinator))
    refused(
        await h.client.post("/sessions/x%00y/cancel", json={"reason": "r"}, headers=coordinator)
    )
    refused(await h.client.get("/schemes?academic_year=2026%0027", headers=coordinator))
    assert await event_count(h) == 0


async def test_a_nul_in_a_tokens_subject_is_a_401(h: Harness) -> None:
    token = h.token("coordinator", sub="staff\u00001")
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "code": "CHEM",
        "title": "Chemistry PASS",
        "school": "Science",
        "academic_year": "2026-27",
        "mode": "opt_in",
    }
    refused(await h.client.post("/schemes", json=body, headers=headers), 401, "unauthorised")
    assert await event_count(h) == 0


async def test_non_ascii_in_a_feed_links_token_is_a_403(h: Harness) -> None:
    scheme = await launch(h)
    r = await h.client.get(f"/feeds/schemes/{scheme}.ics", params={"token": "é" * 43})
    refused(r, 403, "forbidden")


@pytest.mark.parametrize(
    ("starts_at", "ends_at"),
    [
        ("9999-12-31T23:00:00-14:00", "9999-12-31T23:30:00-14:00"),
        ("9999-12-31T22:00:00", "9999-12-31T23:00:00"),
        ("0001-01-01T00:00:00+14:00", "0001-01-01T01:00:00+14:00"),
        ("0001-01-01T00:00:00", "0001-01-01T01:00:00"),
    ],
)
async def test_a_date_out_of_range_is_a_422_and_writes_nothing(
    h: Harness, starts_at: str, ends_at: str
) -> None:
    scheme = await launch(h)
    before = await event_count(h)
    r = await h.client.post(
        f"/schemes/{scheme}/sessions",
        json={"starts_at": starts_at, "ends_at": ends_at, "room": "Lab 1", "capacity": 20},
        headers=h.auth("coordinator"),
    )
    assert 400 <= r.status_code < 500, r.text
    assert set(r.json()) >= {"detail", "code"}, r.text
    assert await event_count(h) == before


async def test_a_new_line_in_a_feeds_name_is_escaped(h: Harness) -> None:
    scheme = await launch(h, title="Physics\nPASS")
    await series(h, scheme)
    coordinator = h.auth("coordinator")
    for url in ("/feeds/leaders/a%0Ab.ics", f"/feeds/schemes/{scheme}.ics"):
        r = await h.client.get(url, headers=coordinator)
        assert r.status_code == 200, r.text
        calendar = icalendar.Calendar.from_ical(r.content)  # one line per property
        assert "\\n" in str(calendar["X-WR-CALNAME"])  # the new line, escaped
