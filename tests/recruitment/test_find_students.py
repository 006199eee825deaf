"""Finding students by name on a scheme (a leader adding one who cannot scan the code): the
scheme's school only, as little as the number and the name, and a leader only on a scheme
they are appointed to."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from passhub_recruitment.service import service
from tests.recruitment.flow import (
    MATH,
    PERSONAL,
    PHYS,
    ROWS,
    YEAR,
    apply,
    appoint,
    assess,
    coordinator,
    csv_of,
    import_csv,
    launch,
    open_campaign,
    student,
    train,
)
from tests.support import Harness, running_service


@pytest.fixture
async def h(database_url: str, nats_url: str) -> AsyncIterator[Harness]:
    async with running_service(service, database_url, nats_url) as harness:
        yield harness


async def test_a_leader_finds_students_of_their_scheme_by_name(h: Harness, nats_url: str) -> None:
    await launch(h, nats_url, PHYS, MATH)  # both Physics in recruitment's view of the launch
    await open_campaign(h)
    assert (await import_csv(h, csv_of(*ROWS))).status_code == 201
    ada = (await apply(h, "S1000001")).json()["application_id"]
    await assess(h, ada, PERSONAL)
    await train(h, f"{YEAR}-core-1", "S1000001")
    assert (await appoint(h, ada, [PHYS])).status_code == 200
    leader = h.auth("leader", "S1000001")

    async def find(name: str, who: dict[str, str], scheme: str = PHYS) -> tuple[int, object]:
        r = await h.client.get(f"/schemes/{scheme}/students", params={"name": name}, headers=who)
        return r.status_code, r.json()

    # the scheme's school only (Alan and Emmy are Mathematics, Paul History), any case, by name
    assert await find("gRaCe", leader) == (
        200,
        [{"student_number": "S1000003", "name": "Grace Hopper"}],
    )
    status, found = await find("a", coordinator(h))
    assert status == 422  # two characters at least
    status, found = await find("er", coordinator(h))
    assert status == 200 and [f["name"] for f in found] == ["Grace Hopper"]  # type: ignore[union-attr]
    status, found = await find("A", leader)
    assert status == 422
    status, found = await find(" a ", leader)  # trimmed: one character is too few
    assert status == 422
    status, found = await find("lace", leader)  # Lovelace: the leader is a student too
    assert [f["name"] for f in found] == ["Ada Lovelace"]  # type: ignore[union-attr]
    status, found = await find("lo", leader)
    assert [f["name"] for f in found] == ["Ada Lovelace"]  # type: ignore[union-attr]
    assert await find("Alan", leader) == (200, [])
    assert await find("%%", leader) == (200, [])  # LIKE's wildcards are taken literally
    assert await find("__", leader) == (200, [])

    # a leader of another scheme, or none, does not learn the scheme's students
    assert (await find("Grace", leader, MATH))[0] == 404
    assert (await find("Grace", h.auth("leader", "S1000003")))[0] == 404
    assert (await find("Grace", student(h, "S1000001")))[0] == 403
    assert (await find("Grace", h.auth("integration", "sits-1")))[0] == 403
