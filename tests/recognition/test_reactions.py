"""Corrections consumed after the awards run: each withdraws exactly the awards it breaks,
against the policy version they were granted under; replay reproduces the result."""

from __future__ import annotations

from datetime import date

from passhub_shared.operations.replay import rebuild
from tests.recognition.builders import (
    YEAR,
    appointed,
    cancelled,
    delivered,
    launched,
    rescheduled,
    revoked,
    stood_down,
    trained,
)
from tests.recognition.feed import LocalFeed
from tests.recognition.runs import run_awards
from tests.support import Harness


async def statuses(h: Harness) -> dict[tuple[str, str], str]:
    awards = await h.client.get(f"/awards?academic_year={YEAR}", headers=h.auth("coordinator"))
    return {(a["student_number"], a["kind"]): a["status"] for a in awards.json()}


async def run(h: Harness) -> dict:
    return await run_awards(h.client, YEAR, h.auth("coordinator"))


def hear_policy(hear: dict, **requirements: object) -> dict:
    """Only the HEAR entry offered, with these requirements."""
    disabled = {"enabled": False}
    return {
        "awards": {
            "hear": {**hear, "requirements": {**hear["requirements"], **requirements}},
            "certificate": {**hear, **disabled},
            "psa": {**hear, **disabled},
        }
    }


async def test_corrections_withdraw_what_they_break_and_nothing_else(
    recognition: Harness, feed: LocalFeed
) -> None:
    h, c, coordinator = recognition, recognition.client, recognition.auth("coordinator")
    hear = (await c.get(f"/policies/{YEAR}", headers=coordinator)).json()["policy"]["awards"][
        "hear"
    ]
    policy = hear_policy(hear, not_stood_down_before="2027-05-01")
    assert (await c.put(f"/policies/{YEAR}", json=policy, headers=coordinator)).status_code == 200
    people = ["S1", "S2", "S3", "S4"]
    await feed.apply([launched(), *[appointed(s) for s in people], *[trained(s) for s in people]])
    # S1..S3 deliver the same 8 sessions; S4 delivers 9
    for s in people:
        await feed.apply(delivered(9 if s == "S4" else 8, s))
    assert (await run(h))["granted"] == 4

    # a student's attendance revoked: no leader is affected
    await feed.apply([revoked(1, "S1", role="student")])
    # S1's own sign-in revoked: S1 loses the entry
    await feed.apply([revoked(2, "S1")])
    # S2 stood down before the policy's date
    await feed.apply([stood_down(date(2027, 2, 1), "S2")])
    assert await statuses(h) == {
        ("S1", "hear"): "withdrawn",
        ("S2", "hear"): "withdrawn",
        ("S3", "hear"): "granted",
        ("S4", "hear"): "granted",
    }
    # a session cancelled after the fact breaks S3 (8 sessions) but not S4 (9)
    await feed.apply([cancelled(5)])
    assert await statuses(h) == {
        ("S1", "hear"): "withdrawn",
        ("S2", "hear"): "withdrawn",
        ("S3", "hear"): "withdrawn",
        ("S4", "hear"): "granted",
    }
    awards = (await c.get(f"/awards?academic_year={YEAR}", headers=coordinator)).json()
    reasons = {a["student_number"]: a["withdrawn_reason"] for a in awards}
    assert reasons["S2"] == (
        "stood down from 2027-02-01 (left the scheme): stood down on 2027-02-01, before 2027-05-01"
    )
    assert reasons["S3"] == (
        f"session {YEAR}-PHYS-s05 cancelled (room flooded): 7 of 8 sessions delivered"
    )

    # re-running decides the withdrawn kinds again (withheld now), grants nothing twice
    again = await run(h)
    assert again["granted"] == 0 and again["withheld"] == 3 and again["unchanged"] == 1

    report = await rebuild(h.runtime.engine, h.runtime.store, commit=False)
    assert report.identical, report.differing_tables


