"""The awards use cases on a real database: the run, its preview, a withdrawal, an erasure."""

from __future__ import annotations

from passhub_recognition import handlers
from passhub_recognition.domain.events import PolicySet
from passhub_shared.contracts.recognition import AwardGranted, AwardWithdrawn, AwardWithheld
from tests.recognition.builders import YEAR, appointed, delivered, launched, trained
from tests.recognition.handlers.conftest import UseCases


async def _a_year(use_cases: UseCases) -> None:
    """S1 meets the default requirements (training, eight sessions); S2 led three."""
    await use_cases.given(
        [
            launched(),
            appointed("S1"),
            trained("S1"),
            *delivered(8, "S1"),
            appointed("S2", name="Grace Hopper"),
            trained("S2"),
        ]
    )
    await use_cases.given(delivered(3, "S2", start=9))


async def test_the_run_adopts_the_defaults_grants_what_is_met_and_withholds_the_rest(
    use_cases: UseCases,
) -> None:
    await _a_year(use_cases)

    summary = await handlers.run_awards(use_cases.conn, use_cases.ctx, YEAR)

    assert (summary.policy_version, summary.leaders) == (1, 2)
    assert summary.granted > 0 and summary.withheld > 0 and summary.unchanged == 0
    types = await use_cases.types()
    assert types[0] == PolicySet.type_name()
    assert types.count(AwardGranted.type_name()) == summary.granted
    assert types.count(AwardWithheld.type_name()) == summary.withheld
    [policy] = await use_cases.rows("SELECT version, set_by FROM rec_policies")
    assert policy == {"version": 1, "set_by": "C1"}
    awards = await use_cases.rows(
        "SELECT student_number, status, sessions_delivered, code_hash FROM rec_awards"
    )
    assert len(awards) == summary.granted
    assert {a["student_number"] for a in awards} == {"S1"}
    assert all(a["status"] == "granted" and a["sessions_delivered"] == 8 for a in awards)
    assert all(a["code_hash"] for a in awards)


async def test_running_again_decides_nothing_twice(use_cases: UseCases) -> None:
    await _a_year(use_cases)
    await handlers.run_awards(use_cases.conn, use_cases.ctx, YEAR)
    before = await use_cases.types()

    again = await handlers.run_awards(use_cases.conn, use_cases.ctx, YEAR)

    assert (again.granted, again.withheld, again.unchanged) == (0, 0, 2)
    assert await use_cases.types() == before


async def test_the_preview_decides_what_the_run_would_and_appends_nothing(
    use_cases: UseCases,
) -> None:
    await _a_year(use_cases)

    preview = await handlers.preview_awards(use_cases.conn, use_cases.ctx, YEAR)

    assert (preview.policy_version, preview.leaders) == (1, 2)
    outcomes = {(line.student_number, line.outcome) for line in preview.lines}
    assert outcomes == {("S1", "grant"), ("S2", "withhold")}
    assert await use_cases.types() == []
    assert await use_cases.rows("SELECT * FROM rec_policies") == []


async def test_a_withdrawn_award_is_not_granted_again_by_the_next_run(use_cases: UseCases) -> None:
    await _a_year(use_cases)
    await handlers.run_awards(use_cases.conn, use_cases.ctx, YEAR)
    [award] = await use_cases.rows(
        "SELECT award_id, kind FROM rec_awards WHERE kind = 'certificate'"
    )

    await handlers.withdraw_award(use_cases.conn, use_cases.ctx, award["award_id"], "a breach")

    [row] = await use_cases.rows(
        "SELECT status, withdrawn_reason FROM rec_awards WHERE award_id = :id",
        id=award["award_id"],
    )
    assert row == {"status": "withdrawn", "withdrawn_reason": "a breach"}
    again = await handlers.run_awards(use_cases.conn, use_cases.ctx, YEAR)
    assert again.granted == 0
    certificates = await use_cases.rows("SELECT status FROM rec_awards WHERE kind = 'certificate'")
    assert certificates == [{"status": "withdrawn"}]


async def test_an_erasure_withdraws_every_standing_award_of_the_person(
    use_cases: UseCases,
) -> None:
    await _a_year(use_cases)
    summary = await handlers.run_awards(use_cases.conn, use_cases.ctx, YEAR)

    await handlers.withdraw_awards_of(use_cases.conn, use_cases.ctx, ["S1", "S2"])

    types = await use_cases.types()
    assert types.count(AwardWithdrawn.type_name()) == summary.granted
    rows = await use_cases.rows("SELECT DISTINCT status, withdrawn_reason FROM rec_awards")
    assert rows == [{"status": "withdrawn", "withdrawn_reason": handlers.ERASED}]
