"""The awards run as a job, step by step on a real database: a batch of leaders per step,
its progress recorded with what it decided, the same decisions as the run in one transaction,
nothing decided twice, one run per year at a time."""

from __future__ import annotations

import pytest

from passhub_recognition import handlers
from passhub_shared.contracts.recognition import AwardGranted
from tests.recognition.builders import YEAR, appointed, delivered, launched, trained
from tests.recognition.handlers.conftest import UseCases


async def _a_year(use_cases: UseCases) -> None:
    """S1 and S3 meet the default requirements; S2 led three sessions."""
    await use_cases.given(
        [
            launched(),
            appointed("S1"),
            trained("S1"),
            *delivered(8, "S1"),
            appointed("S2", name="Grace Hopper"),
            trained("S2"),
            appointed("S3", name="Alan Turing"),
            trained("S3"),
        ]
    )
    await use_cases.given(delivered(3, "S2", start=9))
    await use_cases.given(delivered(8, "S3", start=12))


async def test_a_run_decides_a_batch_per_step_and_ends_as_the_run_in_one_transaction(
    use_cases: UseCases,
) -> None:
    await _a_year(use_cases)
    conn, ctx = use_cases.conn, use_cases.ctx
    # the run in one transaction, undone: what the job must end with
    undo = await conn.begin_nested()
    at_once = await handlers.run_awards(conn, ctx, YEAR)
    await undo.rollback()
    assert await use_cases.types() == []

    run_id = await handlers.start_run(conn, ctx, YEAR)
    seen = []
    while True:
        run = await handlers.advance_run(conn, ctx, run_id, 2)
        seen.append((run["state"], run["leaders_done"], run["leaders_total"]))
        if run["state"] == "done":
            break
    assert seen == [("running", 2, 3), ("done", 3, 3)]
    summary = handlers.run_summary(run)
    assert (
        summary.policy_version,
        summary.leaders,
        summary.granted,
        summary.withheld,
        summary.unchanged,
    ) == (
        at_once.policy_version,
        at_once.leaders,
        at_once.granted,
        at_once.withheld,
        at_once.unchanged,
    )
    assert (await use_cases.types()).count(AwardGranted.type_name()) == at_once.granted
    # the student numbers are not kept once it is done
    assert run["leaders"] == []

    # a step of a finished run does nothing
    again = await handlers.advance_run(conn, ctx, run_id, 2)
    assert (again["state"], again["granted"]) == ("done", at_once.granted)
    # a second run grants nothing twice
    second = await handlers.start_run(conn, ctx, YEAR)
    while (run := await handlers.advance_run(conn, ctx, second, 1))["state"] != "done":
        pass
    assert (run["granted"], run["withheld"], run["unchanged"]) == (0, 0, 3)
    assert (await use_cases.types()).count(AwardGranted.type_name()) == at_once.granted


async def test_one_run_per_year_at_a_time(use_cases: UseCases) -> None:
    await _a_year(use_cases)
    conn, ctx = use_cases.conn, use_cases.ctx
    first = await handlers.start_run(conn, ctx, YEAR)
    with pytest.raises(handlers.UnderWay) as refused:
        await handlers.start_run(conn, ctx, YEAR)
    assert refused.value.job_id == first
    await handlers.advance_run(conn, ctx, first, 1)  # running now
    with pytest.raises(handlers.UnderWay):
        await handlers.start_run(conn, ctx, YEAR)
    # another year is another matter
    assert await handlers.start_run(conn, ctx, "2027-28") != first


async def test_a_failed_run_keeps_what_it_decided_and_frees_the_year(use_cases: UseCases) -> None:
    await _a_year(use_cases)
    conn, ctx = use_cases.conn, use_cases.ctx
    first = await handlers.start_run(conn, ctx, YEAR)
    await handlers.advance_run(conn, ctx, first, 1)  # S1 decided
    await handlers.fail_run(conn, ctx, first, "the disk is full")
    [row] = await use_cases.rows("SELECT state, error, leaders_done FROM rec_award_runs")
    assert row == {"state": "failed", "error": "the disk is full", "leaders_done": 1}
    second = await handlers.start_run(conn, ctx, YEAR)
    while (run := await handlers.advance_run(conn, ctx, second, 5))["state"] != "done":
        pass
    # S1's awards stand from the first run; the second decides the two others
    assert (run["leaders_done"], run["unchanged"]) == (3, 1)
