"""Hostile input to the recruitment service gets a 4xx with the usual body and writes
nothing: a NUL in an application's statement or in a records file, a field over the csv
module's limit, and dates out of range."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from passhub_recruitment.service import service
from tests.recruitment.flow import YEAR, apply, coordinator, csv_of, import_csv, open_campaign
from tests.recruitment.test_api import event_count
from tests.support import Harness, running_service


@pytest.fixture
async def h(database_url: str, nats_url: str) -> AsyncIterator[Harness]:
    async with running_service(service, database_url, nats_url) as harness:
        yield harness


async def test_a_nul_in_a_statement_writes_nothing(h: Harness) -> None:
    await open_campaign(h)
    await import_csv(h, csv_of("S1000001"))
    before = await event_count(h)
    r = await apply(h, "S1000001", statement="I want to help\u0000")
    assert r.status_code == 422 and r.json()["code"] == "invalid_text", r.text
    assert r.json()["errors"][0]["loc"] == ["body", "statement"]
    assert await event_count(h) == before


@pytest.mark.parametrize(
    ("cell", "why"), [("Ada\x00 Lovelace", "NUL"), ("A" * 200_000, "longer than 131,072")]
)
async def test_a_hostile_records_file_is_refused_by_line(h: Harness, cell: str, why: str) -> None:
    await open_campaign(h)
    before = await event_count(h)
    text = csv_of("S1000001") + f"S1000002,{cell},x@example.ac.uk,Physics,BSc,UG,2,50,\n"
    r = await import_csv(h, text)
    assert r.status_code == 422 and r.json()["code"] == "bad_csv", r.text
    [error] = r.json()["errors"]
    assert error["line"] == 3 and why in error["message"], error
    assert await event_count(h) == before


@pytest.mark.parametrize("closes_on", ["9999-12-31", "0001-01-01"])
async def test_a_campaign_date_out_of_range_is_refused(h: Harness, closes_on: str) -> None:
    r = await h.client.post(
        "/campaigns",
        json={"academic_year": YEAR, "participating_schools": ["Physics"], "closes_on": closes_on},
        headers=coordinator(h),
    )
    assert r.status_code == 422 and r.json()["code"] == "out_of_range", r.text
    assert await event_count(h) == 0
