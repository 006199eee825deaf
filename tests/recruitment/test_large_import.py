"""A large records import is read on a worker thread: the service goes on answering."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from passhub_recruitment.service import service
from tests.recruitment.flow import coordinator
from tests.responsiveness import answered_in_usual_time
from tests.support import Harness, running_service

HEADER = "student_number,name,email,school,programme,level,year_of_study,year1_mark,notes\n"


def large_export(rows: int) -> bytes:
    """`rows` valid students, each with a long ignored column, as exports carry."""
    notes = "x" * 500
    return (
        HEADER
        + "".join(
            f"S{n:07d},Student {n},s{n}@example.ac.uk,Physics,BSc Physics,undergraduate,2,"
            f"{n % 100}.5,{notes}\n"
            for n in range(1, rows + 1)
        )
    ).encode()


@pytest.fixture
async def h(database_url: str, nats_url: str) -> AsyncIterator[Harness]:
    async with running_service(service, database_url, nats_url, relay=False) as harness:
        yield harness


async def test_healthz_is_answered_in_its_usual_time_during_a_large_import(h: Harness) -> None:
    body = large_export(60_000)
    assert len(body) > 35_000_000

    async def healthz() -> None:
        r = await h.client.get("/healthz")
        assert r.status_code == 200

    def imported(r: Any) -> None:
        assert r.status_code == 201, r.text
        assert r.json()["rows"] == 60_000

    await answered_in_usual_time(
        healthz,
        lambda: h.client.post(
            "/records/imports",
            content=body,
            headers={**coordinator(h), "Content-Type": "text/csv"},
            timeout=60,
        ),
        imported,
    )
