"""The recognition service against its access table in docs/access.md: every route, every
role, and the scope rules (a leader sees their own progress and awards; only coordinators run
awards)."""

from __future__ import annotations

from tests.access import World, check_table
from tests.recognition.builders import YEAR, appointed, delivered, launched, trained
from tests.recognition.feed import LocalFeed
from tests.recognition.runs import run_awards
from tests.support import Harness

SUBS = {
    "coordinator": "c1",
    "organiser": "org-1",
    "leader": "S1",
    # the same leader with a student's token: a leader is a student too
    "student": "S1",
    "academic": "a1",
    "integration": "hear-1",
}


async def awarded(recognition: Harness, feed: LocalFeed) -> dict[str, str]:
    """S1 delivered enough sessions for every award; the awards run."""
    await feed.apply([launched(), appointed("S1"), appointed("S2", name="Grace"), trained("S1")])
    await feed.apply(delivered(8, "S1"))
    await run_awards(recognition.client, YEAR, recognition.auth("coordinator"))
    awards = await recognition.client.get(
        "/awards", params={"academic_year": YEAR}, headers=recognition.auth("coordinator")
    )
    award = next(
        a for a in awards.json() if a["kind"] == "certificate" and a["student_number"] == "S1"
    )
    return award


async def test_every_route_answers_every_role_as_the_table_says(
    recognition: Harness, feed: LocalFeed
) -> None:
    award = await awarded(recognition, feed)
    world = World(
        subs=SUBS,
        params={
            "academic_year": YEAR,
            "award_id": award["award_id"],
            "code": award["verification_code"],
            "kind": "hear",
            "activity_id": "unknown",
            "run_id": "unknown",
            "batch_id": "unknown",
        },
    )
    await check_table(recognition, "recognition", world)


async def test_scope_a_leader_sees_only_their_own(recognition: Harness, feed: LocalFeed) -> None:
    award = await awarded(recognition, feed)
    other = recognition.auth("leader", "S2")
    c = recognition.client
    for url in (
        f"/awards/{award['award_id']}",
        f"/awards/{award['award_id']}/certificate",
        f"/awards/{award['award_id']}/credential",
        f"/progress/{YEAR}/leaders/S1",
    ):
        assert (await c.get(url, headers=other)).status_code == 403, url
    mine = await c.get(
        "/activities", params={"academic_year": YEAR, "student_number": "S1"}, headers=other
    )
    assert mine.status_code == 403


async def test_only_coordinators_run_awards(recognition: Harness, feed: LocalFeed) -> None:
    await feed.apply([launched(), appointed("S1"), trained("S1")])
    for role in ("organiser", "leader", "student", "academic", "integration"):
        run = await recognition.client.post(
            "/awards/runs", json={"academic_year": YEAR}, headers=recognition.auth(role, "S1")
        )
        assert run.status_code == 403, role


async def test_the_verification_page_works_under_its_policy(
    recognition: Harness, feed: LocalFeed
) -> None:
    award = await awarded(recognition, feed)
    page = await recognition.client.get(f"/verify/{award['verification_code']}")
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "<style" not in page.text and 'href="/verify.css"' in page.text
    css = await recognition.client.get("/verify.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert ".valid" in css.text
