"""The recruitment service against its access table in docs/access.md: every route, every
role, and the scope rule (students and leaders see and act on their own applications, records
and training only)."""

from __future__ import annotations

from passhub_recruitment.service import service
from tests.access import World, check_table
from tests.recruitment.flow import (
    PHYS,
    YEAR,
    apply,
    csv_of,
    import_csv,
    open_campaign,
    student,
    train,
)
from tests.support import running_service

SUBS = {
    "coordinator": "coord-1",
    "organiser": "org-1",
    "leader": "S1000002",
    "student": "S1000001",
    "academic": "a1",
    "integration": "sits-1",
}


async def test_every_route_answers_every_role_as_the_table_says(
    database_url: str, nats_url: str
) -> None:
    async with running_service(service, database_url, nats_url) as h:
        await open_campaign(h)
        assert (await import_csv(h, csv_of("S1000001", "S1000002"))).status_code == 201
        application = await apply(h, "S1000001")
        assert application.status_code == 201, application.text
        await train(h, f"{YEAR}-core-1")
        world = World(
            subs=SUBS,
            params={
                "campaign_id": YEAR,
                "application_id": application.json()["application_id"],
                "scheme_id": PHYS,
                "training_id": f"{YEAR}-core-1",
                "academic_year": YEAR,
            },
        )
        await check_table(h, "recruitment", world)


async def test_scope_a_student_acting_for_another(database_url: str, nats_url: str) -> None:
    async with running_service(service, database_url, nats_url) as h:
        await open_campaign(h)
        assert (await import_csv(h, csv_of("S1000001", "S1000002"))).status_code == 201
        application_id = (await apply(h, "S1000001")).json()["application_id"]
        other = student(h, "S1000002")
        assert (
            await h.client.get(f"/applications/{application_id}", headers=other)
        ).status_code == 404
        withdraw = await h.client.post(f"/applications/{application_id}/withdraw", headers=other)
        assert withdraw.status_code == 404
        assert (await h.client.get("/records/S1000001", headers=other)).status_code in (403, 404)
        assert (
            await h.client.get("/training/S1000001", params={"academic_year": YEAR}, headers=other)
        ).status_code == 404
