"""The year end to end, on real NATS and PostgreSQL: the other services' events arrive on
JetStream, the awards run grants and withholds, the registry exports follow, a revoked sign-in
withdraws the awards, and a replay of the log rebuilds the same read models."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select

from passhub_recognition.service import service
from passhub_shared.operations.replay import rebuild
from passhub_shared.storage.schema import events
from tests.recognition.builders import (
    CHEM,
    YEAR,
    appointed,
    delivered,
    launched,
    revoked,
    trained,
)
from tests.recognition.feed import NatsFeed
from tests.recognition.runs import run_awards
from tests.support import Harness, read_stream, running_service, wait_for


async def consumed(h: Harness) -> int:
    async with h.runtime.engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    select(func.count()).select_from(events).where(events.c.origin != "recognition")
                )
            ).scalar_one()
        )


async def published(nats_url: str, name: str | None = None) -> list[dict]:
    found = await read_stream(nats_url, "PASSHUB_RECOGNITION", timeout=0.5)
    return [m for m in found if name is None or m["type"] == f"passhub.recognition.{name}.v1"]


async def test_a_year_of_events_to_awards_exports_and_a_withdrawal(
    database_url: str, nats_url: str
) -> None:
    async with running_service(service, database_url, nats_url) as h:
        c, coordinator = h.client, h.auth("coordinator")
        feed = NatsFeed(nats_url)
        # recruitment appoints two leaders and trains one; sessions launches the scheme and
        # schedules the weeks; attendance records the leaders' sign-ins
        year = [
            launched(),
            launched(CHEM, "Chemistry"),
            appointed("S1"),
            appointed("S2", name="Grace Hopper", schemes=[CHEM]),
            trained("S1"),
            trained("S2"),
            *delivered(8, "S1"),
            *delivered(6, "S2"),
        ]
        await feed.publish(year)
        await wait_for(lambda: _at_least(h, len(year)), timeout=20)

        progress = await c.get(f"/progress/{YEAR}/me", headers=h.auth("leader", "S1"))
        assert progress.json()["sessions_delivered"] == 8
        assert all(a["eligible"] for a in progress.json()["awards"])

        run = await run_awards(c, YEAR, coordinator)
        assert run == {
            "academic_year": YEAR,
            "policy_version": 1,  # the defaults, adopted by the run
            "leaders": 2,
            "granted": 3,
            "withheld": 3,
            "unchanged": 0,
        }
        again = await run_awards(c, YEAR, coordinator)
        assert again["granted"] == 0 and again["unchanged"] == 2

        await wait_for(lambda: _published_count(nats_url, 6), timeout=15)
        granted = await published(nats_url, "award_granted")
        assert sorted(m["data"]["kind"] for m in granted) == ["certificate", "hear", "psa"]
        assert {m["data"]["student_number"] for m in granted} == {"S1"}
        assert all(m["data"]["sessions_delivered"] == 8 for m in granted)
        assert all(m["data"]["role"] == "PASS Leader" for m in granted)
        withheld = await published(nats_url, "award_withheld")
        assert {m["data"]["student_number"] for m in withheld} == {"S2"}
        assert all(m["data"]["unmet"] == ["sessions"] for m in withheld)
        assert all(m["data"]["unmet_detail"] == ["6 of 8 sessions delivered"] for m in withheld)
        # the run's decisions are caused by the coordinator's request: same correlation id
        assert len({m["correlationid"] for m in granted + withheld}) == 1

        hear_csv = await c.get(f"/exports/{YEAR}/hear?format=csv", headers=coordinator)
        assert hear_csv.status_code == 200 and hear_csv.headers["content-type"].startswith(
            "text/csv"
        )
        [row] = list(csv.DictReader(io.StringIO(hear_csv.text)))
        assert row["student_number"] == "S1"
        assert row["activity_code"] == "PASS-HEAR"
        assert row["activity_title"] == "Peer Assisted Study Sessions: PASS Leader"
        assert row["category"] == "Additional recognised activities"
        assert row["role"] == "PASS Leader"
        assert row["start_date"] == "2026-09-20" and row["end_date"] == "2026-11-23"
        assert row["academic_year"] == YEAR and row["verifying_body"] == "PASS Scheme Office"
        assert "Physics (2026-27)" in row["description"] and len(row["description"]) <= 400
        integration = h.auth("integration", "registry")
        psa = await c.get(f"/exports/{YEAR}/psa?format=json", headers=integration)
        assert [r["student_number"] for r in psa.json()] == ["S1"]
        assert psa.json()[0]["category"] == "Volunteering"

        hear = next(m["data"] for m in granted if m["data"]["kind"] == "hear")
        verified = await c.get(f"/verify/{hear['verification_code']}.json")
        assert verified.json()["status"] == "valid"

        # attendance corrects one of S1's sign-ins: the awards no longer hold
        await feed.publish([revoked(3, "S1")])
        await wait_for(lambda: _published_count(nats_url, 9), timeout=20)
        withdrawn = await published(nats_url, "award_withdrawn")
        hear_withdrawn = next(m["data"] for m in withdrawn if m["data"]["kind"] == "hear")
        assert hear_withdrawn["award_id"] == hear["award_id"]
        assert hear_withdrawn["reason"] == (
            f"sign-in at session {YEAR}-PHYS-s03 revoked (signed in by mistake): "
            "7 of 8 sessions delivered"
        )
        # caused by the revocation, in the consumer's transaction
        revocation_id = next(m for m in withdrawn)["causationid"]
        assert revocation_id and all(m["causationid"] == revocation_id for m in withdrawn)

        verified = await c.get(f"/verify/{hear['verification_code']}.json")
        assert verified.json()["status"] == "withdrawn"
        page = await c.get(f"/verify/{hear['verification_code']}")
        assert "Withdrawn" in page.text and "Ada Lovelace" in page.text
        hear_csv = await c.get(f"/exports/{YEAR}/hear?format=csv", headers=coordinator)
        assert list(csv.DictReader(io.StringIO(hear_csv.text))) == []
        progress = await c.get(f"/progress/{YEAR}/me", headers=h.auth("leader", "S1"))
        statuses = {a["kind"]: a["status"] for a in progress.json()["awards"]}
        assert statuses == {"certificate": "withdrawn", "psa": "withdrawn", "hear": "withdrawn"}

        # redelivering the same event changes nothing (recorded once, reacted to once)
        before = await consumed(h)
        await h.runtime.applier.apply(
            [r for r in await _recorded_revocations(h)]  # the same event ids again
        )
        assert await consumed(h) == before
        assert len(await published(nats_url, "award_withdrawn")) == 3

        report = await rebuild(h.runtime.engine, h.runtime.store, commit=False)
        assert report.identical, report.differing_tables
        assert report.before["rec_awards"].startswith("3:")


async def _at_least(h: Harness, n: int) -> bool:
    return await consumed(h) >= n


async def _published_count(nats_url: str, n: int) -> bool:
    return len(await published(nats_url)) >= n


async def _recorded_revocations(h: Harness) -> list:
    from passhub_shared.contracts.attendance import AttendanceRevoked

    async with h.runtime.engine.connect() as conn:
        return await h.runtime.store.load_foreign(conn, [AttendanceRevoked.type_name()])


async def test_revoked_sign_ins_that_leave_the_hear_entry_standing_reissue_it_with_what_holds_now(
    database_url: str, nats_url: str
) -> None:
    """The year's policy asks 8 sessions for the certificate and PSA, 6 for the HEAR entry. A
    leader with 9 sessions (11 hours) has two sign-ins revoked: the certificate and PSA are
    withdrawn, the HEAR entry stands and is re-issued, and its export and verification say
    7 sessions and 9 hours, not the 9 and 11 it was first issued with."""
    async with running_service(service, database_url, nats_url) as h:
        c, coordinator = h.client, h.auth("coordinator")
        policy = (await c.get(f"/policies/{YEAR}", headers=coordinator)).json()["policy"]
        policy["awards"]["hear"]["requirements"]["min_sessions"] = 6
        assert (await c.put(f"/policies/{YEAR}", json=policy, headers=coordinator)).is_success
        feed = NatsFeed(nats_url)
        year = [
            launched(),
            appointed("S1"),
            trained("S1"),
            *delivered(7, "S1"),
            *delivered(2, "S1", start=8, hours=2.0),
        ]
        await feed.publish(year)
        await wait_for(lambda: _at_least(h, len(year)), timeout=20)
        run = await run_awards(c, YEAR, coordinator)
        assert run["granted"] == 3
        granted = (await c.get(f"/awards?academic_year={YEAR}", headers=coordinator)).json()
        hear = next(a for a in granted if a["kind"] == "hear")
        code = hear["verification_code"]
        assert (hear["sessions_delivered"], hear["hours"]) == (9, 11.0)
        export = (await c.get(f"/exports/{YEAR}/hear?format=json", headers=coordinator)).json()
        assert "9 weekly study sessions (11 hours)" in export[0]["description"]

        # one revocation after the other (a batch holding both would be re-checked once)
        await feed.publish([revoked(2, "S1")])
        await wait_for(lambda: _published_count(nats_url, 3 + 3), timeout=20)
        await feed.publish([revoked(3, "S1")])
        await wait_for(lambda: _published_count(nats_url, 3 + 3 + 3), timeout=20)
        awards = (await c.get(f"/awards?academic_year={YEAR}", headers=coordinator)).json()
        assert {a["kind"]: a["status"] for a in awards} == {
            "certificate": "withdrawn",
            "psa": "withdrawn",
            "hear": "granted",
        }
        hear = next(a for a in awards if a["kind"] == "hear")
        assert (hear["sessions_delivered"], hear["hours"]) == (7, 9.0)
        assert hear["revised_reason"] == (
            f"sign-in at session {YEAR}-PHYS-s03 revoked (signed in by mistake): "
            "7 sessions (9 hours), was 8 sessions (10 hours)"
        )
        # each change is recorded and published: the first revocation re-issued all three
        # with 8 sessions, the second the HEAR entry alone with 7
        revisions = await published(nats_url, "award_revised")
        assert [(m["data"]["kind"], m["data"]["sessions_delivered"]) for m in revisions] == [
            ("certificate", 8),
            ("psa", 8),
            ("hear", 8),
            ("hear", 7),
        ]

        for fmt in ("json", "csv"):
            export_now = await c.get(f"/exports/{YEAR}/hear?format={fmt}", headers=coordinator)
            assert "7 weekly study sessions (9 hours)" in export_now.text
            assert "11 hours" not in export_now.text
        verified = (await c.get(f"/verify/{code}.json")).json()
        assert verified["status"] == "valid"
        assert (verified["sessions_delivered"], verified["hours"]) == (7, 9.0)
        assert verified["revised_on"] is not None
        page = await c.get(f"/verify/{code}")
        assert "7 (9 hours)" in page.text and "11 hours" not in page.text
        assert "Revised on" in page.text
        progress = await c.get(f"/progress/{YEAR}/me", headers=h.auth("leader", "S1"))
        assert progress.json()["sessions_delivered"] == 7

        report = await rebuild(h.runtime.engine, h.runtime.store, commit=False)
        assert report.identical, report.differing_tables


async def test_head_on_a_verification_answers_as_get_without_a_body(
    database_url: str, nats_url: str
) -> None:
    async with running_service(service, database_url, nats_url) as h:
        c, coordinator = h.client, h.auth("coordinator")
        feed = NatsFeed(nats_url)
        year = [launched(), appointed("S1"), trained("S1"), *delivered(8, "S1")]
        await feed.publish(year)
        await wait_for(lambda: _at_least(h, len(year)), timeout=20)
        await run_awards(c, YEAR, coordinator)
        awards = (await c.get(f"/awards?academic_year={YEAR}", headers=coordinator)).json()
        code = awards[0]["verification_code"]
        for path in (
            f"/verify/{code}",
            f"/verify/{code}.json",
            "/verify/AAAA-BBBB",
            "/verify/x.json",
        ):
            get = await c.get(path)
            head = await c.head(path)
            assert head.status_code == get.status_code, path
            assert head.content == b"", path
            assert head.headers["content-type"] == get.headers["content-type"], path
            assert head.headers["content-length"] == str(len(get.content)), path
            assert head.headers["cache-control"] == "no-store", path
