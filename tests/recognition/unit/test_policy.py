"""The policy of a year: its kinds, its requirements, the academic year it is for."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from passhub_recognition.domain.policy import Policy, Requirements, check_academic_year
from passhub_recognition.domain.policy_stream import SetPolicy, policy_decider
from passhub_shared.web.errors import Rejected


def test_kinds_left_out_of_a_policy_get_the_defaults() -> None:
    assert sorted(Policy(awards={}).awards) == ["certificate", "hear", "psa"]


@pytest.mark.parametrize("year", ["2026", "2026-28", "26-27", "2026/27", "2026-27x"])
def test_an_academic_year_must_look_like_2026_27(year: str) -> None:
    with pytest.raises(Rejected, match="2026-27"):
        check_academic_year(year)
    with pytest.raises(Rejected):
        policy_decider.given_when([], SetPolicy(year, Policy()))


def test_requirements_refuse_nonsense_numbers() -> None:
    with pytest.raises(ValidationError):
        Requirements(min_sessions=0)
    with pytest.raises(ValidationError):
        Requirements(min_session_hours=-1)
    with pytest.raises(ValidationError):
        Requirements.model_validate({"min_sessions": 8, "surprise": True})
