"""The policy stream of an academic year (`policy-<year>`): each change is the next version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from passhub_recognition.domain.events import PolicySet
from passhub_recognition.domain.policy import Policy, check_academic_year, check_policy
from passhub_shared.messages.events import Event
from passhub_shared.storage.decider import Decider


def policy_stream(year: str) -> str:
    return f"policy-{year}"


@dataclass
class PolicyState:
    version: int = 0
    policy: Policy | None = None
    #: every version so far, for re-checking decisions made under an older one
    versions: dict[int, Policy] | None = None


@dataclass(frozen=True)
class SetPolicy:
    academic_year: str
    policy: Policy


def decide(command: SetPolicy, state: PolicyState) -> Sequence[Event]:
    check_academic_year(command.academic_year)
    check_policy(command.policy)
    if state.policy == command.policy:
        return []  # unchanged: no new version
    return [
        PolicySet(
            academic_year=command.academic_year,
            version=state.version + 1,
            policy=command.policy,
        )
    ]


def evolve(state: PolicyState, event: Event) -> PolicyState:
    if isinstance(event, PolicySet):
        versions = dict(state.versions or {})
        versions[event.version] = event.policy
        return PolicyState(version=event.version, policy=event.policy, versions=versions)
    return state


policy_decider = Decider[SetPolicy, PolicyState](initial=PolicyState, decide=decide, evolve=evolve)
