"""An organiser acts only on the schemes they organise, as the sessions service (named at launch
or by an amendment) and recruitment (appointed student organiser, until they stand down) say
over NATS; checked against real NATS and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import func, select

from passhub_attendance.service import service
from passhub_attendance.tables import scheme_organisers
from passhub_shared.contracts.recruitment import LeaderAppointed, LeaderStoodDown
from passhub_shared.contracts.sessions import SchemeAmended
from passhub_shared.storage.schema import events
from tests.attendance.helpers import (
    as_received,
    publish,
    scheme_launched,
    session_events,
)
from tests.support import Harness, running_service, wait_for

PHYS, CHEM = "2026-27-PHYS", "2026-27-CHEM"
LEADER = "L100"


async def event_count(h: Harness) -> int:
    async with h.runtime.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(events))).scalar_one())


async def organiser_rows(h: Harness) -> set[tuple[str, str, str]]:
    async with h.runtime.engine.connect() as conn:
        rows = await conn.execute(select(scheme_organisers))
        return {(r.scheme_id, r.sub, r.source) for r in rows}


def appointed(student_number: str, scheme_id: str) -> LeaderAppointed:
    return LeaderAppointed(
        student_number=student_number,
        name="Sam Organiser",
        email="sam@example.ac.uk",
        academic_year="2026-27",
        role="organiser",
        schemes=[scheme_id],
        appointed_on=date(2026, 9, 1),
    )


@pytest.fixture
async def h(database_url: str, nats_url: str) -> AsyncIterator[Harness]:
    """Physics run by `o-phys`, chemistry by `o-chem` and the appointed student organiser
    `s-org`; a chemistry session that started 10 minutes ago with leader L100 signed in."""
    await publish(
        nats_url,
        [
            scheme_launched(PHYS, organisers=["o-phys"]),
            scheme_launched(CHEM, organisers=["o-chem"]),
            *session_events("P1", scheme_id=PHYS, leaders=[LEADER]),
            *session_events("C1", scheme_id=CHEM, leaders=[LEADER]),
        ],
    )
    await publish(nats_url, [as_received(appointed("s-org", CHEM), "leader-s-org")], "recruitment")
    async with running_service(service, database_url, nats_url) as harness:
        await wait_for(
            lambda: has_rows(harness, {(CHEM, "s-org", "appointment"), (CHEM, "o-chem", "scheme")})
        )
        signed = await harness.client.post(
            "/sessions/C1/leader-sign-in", headers=harness.auth("leader", LEADER)
        )
        assert signed.status_code == 201, signed.text
        yield harness


async def has_rows(h: Harness, wanted: set[tuple[str, str, str]]) -> bool:
    return wanted <= await organiser_rows(h)


async def test_an_organiser_of_another_scheme_cannot_revoke_a_leaders_sign_in(
    h: Harness,
) -> None:
    before = await event_count(h)
    refused = await h.client.post(
        f"/sessions/C1/attendances/{LEADER}/revoke",
        json={"reason": "not delivered"},
        headers=h.auth("organiser", "o-phys"),
    )
    assert refused.status_code == 403, refused.text
    assert "o-phys does not organise scheme 2026-27-CHEM" in refused.json()["detail"]
    assert await event_count(h) == before  # nothing revoked, nothing published
    delivered = await h.client.get(
        f"/leaders/{LEADER}/sessions-delivered", headers=h.auth("coordinator", "c1")
    )
    assert delivered.json()["sessions_delivered"] == 1

    ok = await h.client.post(
        f"/sessions/C1/attendances/{LEADER}/revoke",
        json={"reason": "not delivered"},
        headers=h.auth("organiser", "o-chem"),
    )
    assert ok.status_code == 200, ok.text


async def test_an_appointed_student_organiser_acts_until_they_stand_down(
    h: Harness, nats_url: str
) -> None:
    code = await h.client.get("/sessions/C1/qr-code", headers=h.auth("organiser", "s-org"))
    assert code.status_code == 200, code.text
    stood_down = LeaderStoodDown(
        student_number="s-org",
        academic_year="2026-27",
        schemes=[CHEM],
        effective_from=date(2026, 11, 1),
        reason="",
    )
    await publish(nats_url, [as_received(stood_down, "leader-s-org")], "recruitment")

    async def gone() -> bool:
        return (CHEM, "s-org", "appointment") not in await organiser_rows(h)

    await wait_for(gone)
    code = await h.client.get("/sessions/C1/qr-code", headers=h.auth("organiser", "s-org"))
    assert code.status_code == 403


async def test_an_amendment_changes_who_organises(h: Harness, nats_url: str) -> None:
    amended = SchemeAmended(
        scheme_id=CHEM, coordinator="c1", organisers=["o-phys"], min_leaders_per_session=2
    )
    await publish(nats_url, [as_received(amended, f"scheme-{CHEM}")])
    await wait_for(lambda: has_rows(h, {(CHEM, "o-phys", "scheme")}))
    assert (CHEM, "o-chem", "scheme") not in await organiser_rows(h)
    now_theirs = await h.client.get("/sessions/C1/audit", headers=h.auth("organiser", "o-phys"))
    assert now_theirs.status_code == 200
    no_longer = await h.client.get("/sessions/C1/audit", headers=h.auth("organiser", "o-chem"))
    assert no_longer.status_code == 403


async def test_an_organiser_of_no_scheme_imports_no_sheet(h: Harness) -> None:
    before = await event_count(h)
    sheet = b"session_id,student_number\nC1,1001\nC1,1002\n"
    for organiser in ("nobody", "o-phys"):
        refused = await h.client.post(
            "/imports",
            content=sheet,
            headers=h.auth("organiser", organiser) | {"content-type": "text/csv"},
        )
        assert refused.status_code == 403, (organiser, refused.text)
    assert await event_count(h) == before
    ok = await h.client.post("/imports", content=sheet, headers=h.auth("organiser", "o-chem"))
    assert ok.status_code == 200, ok.text
    assert ok.json()["imported"] == 2


async def test_an_organiser_of_no_scheme_gets_no_live_code(h: Harness) -> None:
    for organiser in ("nobody", "o-phys"):
        code = await h.client.get("/sessions/C1/qr-code", headers=h.auth("organiser", organiser))
        assert code.status_code == 403 and "url" not in code.json(), organiser
    theirs = await h.client.get("/sessions/C1/qr-code", headers=h.auth("organiser", "o-chem"))
    assert theirs.status_code == 200


async def test_an_organiser_of_no_scheme_reads_no_audit(h: Harness) -> None:
    for organiser in ("nobody", "o-phys"):
        audit = await h.client.get("/sessions/C1/audit", headers=h.auth("organiser", organiser))
        assert audit.status_code == 403, organiser
        by_actor = await h.client.get(
            "/audit", params={"actor": LEADER}, headers=h.auth("organiser", organiser)
        )
        assert by_actor.status_code == 200 and by_actor.json() == []
    theirs = await h.client.get("/sessions/C1/audit", headers=h.auth("organiser", "o-chem"))
    assert [a["actor"] for a in theirs.json()] == [LEADER]
    by_actor = await h.client.get(
        "/audit", params={"actor": LEADER}, headers=h.auth("organiser", "o-chem")
    )
    assert [a["data"]["session_id"] for a in by_actor.json()] == ["C1"]
