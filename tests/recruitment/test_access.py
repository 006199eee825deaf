"""The recruitment service against its access table in docs/access.md: every route, every
role, and the scope rules (students and leaders see and act on their own applications, records
and training only; organisers see the applicants to the schemes they organise)."""

from __future__ import annotations

from passhub_recruitment.service import service
from tests.access import World, check_table
from tests.recruitment.flow import (
    MATH,
    PERSONAL,
    PHYS,
    YEAR,
    apply,
    appoint,
    assess,
    coordinator,
    csv_of,
    import_csv,
    launch,
    open_campaign,
    publish_amendment,
    student,
    train,
)
from tests.support import running_service, wait_for

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
        # the organiser calling is the one of the world's scheme
        await launch(h, nats_url, PHYS, organisers=[SUBS["organiser"]])
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


async def test_scope_an_organiser_sees_the_applicants_to_their_own_schemes_only(
    database_url: str, nats_url: str
) -> None:
    """Named organisers (from the sessions service's launches and amendments) and appointed
    student organisers see the applications to their schemes: the list and the shortlist hold
    no others, naming another scheme is refused, and another's application is refused (403)."""
    async with running_service(service, database_url, nats_url) as h:
        await launch(h, nats_url, PHYS, organisers=["org-1"])
        await launch(h, nats_url, MATH, organisers=["org-2"])
        await open_campaign(h)
        await import_csv(h, csv_of("S1000001", "S1000002", "S1000004"))
        ada = (await apply(h, "S1000001", preferred_schemes=[PHYS])).json()["application_id"]
        alan = (await apply(h, "S1000002", preferred_schemes=[MATH])).json()["application_id"]
        org1 = h.auth("organiser", "org-1")

        async def listed(headers: dict[str, str], **params: str) -> list[str]:
            r = await h.client.get(
                f"/campaigns/{YEAR}/applications", params=params, headers=headers
            )
            assert r.status_code == 200, r.text
            return [a["student_number"] for a in r.json()]

        async def shortlisted(headers: dict[str, str]) -> list[str]:
            r = await h.client.get(f"/campaigns/{YEAR}/shortlist", headers=headers)
            assert r.status_code == 200, r.text
            return [e["application"]["student_number"] for e in r.json()]

        assert await listed(coordinator(h)) == ["S1000001", "S1000002"]
        assert await listed(org1) == ["S1000001"]
        assert await listed(org1, scheme=PHYS) == ["S1000001"]
        assert await shortlisted(org1) == ["S1000001"]
        for path in ("applications", "shortlist"):
            other = await h.client.get(
                f"/campaigns/{YEAR}/{path}", params={"scheme": MATH}, headers=org1
            )
            assert other.status_code == 403, other.text
        assert (await h.client.get(f"/applications/{ada}", headers=org1)).status_code == 200
        assert (await h.client.get(f"/applications/{alan}", headers=org1)).status_code == 403
        nobody = h.auth("organiser", "org-9")
        assert await listed(nobody) == []
        assert (await h.client.get(f"/applications/{ada}", headers=nobody)).status_code == 403

        # the sessions service names org-1 an organiser of MATH too
        await publish_amendment(nats_url, MATH, ["org-2", "org-1"])

        async def both() -> bool:
            return await listed(org1) == ["S1000001", "S1000002"]

        await wait_for(both, timeout=20)
        assert (await h.client.get(f"/applications/{alan}", headers=org1)).status_code == 200

        # Emmy, appointed student organiser of MATH, sees its applicants (and her own)
        emmy = (
            await apply(h, "S1000004", preferred_schemes=[MATH], role_sought="organiser")
        ).json()["application_id"]
        await assess(h, emmy, PERSONAL)
        await train(h, f"{YEAR}-core-1", "S1000004")
        assert (await appoint(h, emmy, [MATH], role="organiser")).status_code == 200
        as_emmy = h.auth("organiser", "S1000004")
        assert await listed(as_emmy) == ["S1000002", "S1000004"]
        assert (await h.client.get(f"/applications/{alan}", headers=as_emmy)).status_code == 200
        assert (await h.client.get(f"/applications/{ada}", headers=as_emmy)).status_code == 403
