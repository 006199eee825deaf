"""The policy stream of a year: each change is the next version."""

from __future__ import annotations

import pytest

from passhub_recognition.domain.events import PolicySet
from passhub_recognition.domain.policy import Policy, Requirements, default_rules
from passhub_recognition.domain.policy_stream import SetPolicy, policy_decider
from passhub_shared.web.errors import Rejected

YEAR = "2026-27"


def test_each_change_is_the_next_version_and_an_unchanged_policy_is_no_change() -> None:
    first = policy_decider.given_when([], SetPolicy(YEAR, Policy()))
    assert first == [PolicySet(academic_year=YEAR, version=1, policy=Policy())]
    assert policy_decider.given_when(first, SetPolicy(YEAR, Policy())) == []
    stricter = Policy(
        awards={
            "hear": default_rules("hear").model_copy(
                update={"requirements": Requirements(min_sessions=10)}
            )
        }
    )
    [second] = policy_decider.given_when(first, SetPolicy(YEAR, stricter))
    assert isinstance(second, PolicySet) and second.version == 2
    state = policy_decider.fold([*first, second])
    assert state.versions is not None and sorted(state.versions) == [1, 2]
    assert state.policy == stricter


def test_a_template_may_only_use_the_known_placeholders() -> None:
    rules = default_rules("hear").model_copy(update={"description": "Led $sessoins sessions"})
    with pytest.raises(Rejected, match=r"unknown placeholder \$sessoins"):
        policy_decider.given_when([], SetPolicy(YEAR, Policy(awards={"hear": rules})))
    dangling = default_rules("hear").model_copy(update={"description": "Costs $5"})
    with pytest.raises(Rejected, match=r"\$\$"):
        policy_decider.given_when([], SetPolicy(YEAR, Policy(awards={"hear": dangling})))
