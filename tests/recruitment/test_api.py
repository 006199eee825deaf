"""The recruitment service over HTTP, on real PostgreSQL and NATS JetStream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from passhub_recruitment.service import service
from passhub_recruitment.settings import recruitment_settings
from passhub_shared.operations.replay import rebuild
from passhub_shared.storage.schema import events
from tests.recruitment.flow import (
    COORDINATOR,
    DESIRABLE,
    MATH,
    PERSONAL,
    PHYS,
    YEAR,
    app_id,
    apply,
    appoint,
    assess,
    coordinator,
    csv_of,
    import_csv,
    launch,
    open_campaign,
    publish_launches,
    student,
    train,
)
from tests.support import Harness, read_stream, running_service, wait_for


@pytest.fixture
async def h(database_url: str, nats_url: str) -> AsyncIterator[Harness]:
    async with running_service(service, database_url, nats_url) as harness:
        yield harness


async def event_count(h: Harness) -> int:
    async with h.runtime.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(events))).scalar_one())


async def test_from_records_import_to_a_leader_appointed_seen_on_nats(
    h: Harness, nats_url: str
) -> None:
    await launch(h, nats_url, PHYS, MATH)
    campaign = await open_campaign(h, leader_title="PASS Mentor")
    assert campaign["leader_title"] == "PASS Mentor"
    assert len(campaign["criteria"]) == 12

    imported = await import_csv(h, csv_of("S1000001", "S1000002"))
    assert imported.status_code == 201, imported.text
    assert imported.json()["rows"] == 2

    submitted = await apply(h, "S1000001")
    assert submitted.status_code == 201, submitted.text
    application = submitted.json()
    application_id = application["application_id"]
    assert application_id == await app_id(h, "S1000001")
    by_code = {c["code"]: c for c in application["criteria"]}
    assert by_code["exam_marks"]["met"] is True
    assert by_code["exam_marks"]["verified"] is True
    assert by_code["exam_marks"]["mark_used"] == "71.5"
    assert by_code["undergraduate"]["met"] is True
    assert by_code["friendly"]["met"] is None
    assert application["appointable"] is False

    assessed = await assess(h, application_id, PERSONAL)
    assert assessed.status_code == 200, assessed.text
    assert assessed.json()["appointable"] is True
    await assess(h, application_id, DESIRABLE[:2])

    await train(h, f"{YEAR}-core-1", "S1000001")
    appointed = await appoint(h, application_id, [PHYS, MATH])
    assert appointed.status_code == 200, appointed.text
    assert appointed.json()["status"] == "appointed"

    leaders = await h.client.get(
        f"/schemes/{PHYS}/leaders", params={"as_of": "2026-09-01"}, headers=coordinator(h)
    )
    assert leaders.status_code == 200
    assert [(r["student_number"], r["role"], r["title"]) for r in leaders.json()] == [
        ("S1000001", "leader", "PASS Mentor")
    ]

    async def appointed_on_nats() -> bool:
        published = await read_stream(nats_url, "PASSHUB_RECRUITMENT")
        return any(m["type"] == "passhub.recruitment.leader_appointed.v1" for m in published)

    await wait_for(appointed_on_nats, timeout=20)
    published = await read_stream(nats_url, "PASSHUB_RECRUITMENT")
    types = [m["type"].split(".")[2] for m in published]
    assert types == [
        "campaign_opened",
        "application_submitted",
        "application_assessed",
        "application_assessed",
        "application_assessed",
        "training_completed",
        "leader_appointed",
    ]
    appointment = published[-1]
    assert appointment["source"] == "/passhub/recruitment"
    assert appointment["subject"] == f"application-{application_id}"
    assert appointment["data"] == {
        "student_number": "S1000001",
        "name": "Ada Lovelace",
        "email": "ada@example.ac.uk",
        "academic_year": YEAR,
        "role": "leader",
        "schemes": [PHYS, MATH],
        "appointed_on": "2026-06-01",
        "application_id": application_id,
    }
    first_assessment = published[2]["data"]
    marks = next(o for o in first_assessment["outcomes"] if o["code"] == "exam_marks")
    assert marks["mark_used"] == "71.5"  # exact, as a string
    # the records themselves and the declared details never leave the service
    assert not any("records" in m["data"] or "statement" in m["data"] for m in published)

    report = await rebuild(h.runtime.engine, h.runtime.store, commit=False)
    assert report.identical, report.differing_tables


async def test_without_a_token_every_route_is_401(h: Harness) -> None:
    for method, path in [
        ("GET", "/campaigns"),
        ("POST", "/campaigns"),
        ("POST", "/records/imports"),
        ("POST", f"/campaigns/{YEAR}/applications"),
        ("GET", f"/applications/{YEAR}-S1000001"),
        ("POST", f"/applications/{YEAR}-S1000001/appointments"),
        ("GET", f"/schemes/{PHYS}/leaders"),
    ]:
        response = await h.client.request(method, path)
        assert response.status_code == 401, (method, path)


async def test_students_cannot_assess_appoint_or_read_others(h: Harness) -> None:
    await open_campaign(h)
    assert (await import_csv(h, csv_of("S1000001", "S1000002"))).status_code == 201
    mine = (await apply(h, "S1000001")).json()["application_id"]
    theirs = (await apply(h, "S1000002")).json()["application_id"]
    before = await event_count(h)

    me = student(h, "S1000001")
    outcome = {"outcomes": [{"code": "friendly", "met": True, "note": "I am"}]}
    assert (
        await h.client.post(f"/applications/{mine}/assessments", json=outcome, headers=me)
    ).status_code == 403
    appoint_body = {"schemes": [PHYS]}
    assert (
        await h.client.post(f"/applications/{mine}/appointments", json=appoint_body, headers=me)
    ).status_code == 403
    assert (
        await h.client.post(f"/applications/{theirs}/reject", json={"reasons": ["x"]}, headers=me)
    ).status_code == 403
    assert (await h.client.get(f"/applications/{theirs}", headers=me)).status_code == 404
    assert (await h.client.post(f"/applications/{theirs}/withdraw", headers=me)).status_code == 404
    assert (await h.client.get(f"/campaigns/{YEAR}/applications", headers=me)).status_code == 403
    assert (await h.client.get("/records/S1000002", headers=me)).status_code == 403
    assert (
        await h.client.get("/training/S1000002", params={"academic_year": YEAR}, headers=me)
    ).status_code == 404
    as_other = await apply(h, "S1000003", student_number="S1000002")
    assert as_other.status_code == 403
    assert (
        await h.client.post(
            "/campaigns",
            json={"academic_year": "2027-28", "participating_schools": ["Physics"]},
            headers=me,
        )
    ).status_code == 403
    # an organiser assesses but does not appoint
    organiser = h.auth("organiser", "org-1")
    assert (
        await h.client.post(
            f"/applications/{mine}/appointments", json=appoint_body, headers=organiser
        )
    ).status_code == 403
    assert await event_count(h) == before  # nothing was written

    own = await h.client.get(f"/applications/{mine}", headers=me)
    assert own.status_code == 200
    assert {c["code"] for c in own.json()["criteria"]} >= {"exam_marks", "friendly"}
    listed = await h.client.get("/me/applications", headers=me)
    assert [a["application_id"] for a in listed.json()] == [mine]
    assert (
        await h.client.get(f"/applications/{theirs}", headers=coordinator(h))
    ).status_code == 200


async def test_bad_csv_rows_are_reported_by_line_and_nothing_is_imported(h: Harness) -> None:
    await open_campaign(h)
    good = await import_csv(h, csv_of("S1000001"))
    assert good.status_code == 201
    before = await event_count(h)

    bad = (
        csv_of("S1000002")
        + "S1000001,Ada Lovelace,ada@example.ac.uk,Physics,BSc Physics,UG,2,20,\n"
        + "S1000003,,grace@example,Physics,BSc Physics,UG,two,59.99,\n"
        + "S1000004,Emmy Noether,emmy@example.ac.uk,Mathematics\n"
    )
    response = await import_csv(h, bad)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "bad_csv" and body["error_count"] == 4
    assert [(e["line"], e["column"]) for e in body["errors"]] == [
        (4, "name"),
        (4, "email"),
        (4, "year_of_study"),
        (5, None),
    ]
    assert await event_count(h) == before
    imports = await h.client.get("/records/imports", headers=coordinator(h))
    assert len(imports.json()) == 1
    missing = await h.client.get("/records/S1000002", headers=coordinator(h))
    assert missing.status_code == 404  # the good rows of the bad file were not kept either
    kept = await h.client.get("/records/S1000001", headers=coordinator(h))
    assert kept.json()["marks"] == {"1": "71.5"}

    empty = await import_csv(h, "")
    assert empty.status_code == 422 and empty.json()["errors"][0]["line"] == 1
    assert await event_count(h) == before


async def test_appointment_needs_training_and_every_essential(h: Harness, nats_url: str) -> None:
    await launch(h, nats_url, PHYS)
    await open_campaign(h)
    await import_csv(h, csv_of("S1000001", "S1000003"))
    ada = (await apply(h, "S1000001")).json()["application_id"]
    grace = (await apply(h, "S1000003")).json()["application_id"]
    await assess(h, ada, PERSONAL)
    await assess(h, grace, PERSONAL)
    await train(h, f"{YEAR}-core-1", "S1000001", "S1000003", hours="4")
    before = await event_count(h)

    untrained = await appoint(h, ada, [PHYS])
    assert untrained.status_code == 422
    assert untrained.json()["code"] == "training_incomplete"
    assert "4 of 6 hours" in untrained.json()["detail"]

    await train(h, f"{YEAR}-core-2", "S1000001", "S1000003", hours="2")
    summary = await h.client.get(
        "/training/S1000001", params={"academic_year": YEAR}, headers=student(h, "S1000001")
    )
    assert Decimal(summary.json()["core_hours"]) == 6 and summary.json()["complete"] is True

    low_mark = await appoint(h, grace, [PHYS])
    assert low_mark.status_code == 422
    assert low_mark.json()["code"] == "not_appointable"
    assert "exam_marks" in low_mark.json()["detail"]
    grace_view = await h.client.get(f"/applications/{grace}", headers=student(h, "S1000003"))
    marks = next(c for c in grace_view.json()["criteria"] if c["code"] == "exam_marks")
    assert (marks["met"], marks["mark_used"]) == (False, "59.99")
    overrule = await assess(h, grace, ["exam_marks"], role="coordinator")
    assert overrule.status_code == 422 and overrule.json()["code"] == "decided_by_record"

    assert (await appoint(h, ada, [PHYS])).status_code == 200
    assert (await appoint(h, ada, [PHYS])).status_code == 409
    withdrawn = await h.client.post(f"/applications/{ada}/withdraw", headers=student(h, "S1000001"))
    assert withdrawn.status_code == 422
    assert withdrawn.json()["code"] == "already_appointed"
    stood = await h.client.post(
        f"/applications/{ada}/stand-down",
        json={"effective_from": "2026-11-01", "reason": "placement abroad"},
        headers=coordinator(h),
    )
    assert stood.status_code == 200 and stood.json()["status"] == "stood_down"
    in_post = await h.client.get(
        f"/schemes/{PHYS}/leaders", params={"as_of": "2026-10-31"}, headers=coordinator(h)
    )
    assert [r["student_number"] for r in in_post.json()] == ["S1000001"]
    after = await h.client.get(
        f"/schemes/{PHYS}/leaders", params={"as_of": "2026-11-01"}, headers=coordinator(h)
    )
    assert after.json() == []
    # one completion, one appointment, one standing down (and its reason, kept apart): the
    # refusals wrote nothing
    assert await event_count(h) == before + 2 + 1 + 1 + 2


async def test_unverified_and_mismatched_applications_and_the_import_that_settles_them(
    h: Harness,
) -> None:
    await open_campaign(h)
    await import_csv(h, csv_of("S1000001"))
    unverified = await apply(h, "S1000002", exam_marks={"1": 60.00})
    assert unverified.status_code == 201, unverified.text
    view = unverified.json()
    marks = next(c for c in view["criteria"] if c["code"] == "exam_marks")
    assert (marks["met"], marks["verified"], marks["mark_used"]) == (True, False, "60.0")
    assert view["unverified"] == 2

    flagged = await apply(h, "S1000001", school="Mathematics")
    assert flagged.json()["flagged"] is True
    assert flagged.json()["mismatches"] == [
        {
            "field": "school",
            "on_application": "Mathematics",
            "on_record": "Physics",
            "criterion": "undergraduate",
        }
    ]

    settled = await import_csv(h, csv_of("S1000001", "S1000002"))
    assert settled.json()["reassessed"] == [await app_id(h, "S1000002")]
    now = await h.client.get(f"/applications/{await app_id(h, 'S1000002')}", headers=coordinator(h))
    marks = next(c for c in now.json()["criteria"] if c["code"] == "exam_marks")
    assert (marks["met"], marks["verified"], marks["mark_used"]) == (True, True, "60.00")
    assert now.json()["unverified"] == 0

    resolved = await assess(
        h,
        await app_id(h, "S1000001"),
        ["undergraduate"],
        role="coordinator",
        override_reason="moved to Mathematics this term; the record lags",
    )
    assert resolved.json()["flagged"] is False


async def test_double_submission_listing_by_status_shortlist_and_rejection(
    h: Harness, nats_url: str
) -> None:
    await launch(h, nats_url, PHYS, organisers=["org-1"])
    await open_campaign(h)
    await import_csv(h, csv_of("S1000001", "S1000002", "S1000004", "S1000005"))
    ids = {}
    for number in ("S1000001", "S1000002", "S1000004", "S1000005"):
        response = await apply(h, number)
        assert response.status_code == 201
        ids[number] = response.json()["application_id"]
    assert (await apply(h, "S1000001")).status_code == 409

    await assess(h, ids["S1000002"], PERSONAL)
    await assess(h, ids["S1000004"], PERSONAL)
    await assess(h, ids["S1000004"], DESIRABLE)
    await assess(h, ids["S1000001"], PERSONAL[:3])

    reasons = ["Paul's school (History) does not run PASS this year"]
    rejected = await h.client.post(
        f"/applications/{ids['S1000005']}/reject", json={"reasons": reasons}, headers=coordinator(h)
    )
    assert rejected.status_code == 200
    own = await h.client.get(f"/applications/{ids['S1000005']}", headers=student(h, "S1000005"))
    assert own.json()["status"] == "rejected"
    assert own.json()["rejection_reasons"] == reasons
    assert (
        await h.client.post(
            f"/applications/{ids['S1000001']}/reject", json={"reasons": []}, headers=coordinator(h)
        )
    ).status_code == 422

    withdrawn = await h.client.post(
        f"/applications/{ids['S1000001']}/withdraw", headers=student(h, "S1000001")
    )
    assert withdrawn.json()["status"] == "withdrawn"

    staff = h.auth("organiser", "org-1")
    by_status = await h.client.get(
        f"/campaigns/{YEAR}/applications", params={"status": "submitted"}, headers=staff
    )
    assert [a["student_number"] for a in by_status.json()] == ["S1000002", "S1000004"]
    rejected_list = await h.client.get(
        f"/campaigns/{YEAR}/applications", params={"status": "rejected"}, headers=staff
    )
    assert [a["student_number"] for a in rejected_list.json()] == ["S1000005"]
    bad_status = await h.client.get(
        f"/campaigns/{YEAR}/applications", params={"status": "lost"}, headers=staff
    )
    assert bad_status.status_code == 422

    shortlist = await h.client.get(f"/campaigns/{YEAR}/shortlist", headers=staff)
    assert [
        (e["rank"], e["application"]["student_number"], e["application"]["desirables_met"])
        for e in shortlist.json()
    ] == [(1, "S1000004", 3), (2, "S1000002", 0)]


async def test_bad_requests_are_clear_4xx_and_write_nothing(h: Harness) -> None:
    before = await event_count(h)
    no_campaign = await apply(h, "S1000001")
    assert no_campaign.status_code == 404
    await open_campaign(h)
    before = await event_count(h)
    assert (
        await h.client.post(
            "/campaigns",
            json={"academic_year": YEAR, "participating_schools": ["Physics"]},
            headers=coordinator(h),
        )
    ).status_code == 409
    bad_spec = await h.client.post(
        "/campaigns",
        json={"academic_year": "2027-28", "participating_schools": ["Physics"], "criteria": []},
        headers=coordinator(h),
    )
    assert bad_spec.status_code == 422
    bad_email = await apply(h, "S1000001", email="ada-at-example")
    assert bad_email.status_code == 422
    assert bad_email.json()["errors"][0]["loc"] == ["body", "email"]
    bad_mark = await apply(h, "S1000001", exam_marks={"1": "sixty"})
    assert bad_mark.status_code == 422
    bad_scheme = await apply(h, "S1000001", preferred_schemes=["PHYS"])
    assert bad_scheme.status_code == 422 and "2026-27-PHYS" in bad_scheme.json()["detail"]
    assert (await h.client.get("/applications/nope", headers=coordinator(h))).status_code == 404
    bad_training = await h.client.post(
        "/training-sessions",
        json={"academic_year": "next year", "title": "Core", "held_on": "2026-05-20", "hours": 6},
        headers=coordinator(h),
    )
    assert bad_training.status_code == 422
    no_session = await h.client.post(
        "/training-sessions/none/completions",
        json={"completions": [{"student_number": "S1000001"}]},
        headers=coordinator(h),
    )
    assert no_session.status_code == 404
    assert await event_count(h) == before


async def test_replay_rebuilds_every_read_model_identically(
    h: Harness, nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await launch(h, nats_url, PHYS, MATH)
    from passhub_recruitment.settings import recruitment_settings

    monkeypatch.setenv("PASSHUB_RECRUITMENT_IMPORT_CHUNK_ROWS", "2")
    recruitment_settings.cache_clear()
    try:
        await open_campaign(h, closes_on="2099-01-01")
        all_five = csv_of("S1000001", "S1000002", "S1000003", "S1000004", "S1000005")
        assert (await import_csv(h, all_five)).status_code == 201  # three chunks
        for number in ("S1000001", "S1000002", "S1000003", "S1000004", "S1000006"):
            assert (await apply(h, number)).status_code == 201
        for number in ("S1000001", "S1000002", "S1000004"):
            await assess(h, await app_id(h, number), PERSONAL)
        await assess(h, await app_id(h, "S1000004"), DESIRABLE, met=False)
        await h.client.post(
            f"/applications/{await app_id(h, 'S1000003')}/reject",
            json={"reasons": ["exam mark below 60"]},
            headers=coordinator(h),
        )
        await h.client.post(
            f"/applications/{await app_id(h, 'S1000006')}/withdraw", headers=coordinator(h)
        )
        await train(h, f"{YEAR}-core-1", "S1000001", "S1000002", "S1000004")
        await train(h, f"{YEAR}-optional", "S1000001")
        assert (await appoint(h, await app_id(h, "S1000001"), [PHYS])).status_code == 200
        assert (
            await appoint(h, await app_id(h, "S1000002"), [MATH], role="organiser")
        ).status_code == 200
        assert (await appoint(h, await app_id(h, "S1000004"), [MATH, PHYS])).status_code == 200
        await h.client.post(
            f"/applications/{await app_id(h, 'S1000004')}/stand-down",
            json={"effective_from": "2027-01-15", "reason": "timetable clash", "schemes": [PHYS]},
            headers=coordinator(h),
        )
        # a second import changes a record: the last import wins, in the replay too
        changed = csv_of("S1000003").replace("59.99", "61.00")
        assert (await import_csv(h, changed, source="resit-results.csv")).status_code == 201
        await h.client.post(f"/campaigns/{YEAR}/close", headers=coordinator(h))

        record = await h.client.get("/records/S1000003", headers=coordinator(h))
        assert record.json()["marks"] == {"1": "61.00"}
        leaders = await h.client.get(
            "/leaders", params={"academic_year": YEAR, "include_past": True}, headers=coordinator(h)
        )
        assert len(leaders.json()) == 4

        report = await rebuild(h.runtime.engine, h.runtime.store, commit=False)
        assert report.events > 25
        assert report.identical, report.differing_tables
        assert all(not d.startswith("0:") for d in report.after.values())
    finally:
        recruitment_settings.cache_clear()


async def test_default_specification_and_campaign_reads(h: Harness) -> None:
    spec = await h.client.get("/person-specification/default", headers=student(h, "S1"))
    assert spec.status_code == 200
    assert [c["importance"] for c in spec.json()].count("essential") == 9
    custom = [
        {
            "code": "E1",
            "description": "Undergraduate in a participating school",
            "importance": "essential",
            "assessed_by": ["application"],
            "check": "enrolment",
        },
        {
            "code": "E2",
            "description": "A short presentation",
            "importance": "essential",
            "assessed_by": ["other_means"],
        },
    ]
    opened = await open_campaign(h, criteria=custom, min_exam_mark="62.5")
    assert [c["code"] for c in opened["criteria"]] == ["E1", "E2"]
    assert Decimal(opened["min_exam_mark"]) == Decimal("62.5")
    listed = await h.client.get("/campaigns", headers=student(h, "S1"))
    assert [c["campaign_id"] for c in listed.json()] == [YEAR]
    assert COORDINATOR


async def test_a_record_value_is_overridden_only_explicitly_audited_and_stays_visible(
    h: Harness,
) -> None:
    """The record says 59.99 where the applicant declared 60: the criterion is pending. A
    plain assessor call cannot pass it; an override with a reason can, the record's value stays
    on the application beside the assessor's outcome, and the override is an event saying who,
    when and why."""
    await open_campaign(h)
    await import_csv(h, csv_of("S1000003"))
    grace = (await apply(h, "S1000003", exam_marks={"1": "60"})).json()
    marks = next(c for c in grace["criteria"] if c["code"] == "exam_marks")
    assert marks["met"] is None and "59.99" in marks["evidence"]
    application_id = grace["application_id"]
    before = await event_count(h)

    says = {"code": "exam_marks", "met": True, "note": "student says 60"}
    url = f"/applications/{application_id}/assessments"
    plain = await h.client.post(url, json={"outcomes": [says]}, headers=h.auth("organiser", "a-7"))
    assert plain.status_code == 422
    assert plain.json()["code"] == "decided_by_record"
    assert "59.99" in plain.json()["detail"] and "override_reason" in plain.json()["detail"]
    assert await event_count(h) == before

    reason = "exam board minute 14/3: mark confirmed as 60 after re-marking"
    overridden = await h.client.post(
        url,
        json={"outcomes": [{**says, "override_reason": reason}]},
        headers=h.auth("organiser", "a-7"),
    )
    assert overridden.status_code == 200, overridden.text
    view = await h.client.get(f"/applications/{application_id}", headers=coordinator(h))
    marks = next(c for c in view.json()["criteria"] if c["code"] == "exam_marks")
    assert (marks["met"], marks["assessed_by"], marks["evidence"]) == (
        True,
        "a-7",
        "student says 60",
    )
    override = marks["override"]
    assert override["reason"] == reason and override["by"] == "a-7" and override["at"]
    assert override["record_met"] is None and "59.99" in override["record_evidence"]
    assert view.json()["mismatches"][0]["on_record"] == "59.99"

    async with h.runtime.engine.connect() as conn:  # the log, opened (sealed as it is stored)
        (audit,) = await h.runtime.store.load_foreign(
            conn, ["passhub.recruitment.record_overridden.v1"]
        )
    assert audit.data["overridden_by"] == "a-7" and audit.actor == "a-7"
    assert audit.data["reason"] == reason and "59.99" in audit.data["record_evidence"]
    assert audit.data["criterion"] == "exam_marks" and audit.data["met"] is True

    nothing = await h.client.post(
        url,
        json={"outcomes": [{"code": "friendly", "met": True, "note": "x", "override_reason": "y"}]},
        headers=h.auth("organiser", "a-7"),
    )
    assert nothing.status_code == 422 and nothing.json()["code"] == "nothing_to_override"


async def test_an_appointment_to_a_scheme_never_launched_is_refused_until_its_launch_arrives(
    h: Harness, nats_url: str
) -> None:
    await open_campaign(h)
    await import_csv(h, csv_of("S1000001"))
    ada = (await apply(h, "S1000001")).json()["application_id"]
    await assess(h, ada, PERSONAL)
    await train(h, f"{YEAR}-core-1", "S1000001")
    await launch(h, nats_url, PHYS)
    before = await event_count(h)

    ghost = f"{YEAR}-GHOST"
    refused = await appoint(h, ada, [PHYS, ghost])
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "unknown_scheme"
    assert ghost in refused.json()["detail"] and "try again shortly" in refused.json()["detail"]
    assert await event_count(h) == before

    # launched a moment ago: once the launch is consumed, the same appointment goes through
    await publish_launches(nats_url, ghost)

    async def appointed() -> bool:
        response = await appoint(h, ada, [PHYS, ghost])
        assert response.status_code in (200, 422), response.text
        return response.status_code == 200

    await wait_for(appointed, timeout=20, interval=0.1)


async def test_a_persons_appointments_today_end_at_the_stand_down(
    h: Harness, nats_url: str
) -> None:
    """What the portal asks at each request to know who is a leader right now."""
    await launch(h, nats_url, PHYS, MATH)
    await open_campaign(h)
    await import_csv(h, csv_of("S1000001", "S1000002"))
    ada = (await apply(h, "S1000001")).json()["application_id"]
    await assess(h, ada, PERSONAL)
    await train(h, f"{YEAR}-core-1", "S1000001")
    assert (await appoint(h, ada, [PHYS, MATH])).status_code == 200

    portal = h.auth("integration", "passhub-portal")
    mine = await h.client.get("/people/S1000001/appointments", headers=portal)
    assert mine.status_code == 200, mine.text
    assert sorted((a["scheme_id"], a["role"]) for a in mine.json()) == [
        (MATH, "leader"),
        (PHYS, "leader"),
    ]
    own = await h.client.get("/people/S1000001/appointments", headers=student(h, "S1000001"))
    assert len(own.json()) == 2
    other = await h.client.get("/people/S1000001/appointments", headers=student(h, "S1000002"))
    assert other.status_code == 404
    nobody = await h.client.get("/people/S1000002/appointments", headers=portal)
    assert nobody.status_code == 200 and nobody.json() == []

    today = recruitment_settings().today().isoformat()
    stood = await h.client.post(
        f"/applications/{ada}/stand-down",
        json={"effective_from": today, "reason": "placement abroad"},
        headers=coordinator(h),
    )
    assert stood.status_code == 200, stood.text
    after = await h.client.get("/people/S1000001/appointments", headers=portal)
    assert after.json() == []
