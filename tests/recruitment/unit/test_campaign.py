"""Given/when/then: opening and closing a campaign, and the default person specification."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from passhub_recruitment.domain.campaign import CloseCampaign, OpenCampaign, campaign_decider
from passhub_recruitment.domain.events import CampaignClosed
from passhub_recruitment.domain.spec import DEFAULT_CRITERIA
from passhub_shared.contracts.recruitment import CampaignOpened, Criterion
from passhub_shared.web.errors import Conflict, NotFound, Rejected

TODAY = date(2026, 3, 1)


def open_command(**changes: Any) -> OpenCampaign:
    values: dict[str, Any] = {
        "academic_year": "2026-27",
        "leader_title": "PASS Mentor",
        "organiser_title": "Student Organiser",
        "participating_schools": ["Physics", "Mathematics"],
        "criteria": list(DEFAULT_CRITERIA),
        "min_exam_mark": Decimal("60"),
        "core_training_hours": Decimal("6"),
        "today": TODAY,
    }
    values.update(changes)
    return OpenCampaign(**values)


def test_the_default_specification() -> None:
    essentials = [c for c in DEFAULT_CRITERIA if c.importance == "essential"]
    desirables = [c for c in DEFAULT_CRITERIA if c.importance == "desirable"]
    assert len(essentials) == 9 and len(desirables) == 3
    assert {c.check for c in DEFAULT_CRITERIA} == {None, "enrolment", "exam_marks"}
    assert "60%" in next(c for c in DEFAULT_CRITERIA if c.check == "exam_marks").description
    personal = [c for c in essentials if c.check is None]
    assert all(c.assessed_by == ["application", "training_day"] for c in personal)


def test_opening_a_campaign_with_the_default_specification() -> None:
    (opened,) = campaign_decider.given_when([], open_command())
    assert isinstance(opened, CampaignOpened)
    assert opened.campaign_id == "2026-27"
    assert opened.leader_title == "PASS Mentor"
    assert opened.min_exam_mark == 60.0
    assert opened.core_training_hours == 6.0
    assert len(opened.criteria) == 12
    state = campaign_decider.fold([opened])
    assert state is not None and state.min_exam_mark == Decimal("60.0")


def test_opening_with_a_custom_specification() -> None:
    custom = [
        Criterion(
            code="E1",
            description="Enrolled undergraduate",
            importance="essential",
            assessed_by=["application"],
            check="enrolment",
        ),
        Criterion(
            code="E2",
            description="Gives a good presentation",
            importance="essential",
            assessed_by=["other_means"],
        ),
    ]
    (opened,) = campaign_decider.given_when([], open_command(criteria=custom))
    assert isinstance(opened, CampaignOpened)
    assert [c.code for c in opened.criteria] == ["E1", "E2"]


def test_one_campaign_per_academic_year() -> None:
    given = campaign_decider.given_when([], open_command())
    with pytest.raises(Conflict):
        campaign_decider.given_when(given, open_command())


@pytest.mark.parametrize(
    "bad",
    [
        {"academic_year": "2026"},
        {"academic_year": "2026-28"},
        {"participating_schools": []},
        {"participating_schools": ["Physics", " physics "]},
        {"criteria": []},
        {"criteria": [DEFAULT_CRITERIA[0], DEFAULT_CRITERIA[0]]},
        {"criteria": [DEFAULT_CRITERIA[-1]]},  # no essential
        {"min_exam_mark": Decimal("0")},
        {"min_exam_mark": Decimal("100.5")},
        {"core_training_hours": Decimal("0")},
        {"closes_on": date(2026, 2, 1)},
        {"leader_title": " "},
        {
            "criteria": [
                DEFAULT_CRITERIA[0],
                DEFAULT_CRITERIA[1].model_copy(update={"check": "enrolment"}),
            ]
        },
        {"criteria": [DEFAULT_CRITERIA[0].model_copy(update={"code": "has space"})]},
    ],
)
def test_a_bad_campaign_is_refused(bad: dict) -> None:
    with pytest.raises(Rejected):
        campaign_decider.given_when([], open_command(**bad))


def test_closing_a_campaign() -> None:
    given = campaign_decider.given_when([], open_command())
    (closed,) = campaign_decider.given_when(given, CloseCampaign(today=TODAY))
    assert isinstance(closed, CampaignClosed)
    state = campaign_decider.fold([*given, closed])
    assert state is not None and not state.accepts_applications_on(TODAY)
    with pytest.raises(Rejected, match="already closed"):
        campaign_decider.given_when([*given, closed], CloseCampaign(today=TODAY))
    with pytest.raises(NotFound):
        campaign_decider.given_when([], CloseCampaign(today=TODAY))


def _opened() -> Any:
    return campaign_decider.fold(campaign_decider.decide(open_command(), None))


def test_given_no_application_when_the_terms_are_amended_then_they_all_change() -> None:
    from passhub_recruitment.domain.campaign import AmendCampaign
    from passhub_recruitment.domain.events import CampaignAmended

    state = _opened()
    criteria = [c for c in DEFAULT_CRITERIA if c.code != "teamwork"]
    [amended] = campaign_decider.decide(
        AmendCampaign(
            today=TODAY,
            applications=0,
            participating_schools=["Physics", "Chemistry"],
            criteria=criteria,
            min_exam_mark=Decimal("55"),
            closes_on=date(2026, 4, 1),
        ),
        state,
    )
    assert isinstance(amended, CampaignAmended)
    after = campaign_decider.evolve(state, amended)
    assert after.participating_schools == ("Physics", "Chemistry")
    assert after.criterion("teamwork") is None and after.min_exam_mark == Decimal("55")
    assert after.core_training_hours == Decimal("6") and after.closes_on == date(2026, 4, 1)


def test_given_applications_when_the_terms_change_then_refused_but_the_date_may_move() -> None:
    from passhub_recruitment.domain.campaign import AmendCampaign

    state = _opened()
    with pytest.raises(Conflict, match="applications were assessed"):
        campaign_decider.decide(
            AmendCampaign(today=TODAY, applications=3, min_exam_mark=Decimal("50")), state
        )
    [moved] = campaign_decider.decide(
        AmendCampaign(today=TODAY, applications=3, closes_on=date(2026, 5, 1)), state
    )
    after = campaign_decider.evolve(state, moved)
    assert campaign_decider.decide(
        AmendCampaign(today=TODAY, applications=3, no_closing_date=True), after
    )
    # nothing changed: nothing recorded; a date in the past or a bad mark: refused
    assert campaign_decider.decide(AmendCampaign(today=TODAY, applications=3), state) == []
    with pytest.raises(Rejected, match="past"):
        campaign_decider.decide(
            AmendCampaign(today=TODAY, applications=0, closes_on=date(2026, 1, 1)), state
        )
    with pytest.raises(Rejected, match="minimum exam mark"):
        campaign_decider.decide(
            AmendCampaign(today=TODAY, applications=0, min_exam_mark=Decimal("0")), state
        )
    closed = campaign_decider.evolve(state, CampaignClosed(campaign_id="2026-27", closed_on=TODAY))
    with pytest.raises(Rejected, match="closed"):
        campaign_decider.decide(
            AmendCampaign(today=TODAY, applications=0, closes_on=date(2026, 5, 1)), closed
        )
