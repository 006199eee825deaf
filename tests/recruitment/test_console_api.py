"""What the coordinators' console asks of recruitment: the filtered applications list, the
shortlist of one scheme, one criterion recorded for many applicants at once (all or nothing),
the records import's preview (a dry run) and who still lacks core training."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from passhub_recruitment.service import service
from passhub_shared.operations.replay import rebuild
from passhub_shared.storage.schema import events
from tests.recruitment.flow import (
    HEADER,
    MATH,
    PERSONAL,
    PHYS,
    YEAR,
    apply,
    assess,
    coordinator,
    csv_of,
    import_csv,
    launch,
    open_campaign,
    train,
)
from tests.support import Harness, running_service


@pytest.fixture
async def h(database_url: str, nats_url: str) -> AsyncIterator[Harness]:
    async with running_service(service, database_url, nats_url) as harness:
        yield harness


async def event_count(h: Harness) -> int:
    async with h.runtime.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(events))).scalar_one())


async def _applicants(h: Harness) -> dict[str, str]:
    await open_campaign(h)
    await import_csv(h, csv_of("S1000001", "S1000002", "S1000003", "S1000004"))
    ids = {}
    for number, schemes in (
        ("S1000001", [PHYS]),
        ("S1000002", [MATH]),
        ("S1000003", [PHYS]),
        ("S1000004", [MATH, PHYS]),
    ):
        response = await apply(h, number, preferred_schemes=schemes)
        assert response.status_code == 201, response.text
        ids[number] = response.json()["application_id"]
    return ids


async def test_the_applications_list_filters_by_school_scheme_and_essentials(
    h: Harness, nats_url: str
) -> None:
    await launch(h, nats_url, PHYS, MATH, organisers=["org-1"])
    ids = await _applicants(h)
    await assess(h, ids["S1000004"], PERSONAL)
    staff = h.auth("organiser", "org-1")

    async def numbers(**params: str) -> list[str]:
        r = await h.client.get(f"/campaigns/{YEAR}/applications", params=params, headers=staff)
        assert r.status_code == 200, r.text
        return [a["student_number"] for a in r.json()]

    assert await numbers() == ["S1000001", "S1000002", "S1000003", "S1000004"]
    assert await numbers(school="physics") == ["S1000001", "S1000003"]
    assert await numbers(scheme=PHYS) == ["S1000001", "S1000003", "S1000004"]
    assert await numbers(scheme=MATH, school="Mathematics") == ["S1000002", "S1000004"]
    # Grace's first-year mark (59.99) misses the 60% essential; only Emmy has every essential
    assert await numbers(essentials_missing="false") == ["S1000004"]
    assert await numbers(essentials_missing="true") == ["S1000001", "S1000002", "S1000003"]
    assert await numbers(appointable="true") == ["S1000004"]
    listed = await h.client.get(f"/campaigns/{YEAR}/applications", headers=staff)
    assert listed.json()[3]["preferred_schemes"] == [MATH, PHYS]
    bad = await h.client.get(
        f"/campaigns/{YEAR}/applications", params={"essentials_missing": "perhaps"}, headers=staff
    )
    assert bad.status_code == 422

    shortlist = await h.client.get(
        f"/campaigns/{YEAR}/shortlist", params={"scheme": MATH}, headers=staff
    )
    assert [e["application"]["student_number"] for e in shortlist.json()] == [
        "S1000004",
        "S1000002",
    ]


async def test_one_criterion_is_recorded_for_many_applicants_or_for_none(h: Harness) -> None:
    ids = await _applicants(h)
    staff = h.auth("organiser", "org-1")
    url = f"/campaigns/{YEAR}/criteria/friendly/outcomes"
    recorded = await h.client.post(
        url,
        json={
            "outcomes": [
                {"application_id": ids["S1000001"], "met": True, "note": "training day"},
                {"application_id": ids["S1000002"], "met": False, "note": "did not take part"},
            ]
        },
        headers=staff,
    )
    assert recorded.status_code == 200, recorded.text
    assert {a["student_number"] for a in recorded.json()} == {"S1000001", "S1000002"}
    for number, met in (("S1000001", True), ("S1000002", False)):
        detail = await h.client.get(f"/applications/{ids[number]}", headers=coordinator(h))
        [friendly] = [c for c in detail.json()["criteria"] if c["code"] == "friendly"]
        assert friendly["met"] is met and friendly["assessed_by"] == "org-1"

    before = await event_count(h)
    # a criterion the student record decides cannot be set in bulk: nothing is recorded
    refused = await h.client.post(
        f"/campaigns/{YEAR}/criteria/exam_marks/outcomes",
        json={
            "outcomes": [
                {"application_id": ids["S1000003"], "met": True, "note": ""},
                {"application_id": ids["S1000001"], "met": True, "note": ""},
            ]
        },
        headers=staff,
    )
    assert refused.status_code == 422, refused.text
    assert "Grace Hopper" in refused.json()["detail"]
    unknown = await h.client.post(
        f"/campaigns/{YEAR}/criteria/juggling/outcomes",
        json={"outcomes": [{"application_id": ids["S1000003"], "met": True}]},
        headers=staff,
    )
    assert unknown.status_code == 422 and "juggling" in unknown.json()["detail"]
    twice = await h.client.post(
        url,
        json={
            "outcomes": [
                {"application_id": ids["S1000003"], "met": True},
                {"application_id": ids["S1000003"], "met": False},
            ]
        },
        headers=staff,
    )
    assert twice.status_code == 422
    stranger = await h.client.post(
        url,
        json={
            "outcomes": [
                {"application_id": ids["S1000003"], "met": True},
                {"application_id": "no-such-application", "met": True},
            ]
        },
        headers=staff,
    )
    assert stranger.status_code in (404, 422), stranger.text
    assert await event_count(h) == before
    detail = await h.client.get(f"/applications/{ids['S1000003']}", headers=coordinator(h))
    assert next(c for c in detail.json()["criteria"] if c["code"] == "friendly")["met"] is None


async def test_the_import_preview_shows_rows_columns_and_every_problem_and_keeps_nothing(
    h: Harness,
) -> None:
    await open_campaign(h)
    before = await event_count(h)
    good = (
        "Student Number,Name,Email,School,Programme,Level,Year of study,Year 1 mark,Tutor\n"
        "S1000001,Ada Lovelace,ada@example.ac.uk,Physics,BSc Physics,UG,2,71.5,Dr Who\n"
    )
    r = await h.client.post(
        "/records/imports/preview",
        content=good.encode(),
        headers={**coordinator(h), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    seen = r.json()
    assert seen["rows"] == 1 and seen["importable"] is True and seen["problems"] == []
    assert seen["ignored_columns"] == ["Tutor"]
    assert {"header": "Year 1 mark", "read_as": "year_1_mark"} in seen["columns"]
    assert seen["sample"][0]["name"] == "Ada Lovelace" and seen["sample"][0]["line"] == 2

    bad = HEADER + (
        "S1000001,Ada Lovelace,ada@example.ac.uk,Physics,BSc Physics,UG,2,71.5,\n"
        "S1000002,Alan Turing,not-an-email,Mathematics,BSc Maths,UG,9,60,\n"
        "S1000001,Ada Again,ada@example.ac.uk,Physics,BSc Physics,UG,2,71.5,\n"
    )
    r = await h.client.post(
        "/records/imports/preview",
        content=bad.encode(),
        headers={**coordinator(h), "Content-Type": "text/csv"},
    )
    seen = r.json()
    assert seen["importable"] is False and seen["rows"] == 1
    assert [(p["line"], p["column"]) for p in seen["problems"]] == [
        (3, "email"),
        (3, "year_of_study"),
        (4, "student_number"),
    ]
    missing = await h.client.post(
        "/records/imports/preview",
        content=b"student_number,name\nS1,Ada\n",
        headers={**coordinator(h), "Content-Type": "text/csv"},
    )
    assert missing.json()["missing_columns"] == [
        "email",
        "school",
        "programme",
        "level",
        "year_of_study",
    ]
    assert missing.json()["problems"][0]["line"] == 1
    assert await event_count(h) == before
    imports = await h.client.get("/records/imports", headers=coordinator(h))
    assert imports.json() == []
    refused = await h.client.post(
        "/records/imports/preview",
        content=good.encode(),
        headers={**h.auth("organiser", "org-1"), "Content-Type": "text/csv"},
    )
    assert refused.status_code == 403


async def test_who_still_lacks_core_training(h: Harness) -> None:
    ids = await _applicants(h)
    await train(h, f"{YEAR}-core-1", "S1000001")
    await train(h, f"{YEAR}-core-2", "S1000002", hours="2")
    await h.client.post(
        f"/applications/{ids['S1000003']}/withdraw", headers=h.auth("student", "S1000003")
    )
    staff = h.auth("organiser", "org-1")
    r = await h.client.get(f"/campaigns/{YEAR}/training", headers=staff)
    assert r.status_code == 200, r.text
    rows = [(t["student_number"], Decimal(t["core_hours"]), t["complete"]) for t in r.json()]
    assert rows == [("S1000004", 0, False), ("S1000002", 2, False), ("S1000001", 6, True)]
    short = await h.client.get(
        f"/campaigns/{YEAR}/training", params={"incomplete": "true"}, headers=staff
    )
    assert [t["student_number"] for t in short.json()] == ["S1000004", "S1000002"]
    assert (await h.client.get("/campaigns/2099-00/training", headers=staff)).status_code == 404


async def test_a_campaign_is_amended_its_terms_only_before_the_first_application(
    h: Harness,
) -> None:
    await open_campaign(h)
    url = f"/campaigns/{YEAR}"
    changed = await h.client.patch(
        url,
        json={"participating_schools": ["Physics"], "min_exam_mark": "55", "closes_on": None},
        headers=coordinator(h),
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["participating_schools"] == ["Physics"]
    assert changed.json()["min_exam_mark"] == "55"
    organiser = await h.client.patch(
        url, json={"min_exam_mark": "50"}, headers=h.auth("organiser", "org-1")
    )
    assert organiser.status_code == 403
    await import_csv(h, csv_of("S1000001"))
    assert (await apply(h, "S1000001")).status_code == 201
    before = await event_count(h)
    refused = await h.client.patch(url, json={"min_exam_mark": "50"}, headers=coordinator(h))
    assert refused.status_code == 409 and "closing date" in refused.json()["detail"]
    assert await event_count(h) == before
    moved = await h.client.patch(url, json={"closes_on": "2099-01-31"}, headers=coordinator(h))
    assert moved.status_code == 200 and moved.json()["closes_on"] == "2099-01-31"
    assert moved.json()["min_exam_mark"] == "55"
    bad = await h.client.patch(url, json={"closes_on": "yesterday"}, headers=coordinator(h))
    assert bad.status_code == 422
    # the amendments are events: a replay rebuilds the campaign as it stands
    report = await rebuild(h.runtime.engine, h.runtime.store, commit=False)
    assert report.identical, report.differing_tables
