"""Use cases of campaigns, records and applications, called directly on a connection: what
each reads from the read models, what it appends and what the projections then hold."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recruitment import handlers
from passhub_recruitment.domain.campaign import OpenCampaign
from passhub_recruitment.domain.events import CampaignAmended, StudentRecordsImported
from passhub_recruitment.domain.identifiers import (
    RECORDS_STREAM,
    application_stream,
    campaign_stream,
)
from passhub_recruitment.domain.spec import DEFAULT_CRITERIA
from passhub_recruitment.handlers import Context
from passhub_recruitment.tables import applications, campaigns, student_records
from passhub_shared.contracts.recruitment import ApplicationAssessed, ApplicationSubmitted
from passhub_shared.operations.service import Runtime
from passhub_shared.web.errors import Conflict, NotFound, Rejected
from tests.recruitment.flow import HEADER, NAMES, ROWS, YEAR, csv_of
from tests.recruitment.handlers.conftest import context_as


async def open_campaign(conn: AsyncConnection, ctx: Context) -> None:
    await handlers.open_campaign(
        conn,
        ctx,
        OpenCampaign(
            academic_year=YEAR,
            leader_title="PASS Leader",
            organiser_title="Student organiser",
            participating_schools=["Physics", "Mathematics"],
            criteria=list(DEFAULT_CRITERIA),
            min_exam_mark=Decimal("60"),
            core_training_hours=Decimal("6"),
            today=ctx.today,
        ),
    )


async def import_text(conn: AsyncConnection, ctx: Context, text: str) -> handlers.Imported:
    read = await handlers.read_records(text.encode(), "records.csv", ctx.settings)
    return await handlers.import_records(conn, ctx, read)


async def submit(conn: AsyncConnection, runtime: Runtime, number: str) -> str:
    name, email, school, year = NAMES[number]
    return await handlers.submit_application(
        conn,
        context_as(runtime, number),
        YEAR,
        number,
        handlers.ApplicationForm(
            name=name, email=email, school=school, level="undergraduate", year_of_study=year
        ),
    )


async def types_of(conn: AsyncConnection, runtime: Runtime, stream: str) -> list[str]:
    return [r.type for r in await runtime.store.load(conn, stream)]


async def row_of(conn: AsyncConnection, application_id: str) -> Any:
    return (
        await conn.execute(
            select(applications).where(applications.c.application_id == application_id)
        )
    ).one()


def outcome(row: Any, code: str) -> dict[str, Any]:
    return next(o for o in row.outcomes if o["code"] == code)


async def test_a_submission_is_assessed_against_the_imported_record_and_projected(
    conn: AsyncConnection, runtime: Runtime, coordinator: Context
) -> None:
    await open_campaign(conn, coordinator)
    imported = await import_text(conn, coordinator, csv_of("S1000001", "S1000003"))
    assert (imported.rows, imported.reassessed) == (2, [])
    assert await types_of(conn, runtime, RECORDS_STREAM) == [StudentRecordsImported.type_name()]
    held = await conn.execute(select(student_records.c.student_number))
    assert sorted(r.student_number for r in held) == ["S1000001", "S1000003"]

    ada = await submit(conn, runtime, "S1000001")
    types = await types_of(conn, runtime, application_stream(ada))
    assert types[0] == ApplicationSubmitted.type_name()
    assert types[-1] == ApplicationAssessed.type_name()
    row = await row_of(conn, ada)
    assert (row.student_number, row.status) == ("S1000001", "submitted")
    marks = outcome(row, "exam_marks")
    assert (marks["met"], marks["verified"], marks["mark_used"]) == (True, True, "71.5")

    # Grace's 59.99 misses the 60% the campaign asks
    grace = await submit(conn, runtime, "S1000003")
    assert outcome(await row_of(conn, grace), "exam_marks")["met"] is False
    with pytest.raises(Conflict, match="already applied"):
        await submit(conn, runtime, "S1000003")


async def test_an_import_reassesses_the_open_applications_of_the_students_it_holds(
    conn: AsyncConnection, runtime: Runtime, coordinator: Context
) -> None:
    await open_campaign(conn, coordinator)
    await import_text(conn, coordinator, csv_of("S1000001", "S1000003"))
    ada = await submit(conn, runtime, "S1000001")
    grace = await submit(conn, runtime, "S1000003")
    assert outcome(await row_of(conn, grace), "exam_marks")["met"] is False

    resat = ROWS["S1000003"].replace("59.99", "65")
    again = await import_text(conn, coordinator, HEADER + resat)
    assert again.reassessed == [grace]
    regraded = outcome(await row_of(conn, grace), "exam_marks")
    assert (regraded["met"], regraded["mark_used"]) == (True, "65")
    # Ada was not in the file: her application is as it was
    assert (await types_of(conn, runtime, application_stream(ada)))[-1] == (
        ApplicationAssessed.type_name()
    )
    assert len(await types_of(conn, runtime, application_stream(ada))) == 3


async def test_one_refused_outcome_of_a_criterion_leaves_the_transaction_to_roll_back_them_all(
    conn: AsyncConnection, runtime: Runtime, coordinator: Context
) -> None:
    await open_campaign(conn, coordinator)
    await import_text(conn, coordinator, csv_of("S1000001", "S1000004"))
    ada = await submit(conn, runtime, "S1000001")
    emmy = await submit(conn, runtime, "S1000004")
    before = len(await types_of(conn, runtime, application_stream(ada)))
    organiser = context_as(runtime, "org-1")

    def bulk(*ids: str) -> list[handlers.BulkOutcome]:
        return [handlers.BulkOutcome(i, True, "seen at the training day") for i in ids]

    savepoint = await conn.begin_nested()  # the route's transaction
    with pytest.raises(Rejected, match="listed twice"):
        await handlers.record_criterion(conn, organiser, YEAR, "friendly", "org-1", bulk(ada, ada))
    await savepoint.rollback()
    assert len(await types_of(conn, runtime, application_stream(ada))) == before

    with pytest.raises(Rejected) as unknown:
        await handlers.record_criterion(conn, organiser, YEAR, "juggling", "org-1", bulk(ada))
    assert unknown.value.code == "unknown_criterion"

    await handlers.record_criterion(conn, organiser, YEAR, "friendly", "org-1", bulk(ada, emmy))
    for application_id in (ada, emmy):
        friendly = outcome(await row_of(conn, application_id), "friendly")
        assert (friendly["met"], friendly["assessed_by"]) == (True, "org-1")


async def test_a_campaigns_terms_change_only_before_its_first_application(
    conn: AsyncConnection, runtime: Runtime, coordinator: Context
) -> None:
    await open_campaign(conn, coordinator)
    await import_text(conn, coordinator, csv_of("S1000001"))

    async def amend(mark: str) -> None:
        await handlers.amend_campaign(
            conn,
            coordinator,
            YEAR,
            participating_schools=None,
            criteria=None,
            min_exam_mark=Decimal(mark),
            core_training_hours=None,
            closes_on=None,
            no_closing_date=False,
        )

    await amend("55")
    assert (await types_of(conn, runtime, campaign_stream(YEAR)))[-1] == (
        CampaignAmended.type_name()
    )
    held = await conn.execute(select(campaigns.c.min_exam_mark))
    assert held.scalar_one() == Decimal("55")

    await submit(conn, runtime, "S1000001")
    with pytest.raises(Conflict, match="1 applications were assessed"):
        await amend("50")


async def test_a_student_withdraws_only_their_own_application(
    conn: AsyncConnection, runtime: Runtime, coordinator: Context
) -> None:
    await open_campaign(conn, coordinator)
    await import_text(conn, coordinator, csv_of("S1000001", "S1000002"))
    ada = await submit(conn, runtime, "S1000001")
    alan = context_as(runtime, "S1000002")
    with pytest.raises(NotFound):
        await handlers.withdraw(conn, alan, ada, own_only="S1000002")
    assert (await row_of(conn, ada)).status == "submitted"
    await handlers.withdraw(conn, context_as(runtime, "S1000001"), ada, own_only="S1000001")
    assert (await row_of(conn, ada)).status == "withdrawn"