async def test_a_policy_changed_mid_year_and_the_hours_rule(
    recognition: Harness, feed: LocalFeed
) -> None:
    h, c, coordinator = recognition, recognition.client, recognition.auth("coordinator")
    hear = (await c.get(f"/policies/{YEAR}", headers=coordinator)).json()["policy"]["awards"][
        "hear"
    ]
    hours_rule = hear_policy(hear, min_sessions=None, min_session_hours=12)
    v1 = await c.put(f"/policies/{YEAR}", json=hours_rule, headers=coordinator)
    assert v1.json()["version"] == 1
    await feed.apply([launched(), appointed("S1"), appointed("S2"), trained("S1"), trained("S2")])
    await feed.apply([*delivered(8, "S1", hours=1.5), *delivered(4, "S2", hours=1.5)])
    first = await run(h)
    assert (first["granted"], first["withheld"]) == (1, 1)

    # the policy tightens mid-year: version 2 needs 16 hours
    stricter = hear_policy(hear, min_sessions=None, min_session_hours=16)
    v2 = await c.put(f"/policies/{YEAR}", json=stricter, headers=coordinator)
    assert v2.json()["version"] == 2
    # S2 catches up to 12 hours, which version 1 would have accepted
    await feed.apply(delivered(4, "S2", start=5, hours=1.5))
    second = await run(h)
    assert (second["granted"], second["withheld"]) == (0, 1)
    progress = (await c.get(f"/progress/{YEAR}/leaders/S2", headers=coordinator)).json()
    hear_progress = next(a for a in progress["awards"] if a["kind"] == "hear")
    assert progress["policy_version"] == 2
    assert hear_progress["missing"] == ["12 of 16 hours of sessions delivered"]

    # S1 was granted under version 1 (12 hours); a session shortened by half an hour leaves
    # 11.5 hours: the re-check holds them to version 1, and the award goes
    awards = (await c.get(f"/awards?academic_year={YEAR}", headers=coordinator)).json()
    assert [(a["student_number"], a["policy_version"]) for a in awards] == [("S1", 1)]
    await feed.apply([rescheduled(3, hours=1.0)])
    assert await statuses(h) == {("S1", "hear"): "withdrawn"}
    awards = (await c.get(f"/awards?academic_year={YEAR}", headers=coordinator)).json()
    assert awards[0]["withdrawn_reason"] == (
        f"session {YEAR}-PHYS-s03 rescheduled: 11.5 of 12 hours of sessions delivered"
    )
    # S2 had signed in at session 3 as well: no award, nothing to withdraw
    report = await rebuild(h.runtime.engine, h.runtime.store, commit=False)
    assert report.identical, report.differing_tables


async def test_striking_a_mentor_meeting_withdraws_an_award_that_needed_it(
    recognition: Harness, feed: LocalFeed
) -> None:
    h, c, coordinator = recognition, recognition.client, recognition.auth("coordinator")
    hear = (await c.get(f"/policies/{YEAR}", headers=coordinator)).json()["policy"]["awards"][
        "hear"
    ]
    await c.put(
        f"/policies/{YEAR}", json=hear_policy(hear, min_mentor_meetings=1), headers=coordinator
    )
    await feed.apply([launched(), appointed("S1"), trained("S1"), *delivered(8, "S1")])
    meeting = await c.post(
        "/activities",
        json={
            "academic_year": YEAR,
            "student_number": "S1",
            "kind": "mentor_meeting",
            "held_on": "2026-11-02",
            "hours": 1,
        },
        headers=coordinator,
    )
    assert (await run(h))["granted"] == 1
    struck = await c.post(
        f"/activities/{meeting.json()['activity_id']}/strike",
        json={"reason": "recorded for the wrong leader"},
        headers=coordinator,
    )
    assert len(struck.json()["withdrawn_awards"]) == 1
    assert await statuses(h) == {("S1", "hear"): "withdrawn"}
    report = await rebuild(h.runtime.engine, h.runtime.store, commit=False)
    assert report.identical, report.differing_tables
