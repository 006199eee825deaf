"""Many students' names at once from their records (a roster's): those held, each once, the
others absent; at most a thousand numbers, each a student number; coordinators and the
integration account only."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from passhub_recruitment.service import service
from tests.recruitment.flow import coordinator, csv_of, import_csv, student
from tests.recruitment.test_api import event_count
from tests.support import Harness, running_service


@pytest.fixture
async def h(database_url: str, nats_url: str) -> AsyncIterator[Harness]:
    async with running_service(service, database_url, nats_url) as harness:
        yield harness


async def names(h: Harness, numbers: list[str], who: dict[str, str] | None = None) -> object:
    r = await h.client.post(
        "/records/names",
        json={"student_numbers": numbers},
        headers=coordinator(h) if who is None else who,
    )
    return r.status_code, r.json()


async def test_the_names_of_the_students_held_each_once_the_others_absent(h: Harness) -> None:
    assert (await import_csv(h, csv_of("S1000001", "S1000002", "S1000003"))).status_code == 201
    asked = ["S1000003", "S9999999", "S1000001", "S1000003"]
    assert await names(h, asked) == (
        200,
        {"names": {"S1000001": "Ada Lovelace", "S1000003": "Grace Hopper"}},
    )
    assert await names(h, ["S9999999"]) == (200, {"names": {}})
    assert await names(h, []) == (200, {"names": {}})
    # the records system's account reads them too
    assert await names(h, ["S1000002"], h.auth("integration", "sits-1")) == (
        200,
        {"names": {"S1000002": "Alan Turing"}},
    )


async def test_a_thousand_numbers_at_most(h: Harness) -> None:
    assert (await import_csv(h, csv_of("S1000001"))).status_code == 201
    thousand = [f"S{n:07d}" for n in range(1_000_000, 1_001_000)]
    assert await names(h, thousand) == (200, {"names": {"S1000001": "Ada Lovelace"}})
    status, body = await names(h, [*thousand, "S2000000"])  # type: ignore[misc]
    assert status == 422, body


async def test_only_coordinators_and_the_integration_account(h: Harness) -> None:
    assert (await import_csv(h, csv_of("S1000001"))).status_code == 201
    for role in ("student", "leader", "organiser", "academic"):
        status, _ = await names(h, ["S1000001"], h.auth(role, "S1000001"))  # type: ignore[misc]
        assert status == 403, role
    status, _ = await names(h, ["S1000001"], student(h, "S1000001"))  # type: ignore[misc]
    assert status == 403
    r = await h.client.post("/records/names", json={"student_numbers": ["S1000001"]})
    assert r.status_code == 401, r.text


@pytest.mark.parametrize(
    "body",
    [
        {"student_numbers": ["S100\x000001"]},
        {"student_numbers": ["S1000001\n"]},
        {"student_numbers": ["S-1000001"]},
        {"student_numbers": [""]},
        {"student_numbers": ["S" * 33]},
        {"student_numbers": [1000001]},
        {"student_numbers": "S1000001"},
        {"student_numbers": ["S1000001"], "more": 1},
        {},
    ],
)
async def test_anything_but_student_numbers_is_refused(h: Harness, body: object) -> None:
    assert (await import_csv(h, csv_of("S1000001"))).status_code == 201
    before = await event_count(h)
    r = await h.client.post("/records/names", json=body, headers=coordinator(h))
    assert r.status_code == 422, r.text
    assert r.json()["code"], r.text
    assert await event_count(h) == before
