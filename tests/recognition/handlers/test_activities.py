"""The activity use cases on a real database: recording one, and striking one an award
needed."""

from __future__ import annotations

from datetime import date

import pytest

from passhub_recognition import handlers
from passhub_recognition.domain.awards import RecordActivity
from passhub_recognition.domain.events import ActivityRecorded, ActivityStruck
from passhub_recognition.domain.policy import Policy, Requirements, default_rules
from passhub_shared.contracts.recognition import AwardWithdrawn
from passhub_shared.web.errors import Rejected
from tests.recognition.builders import YEAR, appointed, delivered, launched, trained
from tests.recognition.handlers.conftest import UseCases


def _meeting(student: str = "S1", activity_id: str = "a1") -> RecordActivity:
    return RecordActivity(
        activity_id=activity_id,
        academic_year=YEAR,
        student_number=student,
        kind="mentor_meeting",
        held_on=date(2026, 11, 2),
        hours=1.0,
        note="first term",
    )


async def test_an_activity_of_someone_never_appointed_is_refused_and_nothing_is_kept(
    use_cases: UseCases,
) -> None:
    await use_cases.given([launched(), appointed("S1")])

    with pytest.raises(Rejected) as refused:
        await handlers.record_activity(use_cases.conn, use_cases.ctx, _meeting("S9"))

    assert refused.value.code == "not_a_leader"
    assert await use_cases.types() == []
    assert await use_cases.rows("SELECT * FROM rec_activities") == []


async def test_an_activity_is_recorded_with_who_recorded_it(use_cases: UseCases) -> None:
    await use_cases.given([launched(), appointed("S1")])

    await handlers.record_activity(use_cases.conn, use_cases.ctx, _meeting())

    assert await use_cases.types() == [ActivityRecorded.type_name()]
    [row] = await use_cases.rows(
        "SELECT activity_id, student_number, kind, hours, recorded_by, struck FROM rec_activities"
    )
    assert row == {
        "activity_id": "a1",
        "student_number": "S1",
        "kind": "mentor_meeting",
        "hours": 1.0,
        "recorded_by": "C1",
        "struck": False,
    }


async def test_striking_an_activity_withdraws_the_award_that_needed_it(
    use_cases: UseCases,
) -> None:
    hear = default_rules("hear").model_copy(
        update={"requirements": Requirements(min_sessions=8, min_mentor_meetings=1)}
    )
    await handlers.set_policy(use_cases.conn, use_cases.ctx, YEAR, Policy(awards={"hear": hear}))
    await use_cases.given([launched(), appointed("S1"), trained("S1"), *delivered(8, "S1")])
    await handlers.record_activity(use_cases.conn, use_cases.ctx, _meeting())
    await handlers.run_awards(use_cases.conn, use_cases.ctx, YEAR)
    [award] = await use_cases.rows("SELECT award_id FROM rec_awards WHERE kind = 'hear'")

    withdrawn = await handlers.strike_activity(use_cases.conn, use_cases.ctx, "a1", "never met")

    assert withdrawn == [award["award_id"]]
    types = await use_cases.types()
    assert types[-2:] == [ActivityStruck.type_name(), AwardWithdrawn.type_name()]
    [activity] = await use_cases.rows("SELECT struck, struck_reason FROM rec_activities")
    assert activity == {"struck": True, "struck_reason": "never met"}
    standing = await use_cases.rows("SELECT kind FROM rec_awards WHERE status = 'granted'")
    assert "hear" not in {row["kind"] for row in standing} and standing
