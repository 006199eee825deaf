"""The awards run and the certificate batch through HTTP: 202 and where to follow them, their
progress, what they end with (the same as the run in one transaction, the same PDF as the batch
made in the request), one of each per year at a time, and a restart of the service halfway."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from passhub_recognition import handlers
from passhub_recognition.api.deps import handler_context
from passhub_recognition.service import service
from passhub_shared.contracts.recognition import AwardGranted
from tests.recognition.builders import YEAR, appointed, delivered, launched, trained
from tests.recognition.feed import LocalFeed
from tests.recognition.runs import follow, run_awards
from tests.recognition.test_documents import page_text
from tests.support import Harness, running_service


async def _a_year(feed: LocalFeed) -> None:
    """Three leaders: S1 and S3 meet the default requirements, S2 led three sessions."""
    await feed.apply(
        [
            launched(),
            appointed("S1", name="Ada Lovelace"),
            trained("S1"),
            appointed("S2", name="Grace Hopper"),
            trained("S2"),
            appointed("S3", name="Alan Turing"),
            trained("S3"),
        ]
    )
    await feed.apply([*delivered(8, "S1"), *delivered(3, "S2", start=9)])
    await feed.apply(delivered(8, "S3", start=12))


async def _granted_events(h: Harness) -> int:
    async with h.runtime.engine.connect() as conn:
        return int(
            await conn.scalar(
                text("SELECT count(*) FROM events WHERE type = :type"),
                {"type": AwardGranted.type_name()},
            )
            or 0
        )


async def test_the_run_answers_202_and_ends_with_what_the_one_transaction_run_decides(
    recognition: Harness, feed: LocalFeed
) -> None:
    await _a_year(feed)
    coordinator = recognition.auth("coordinator", "c1")
    # what the run in one transaction decides, undone
    async with recognition.runtime.engine.connect() as conn, conn.begin() as undo:
        ctx = handler_context(recognition.runtime)
        at_once = await handlers.run_awards(conn, ctx, YEAR)
        await undo.rollback()

    started = await recognition.client.post(
        "/awards/runs", json={"academic_year": YEAR}, headers=coordinator
    )
    assert started.status_code == 202, started.text
    body = started.json()
    assert body["state"] == "queued" and body["result"] is None
    assert (body["leaders_done"], body["requested_by"]) == (0, "c1")
    assert started.headers["location"] == f"/awards/runs/{body['run_id']}"
    run = await follow(recognition.client, started.headers["location"], coordinator)
    assert run["state"] == "done" and run["error"] is None
    assert run["leaders_done"] == run["leaders_total"] == 3
    assert run["result"] == {
        "academic_year": YEAR,
        "policy_version": at_once.policy_version,
        "leaders": at_once.leaders,
        "granted": at_once.granted,
        "withheld": at_once.withheld,
        "unchanged": at_once.unchanged,
    }
    assert (at_once.granted, at_once.withheld) == (6, 3)
    assert await _granted_events(recognition) == 6
    listed = await recognition.client.get(
        "/awards/runs", params={"academic_year": YEAR}, headers=coordinator
    )
    assert [r["run_id"] for r in listed.json()] == [body["run_id"]]

    # a second run grants nothing twice
    again = await run_awards(recognition.client, YEAR, coordinator)
    assert (again["granted"], again["withheld"], again["unchanged"]) == (0, 0, 3)
    assert await _granted_events(recognition) == 6
    missing = await recognition.client.get("/awards/runs/nothing", headers=coordinator)
    assert missing.status_code == 404


async def test_a_run_left_under_way_by_a_stopped_process_is_finished_on_start(
    database_url: str, nats_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PASSHUB_RECOGNITION_RUN_BATCH_SIZE", "1")
    async with running_service(service, database_url, nats_url) as h:
        await _a_year(LocalFeed(h.runtime))
        coordinator = h.auth("coordinator", "c1")
        # a process that recorded the run and decided its first leader, then died: no task of
        # this process works the run
        async with h.runtime.transaction() as conn:
            ctx = handler_context(h.runtime)
            run_id = await handlers.start_run(conn, ctx, YEAR)
        async with h.runtime.transaction() as conn:
            first = await handlers.advance_run(conn, ctx, run_id, 1)
        assert (first["state"], first["leaders_done"], first["granted"]) == ("running", 1, 3)
        # a second run is refused while that one is under way
        second = await h.client.post(
            "/awards/runs", json={"academic_year": YEAR}, headers=coordinator
        )
        assert second.status_code == 409, second.text
        assert second.json()["code"] == "under_way"
        assert second.json()["errors"] == [{"id": run_id}]
        state = await h.client.get(f"/awards/runs/{run_id}", headers=coordinator)
        assert state.json()["state"] == "running"
        assert (state.json()["leaders_done"], state.json()["leaders_total"]) == (1, 3)

    # the service starts again and takes the run up where it was
    async with running_service(service, database_url, nats_url) as h:
        run = await follow(h.client, f"/awards/runs/{run_id}", coordinator)
        assert run["state"] == "done", run
        assert run["result"]["leaders"] == 3
        assert (run["result"]["granted"], run["result"]["withheld"]) == (6, 3)
        # nothing granted twice: each leader's kinds once
        assert await _granted_events(h) == 6
        awards = await h.client.get("/awards", params={"academic_year": YEAR}, headers=coordinator)
        kinds = [(a["student_number"], a["kind"]) for a in awards.json()]
        assert len(kinds) == len(set(kinds)) == 6


async def test_the_certificate_batch_is_made_off_the_request_and_kept(
    recognition: Harness, feed: LocalFeed
) -> None:
    await _a_year(feed)
    coordinator = recognition.auth("coordinator")
    none_yet = await recognition.client.post(f"/certificates/{YEAR}/batches", headers=coordinator)
    assert none_yet.status_code == 404
    await run_awards(recognition.client, YEAR, coordinator)

    started = await recognition.client.post(f"/certificates/{YEAR}/batches", headers=coordinator)
    assert started.status_code == 202, started.text
    body = started.json()
    assert (body["state"], body["pages_total"], body["pdf"]) == ("queued", 2, None)
    location = f"/certificates/{YEAR}/batches/{body['batch_id']}"
    assert started.headers["location"] == location
    batch = await follow(recognition.client, location, coordinator)
    assert batch["state"] == "done" and batch["pages_done"] == batch["pages_total"] == 2
    assert batch["pdf"] == f"{location}/pdf"
    pdf = await recognition.client.get(batch["pdf"], headers=coordinator)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    pages = page_text(pdf.content)
    # the same pages, in the same (name) order, as the batch made in the request
    now = await recognition.client.get(f"/certificates/{YEAR}", headers=coordinator)
    assert pages == page_text(now.content)
    assert "Ada Lovelace" in pages[0] and "Alan Turing" in pages[1]
    # a batch of another year is not found under this one
    other = await recognition.client.get(
        f"/certificates/2027-28/batches/{body['batch_id']}", headers=coordinator
    )
    assert other.status_code == 404


async def test_a_batch_is_one_at_a_time_has_no_pdf_before_done_and_is_made_again_on_start(
    database_url: str, nats_url: str
) -> None:
    async with running_service(service, database_url, nats_url) as h:
        await _a_year(LocalFeed(h.runtime))
        coordinator = h.auth("coordinator")
        await run_awards(h.client, YEAR, coordinator)
        # recorded by a process that stopped before making it
        async with h.runtime.transaction() as conn:
            batch_id = await handlers.start_certificate_batch(
                conn, handler_context(h.runtime), YEAR
            )
        location = f"/certificates/{YEAR}/batches/{batch_id}"
        early = await h.client.get(f"{location}/pdf", headers=coordinator)
        assert early.status_code == 409
        second = await h.client.post(f"/certificates/{YEAR}/batches", headers=coordinator)
        assert second.status_code == 409 and second.json()["errors"] == [{"id": batch_id}]

    async with running_service(service, database_url, nats_url) as h:
        batch = await follow(h.client, location, coordinator)
        assert batch["state"] == "done"
        pdf = await h.client.get(f"{location}/pdf", headers=coordinator)
        assert len(page_text(pdf.content)) == 2
