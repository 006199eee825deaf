"""Hostile input to the attendance service gets a 4xx with the usual body and writes nothing:
NUL characters in JSON, in a path and in CSV uploads, a CSV field over the csv module's limit,
and sign-in times out of Python's range on a paper sheet."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from passhub_shared.storage.schema import events
from tests.attendance.helpers import given_session, now
from tests.support import Harness

CSV = {"Content-Type": "text/csv"}
SHEET = "session_id,student_number,signed_in_at\n"


async def event_count(h: Harness) -> int:
    async with h.runtime.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(events))).scalar_one())


def refused(r: Any, code: str | None = None) -> dict[str, Any]:
    assert 400 <= r.status_code < 500, r.text
    body: dict[str, Any] = r.json()
    assert body["detail"] and body["code"], body
    if code is not None:
        assert body["code"] == code, body
    return body


async def attended(h: Harness) -> None:
    await given_session(h, starts_at=now() - timedelta(minutes=10))
    r = await h.client.post(
        "/sessions/S1/kiosk", json={"student_number": "1001"}, headers=h.auth("integration")
    )
    assert r.status_code == 201, r.text


async def test_a_nul_in_a_feedback_comment_or_a_revoke_reason_writes_nothing(h: Harness) -> None:
    await attended(h)
    before = await event_count(h)
    sheet = {"understanding": 5, "enjoyable": 4, "recommend": 5, "comment": "great\u0000"}
    r = await h.client.post("/sessions/S1/feedback", json=sheet, headers=h.auth("student", "1001"))
    assert refused(r, "invalid_text")["errors"][0]["loc"] == ["body", "comment"]
    r = await h.client.post(
        "/sessions/S1/attendances/1001/revoke",
        json={"reason": "\u0000"},
        headers=h.auth("coordinator"),
    )
    refused(r, "invalid_text")
    r = await h.client.get("/sessions/S1%00/qr-code", headers=h.auth("coordinator"))
    refused(r, "invalid_text")
    assert await event_count(h) == before


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("S1,1002\x00,\n", "NUL"),
        ("S1,1002," + "x" * 200_000 + "\n", "longer than"),
        ("S1,1002,9999-12-31T23:00:00-14:00\n", ""),
        ("S1,1002,0001-01-01T00:00:00\n", ""),
    ],
)
async def test_a_hostile_paper_sheet_is_refused_by_line(h: Harness, line: str, why: str) -> None:
    await attended(h)
    before = await event_count(h)
    sheet = (SHEET + "S1,1003,\n" + line).encode()
    r = await h.client.post("/imports", content=sheet, headers=h.auth("coordinator") | CSV)
    body = refused(r)
    if why:
        assert [e["line"] for e in body["errors"]] == [3] and why in body["errors"][0]["message"]
    assert await event_count(h) == before


@pytest.mark.parametrize(
    ("line", "why"),
    [("1002\x00,M1,2026-27\n", "NUL"), ("1002,M1," + "y" * 200_000 + "\n", "longer than")],
)
async def test_a_hostile_enrolments_file_is_refused_by_line(
    h: Harness, line: str, why: str
) -> None:
    before = await event_count(h)
    data = ("student_number,module,academic_year\n1001,M1,2026-27\n" + line).encode()
    r = await h.client.post(
        "/evaluation/enrolments", content=data, headers=h.auth("coordinator") | CSV
    )
    body = refused(r, "invalid_file")
    assert body["errors"][0]["line"] == 3 and why in body["errors"][0]["message"]
    assert await event_count(h) == before
