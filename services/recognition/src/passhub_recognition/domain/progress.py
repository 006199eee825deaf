"""A leader's live progress towards each award: what is met, what is missing, what was decided."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from passhub_recognition.domain.awards import LeaderState, RoleTitles, role_title
from passhub_recognition.domain.policy import KINDS, Policy
from passhub_recognition.domain.requirements import Check, assess
from passhub_recognition.domain.wording import KIND_TITLES
from passhub_shared.contracts.recognition import AwardKind

Status = Literal["granted", "withheld", "withdrawn", "undecided", "not_offered"]


@dataclass(frozen=True)
class KindProgress:
    kind: AwardKind
    title: str
    enabled: bool
    eligible: bool
    requirements: list[Check]
    missing: list[str]
    status: Status
    award_id: str | None


@dataclass(frozen=True)
class LeaderProgress:
    academic_year: str
    student_number: str
    name: str
    role: str
    schemes: list[str]
    policy_version: int
    sessions_delivered: int
    session_hours: float
    training_completed: bool
    training_admin_hours: float
    mentor_meetings: int
    stood_down_on: date | None
    awards: list[KindProgress]


def _status(state: LeaderState, kind: AwardKind, enabled: bool) -> tuple[Status, str | None]:
    standing = state.standing(kind)
    if standing is not None:
        return "granted", standing.award_id
    withdrawn = [a for a in state.awards.values() if a.kind == kind]
    if withdrawn:
        return "withdrawn", withdrawn[-1].award_id
    if kind in state.withheld:
        return "withheld", None
    return ("undecided" if enabled else "not_offered"), None


def leader_progress(
    year: str,
    student_number: str,
    state: LeaderState,
    policy: Policy,
    policy_version: int,
    titles: RoleTitles,
) -> LeaderProgress:
    facts, book = state.facts, state.book
    delivered = facts.delivered(book)
    kinds: list[KindProgress] = []
    for kind in KINDS:
        rules = policy.rules(kind)
        checks = assess(rules.requirements, facts, book)
        status, award_id = _status(state, kind, rules.enabled)
        kinds.append(
            KindProgress(
                kind=kind,
                title=KIND_TITLES[kind],
                enabled=rules.enabled,
                eligible=rules.enabled and all(c.met for c in checks),
                requirements=checks,
                missing=[c.detail for c in checks if not c.met],
                status=status,
                award_id=award_id,
            )
        )
    return LeaderProgress(
        academic_year=year,
        student_number=student_number,
        name=facts.name,
        role=role_title(facts, titles),
        schemes=facts.schemes,
        policy_version=policy_version,
        sessions_delivered=len(delivered),
        session_hours=round(sum(d.hours for d in delivered), 2),
        training_completed=facts.training_completed,
        training_admin_hours=round(facts.training_admin_hours(), 2),
        mentor_meetings=facts.mentor_meetings(),
        stood_down_on=facts.stood_down_on,
        awards=kinds,
    )
