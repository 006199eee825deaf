"""The awards run's preview: what the run would decide for every leader and award kind, and
why, with nothing recorded; then the run decides exactly that."""

from __future__ import annotations

from sqlalchemy import func, select

from passhub_shared.storage.schema import events
from tests.recognition.builders import CHEM, YEAR, appointed, delivered, launched, trained
from tests.recognition.feed import LocalFeed
from tests.recognition.runs import run_awards
from tests.support import Harness


async def count(h: Harness) -> int:
    async with h.runtime.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(events))).scalar_one())


async def test_the_preview_says_who_is_granted_and_withheld_and_why_and_records_nothing(
    recognition: Harness, feed: LocalFeed
) -> None:
    await feed.apply(
        [
            launched(),
            launched(CHEM, "Chemistry"),
            appointed("S1", name="Ada Lovelace"),
            appointed("S2", name="Grace Hopper", schemes=[CHEM]),
            trained("S1"),
        ]
    )
    await feed.apply([*delivered(8, "S1"), *delivered(5, "S2")])
    coordinator = recognition.auth("coordinator")
    before = await count(recognition)
    r = await recognition.client.get(
        "/awards/runs/preview", params={"academic_year": YEAR}, headers=coordinator
    )
    assert r.status_code == 200, r.text
    preview = r.json()
    assert (preview["leaders"], preview["granted"], preview["withheld"]) == (2, 3, 3)
    assert preview["policy_version"] == 1
    grace = [line for line in preview["lines"] if line["student_number"] == "S2"]
    assert {line["outcome"] for line in grace} == {"withhold"}
    assert grace[0]["name"] == "Grace Hopper"
    assert grace[0]["reasons"] == ["core training not completed", "5 of 8 sessions delivered"]
    ada = [line for line in preview["lines"] if line["student_number"] == "S1"]
    assert {(line["kind"], line["outcome"]) for line in ada} == {
        ("certificate", "grant"),
        ("psa", "grant"),
        ("hear", "grant"),
    }
    assert await count(recognition) == before  # nothing recorded, not even the policy

    run = await run_awards(recognition.client, YEAR, coordinator)
    assert (run["granted"], run["withheld"]) == (3, 3)
    again = await recognition.client.get(
        "/awards/runs/preview", params={"academic_year": YEAR}, headers=coordinator
    )
    after = again.json()
    assert (after["granted"], after["withheld"], after["unchanged"]) == (0, 0, 6)
    reasons = {(line["student_number"], line["reasons"][0]) for line in after["lines"]}
    assert ("S1", "already granted") in reasons
    assert ("S2", "withheld before, for the same reasons") in reasons

    leader = recognition.auth("leader", "S1")
    refused = await recognition.client.get(
        "/awards/runs/preview", params={"academic_year": YEAR}, headers=leader
    )
    assert refused.status_code == 403
    bad = await recognition.client.get(
        "/awards/runs/preview", params={"academic_year": "2026"}, headers=coordinator
    )
    assert bad.status_code == 422
