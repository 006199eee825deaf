"""Hostile input to the recognition service gets a 4xx with the usual body and writes
nothing: a NUL in an activity's note or in a path, and dates out of range."""

from __future__ import annotations

import pytest

from tests.recognition.builders import YEAR, appointed, launched, trained
from tests.recognition.feed import LocalFeed
from tests.recognition.test_api import own_event_count
from tests.support import Harness

MEETING = {
    "academic_year": YEAR,
    "student_number": "S1",
    "kind": "mentor_meeting",
    "held_on": "2026-11-02",
    "hours": 1.5,
    "note": "first mentor meeting",
}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"note": "first\u0000meeting"}, "invalid_text"),
        ({"held_on": "9999-12-31"}, "out_of_range"),
        ({"held_on": "0001-01-01"}, "out_of_range"),
    ],
)
async def test_a_hostile_activity_is_refused_and_writes_nothing(
    recognition: Harness, feed: LocalFeed, change: dict[str, str], code: str
) -> None:
    await feed.apply([launched(), appointed("S1"), trained("S1")])
    r = await recognition.client.post(
        "/activities", json=MEETING | change, headers=recognition.auth("coordinator")
    )
    assert r.status_code == 422 and r.json()["code"] == code, r.text
    assert await own_event_count(recognition) == 0
    r = await recognition.client.post(
        "/activities/x%00/strike", json={"reason": "r"}, headers=recognition.auth("coordinator")
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_text", r.text
