"""A leader's year (stream `leader-<year>-<key id>`): activities recorded here, and the
award decisions.

The state folds the other services' events about the leader (and the year's sessions) together
with this stream's own events, so a test reads as given/when/then over plain events. Live, the
application layer folds the year's sessions once and each leader's events on top.

Decisions:
- `DecideAwards` (the awards run): for each enabled kind, grant when every requirement of the
  current policy is met, else withhold naming what is missing. A kind already granted (and
  not withdrawn) is left alone, and a withholding identical to the last one is not repeated,
  so running twice issues nothing twice.
- `Recheck` (a correction arrived): every standing award is checked again against the policy
  version it was granted under; one that no longer holds is withdrawn with the reason, and one
  that still holds but whose figures changed (sessions delivered, hours, schemes, dates; e.g. a
  HEAR entry whose requirement is lower than the certificate's) is re-issued with the figures
  that hold now (`AwardRevised`, with the reason), so what it states stays true.
- `WithdrawAward`: a coordinator withdraws an award (e.g. a breach of the scheme's rules); the
  awards run then does not grant that kind to the leader again that year.
- `RecordActivity` / `StrikeActivity`: mentor meetings and admin hours; striking one can break
  a standing award, which is then withdrawn in the same decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from passhub_recognition.domain.events import ActivityKind, ActivityRecorded, ActivityStruck
from passhub_recognition.domain.facts import Activity, LeaderFacts, SessionBook
from passhub_recognition.domain.policy import KINDS, Policy, check_academic_year
from passhub_recognition.domain.requirements import Check, assess, hours_text, unmet
from passhub_shared.contracts.recognition import (
    AwardGranted,
    AwardKind,
    AwardRevised,
    AwardWithdrawn,
    AwardWithheld,
)
from passhub_shared.messages.events import Event
from passhub_shared.storage.decider import Decider
from passhub_shared.web.errors import Conflict, NotFound, Rejected


def leader_stream(year: str, person: str) -> str:
    """A leader's year; `person` is their pseudonym (their key id in the event store), never
    their student number: stream ids are not sealed."""
    return f"leader-{year}-{person}"


@dataclass(frozen=True)
class Figures:
    """What an award states about the leader's year."""

    schemes: tuple[str, ...]
    sessions_delivered: int
    hours: float
    activity_start: date | None
    activity_end: date | None

    def text(self) -> str:
        sessions = "session" if self.sessions_delivered == 1 else "sessions"
        return f"{self.sessions_delivered} {sessions} ({hours_text(self.hours)} hours)"


@dataclass
class AwardRecord:
    award_id: str
    kind: AwardKind
    policy_version: int
    figures: Figures
    withdrawn: bool = False


@dataclass
class LeaderState:
    book: SessionBook = field(default_factory=SessionBook)
    facts: LeaderFacts = field(default_factory=LeaderFacts)
    awards: dict[str, AwardRecord] = field(default_factory=dict)
    #: kind -> (policy version, unmet details) of the last withholding
    withheld: dict[str, tuple[int, tuple[str, ...]]] = field(default_factory=dict)
    #: kinds a coordinator withdrew: not granted again this year
    barred: set[str] = field(default_factory=set)

    def standing(self, kind: AwardKind) -> AwardRecord | None:
        for award in self.awards.values():
            if award.kind == kind and not award.withdrawn:
                return award
        return None

    def standing_awards(self) -> list[AwardRecord]:
        return [a for a in self.awards.values() if not a.withdrawn]


# --- commands -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleTitles:
    """The institution's vocabulary (settings.leader_title, settings.organiser_title)."""

    leader: str = "PASS Leader"
    organiser: str = "Student Organiser"


@dataclass(frozen=True)
class NewAward:
    """Identity of an award, should one be granted: made by the caller (uuid, crypto RNG)."""

    award_id: str
    verification_code: str


@dataclass(frozen=True)
class DecideAwards:
    academic_year: str
    student_number: str
    policy: Policy
    policy_version: int
    titles: RoleTitles
    new_awards: Mapping[AwardKind, NewAward]
    today: date


@dataclass(frozen=True)
class Recheck:
    academic_year: str
    student_number: str
    #: every version of the year's policy, by number
    policies: Mapping[int, Policy]
    #: what changed, in words (starts the withdrawal reason)
    cause: str


@dataclass(frozen=True)
class WithdrawAward:
    academic_year: str
    student_number: str
    award_id: str
    reason: str


@dataclass(frozen=True)
class RecordActivity:
    activity_id: str
    academic_year: str
    student_number: str
    kind: ActivityKind
    held_on: date
    hours: float
    note: str = ""


@dataclass(frozen=True)
class StrikeActivity:
    activity_id: str
    academic_year: str
    student_number: str
    reason: str
    policies: Mapping[int, Policy]


Command = DecideAwards | Recheck | WithdrawAward | RecordActivity | StrikeActivity


# --- deciding -------------------------------------------------------------------------------


def role_title(facts: LeaderFacts, titles: RoleTitles) -> str:
    if "leader" in facts.roles or not facts.roles:
        return titles.leader
    return titles.organiser


def figures(facts: LeaderFacts, book: SessionBook, no_sessions_end: date | None) -> Figures:
    """The figures an award states, from the facts as they are; `no_sessions_end` is the end
    date when no session was delivered."""
    delivered = facts.delivered(book)
    session_days = [d.starts_at.date() for d in delivered if d.starts_at is not None]
    starts = [d for d in [facts.appointed_on, *session_days[:1]] if d is not None]
    return Figures(
        schemes=tuple(sorted(set(facts.schemes) | {d.scheme_id for d in delivered})),
        sessions_delivered=len(delivered),
        hours=round(sum(d.hours for d in delivered), 2),
        activity_start=min(starts) if starts else None,
        activity_end=max(session_days) if session_days else no_sessions_end,
    )


def _grant(command: DecideAwards, state: LeaderState, kind: AwardKind) -> AwardGranted:
    now = figures(state.facts, state.book, command.today)
    new = command.new_awards[kind]
    return AwardGranted(
        award_id=new.award_id,
        kind=kind,
        student_number=command.student_number,
        academic_year=command.academic_year,
        role=role_title(state.facts, command.titles),
        schemes=list(now.schemes),
        sessions_delivered=now.sessions_delivered,
        hours=now.hours,
        policy_version=command.policy_version,
        verification_code=new.verification_code,
        activity_start=now.activity_start,
        activity_end=now.activity_end,
    )


def _decide_awards(command: DecideAwards, state: LeaderState) -> list[Event]:
    if not state.facts.appointed:
        raise Rejected(
            f"{command.student_number} is not an appointed leader in {command.academic_year}",
            code="not_a_leader",
        )
    decided: list[Event] = []
    for kind in KINDS:
        rules = command.policy.rules(kind)
        if not rules.enabled or kind in state.barred or state.standing(kind) is not None:
            continue
        missing = unmet(assess(rules.requirements, state.facts, state.book))
        if not missing:
            if kind not in command.new_awards:
                raise ValueError(f"no award id and code were supplied for {kind}")
            decided.append(_grant(command, state, kind))
            continue
        details = tuple(c.detail for c in missing)
        if state.withheld.get(kind) == (command.policy_version, details):
            continue
        decided.append(
            AwardWithheld(
                kind=kind,
                student_number=command.student_number,
                academic_year=command.academic_year,
                unmet=[c.code for c in missing],
                policy_version=command.policy_version,
                unmet_detail=list(details),
            )
        )
    return decided


def _withdrawals(
    state: LeaderState,
    facts: LeaderFacts,
    policies: Mapping[int, Policy],
    cause: str,
    year: str,
    student_number: str,
) -> list[Event]:
    """Each standing award checked again: withdrawn when it no longer holds, re-issued with
    the figures that hold now when it holds but they changed."""
    out: list[Event] = []
    for award in state.standing_awards():
        policy = policies.get(award.policy_version)
        if policy is None:
            raise ValueError(f"policy version {award.policy_version} of {year} is unknown")
        missing: list[Check] = unmet(
            assess(policy.rules(award.kind).requirements, facts, state.book)
        )
        if missing:
            out.append(
                AwardWithdrawn(
                    award_id=award.award_id,
                    kind=award.kind,
                    student_number=student_number,
                    academic_year=year,
                    reason=f"{cause}: " + "; ".join(c.detail for c in missing),
                )
            )
            continue
        was = award.figures
        now = figures(facts, state.book, was.activity_end)
        if now != was:
            change = now.text() if now.text() != was.text() else "schemes or dates changed"
            out.append(
                AwardRevised(
                    award_id=award.award_id,
                    kind=award.kind,
                    student_number=student_number,
                    academic_year=year,
                    schemes=list(now.schemes),
                    sessions_delivered=now.sessions_delivered,
                    hours=now.hours,
                    activity_start=now.activity_start,
                    activity_end=now.activity_end,
                    reason=f"{cause}: {change}, was {was.text()}",
                )
            )
    return out


def _record_activity(command: RecordActivity, state: LeaderState) -> list[Event]:
    check_academic_year(command.academic_year)
    if not state.facts.appointed:
        raise Rejected(
            f"{command.student_number} is not an appointed leader in {command.academic_year}",
            code="not_a_leader",
        )
    if command.activity_id in state.facts.activities:
        raise Conflict(f"activity {command.activity_id} is already recorded")
    if not 0 <= command.hours <= 24:
        raise Rejected("hours must be between 0 and 24 for one activity")
    return [
        ActivityRecorded(
            activity_id=command.activity_id,
            academic_year=command.academic_year,
            student_number=command.student_number,
            kind=command.kind,
            held_on=command.held_on,
            hours=command.hours,
            note=command.note,
        )
    ]


def _strike_activity(command: StrikeActivity, state: LeaderState) -> list[Event]:
    activity = state.facts.activities.get(command.activity_id)
    if activity is None:
        raise NotFound(f"no activity {command.activity_id} for {command.student_number}")
    if activity.struck:
        raise Conflict(f"activity {command.activity_id} is already struck")
    if not command.reason.strip():
        raise Rejected("a reason is required")
    struck = ActivityStruck(
        activity_id=command.activity_id,
        academic_year=command.academic_year,
        student_number=command.student_number,
        reason=command.reason.strip(),
    )
    after = replace(
        state.facts,
        activities={**state.facts.activities, activity.activity_id: _struck(activity)},
    )
    cause = f"{activity.kind.replace('_', ' ')} of {activity.held_on.isoformat()} struck"
    return [
        struck,
        *_withdrawals(
            state,
            after,
            command.policies,
            f"{cause} ({command.reason.strip()})",
            command.academic_year,
            command.student_number,
        ),
    ]


def _struck(activity: Activity) -> Activity:
    return replace(activity, struck=True)


def decide(command: Command, state: LeaderState) -> Sequence[Event]:
    if isinstance(command, DecideAwards):
        return _decide_awards(command, state)
    if isinstance(command, Recheck):
        return _withdrawals(
            state,
            state.facts,
            command.policies,
            command.cause,
            command.academic_year,
            command.student_number,
        )
    if isinstance(command, WithdrawAward):
        award = state.awards.get(command.award_id)
        if award is None:
            raise NotFound(f"no award {command.award_id}")
        if award.withdrawn:
            raise Conflict(f"award {command.award_id} is already withdrawn")
        if not command.reason.strip():
            raise Rejected("a reason is required")
        return [
            AwardWithdrawn(
                award_id=award.award_id,
                kind=award.kind,
                student_number=command.student_number,
                academic_year=command.academic_year,
                reason=command.reason.strip(),
                by_coordinator=True,
            )
        ]
    if isinstance(command, RecordActivity):
        return _record_activity(command, state)
    return _strike_activity(command, state)


def evolve(state: LeaderState, event: Event) -> LeaderState:
    if state.book.apply(event) or state.facts.apply(event):
        return state
    if isinstance(event, AwardGranted):
        state.awards[event.award_id] = AwardRecord(
            event.award_id,
            event.kind,
            event.policy_version,
            Figures(
                tuple(event.schemes),
                event.sessions_delivered,
                event.hours,
                event.activity_start,
                event.activity_end,
            ),
        )
        state.withheld.pop(event.kind, None)
    elif isinstance(event, AwardRevised):
        revised = state.awards.get(event.award_id)
        if revised is not None:
            revised.figures = Figures(
                tuple(event.schemes),
                event.sessions_delivered,
                event.hours,
                event.activity_start,
                event.activity_end,
            )
    elif isinstance(event, AwardWithheld):
        state.withheld[event.kind] = (event.policy_version, tuple(event.unmet_detail))
    elif isinstance(event, AwardWithdrawn):
        award = state.awards.get(event.award_id)
        if award is not None:
            award.withdrawn = True
        if event.by_coordinator:
            state.barred.add(event.kind)
    return state


leader_decider = Decider[Command, LeaderState](initial=LeaderState, decide=decide, evolve=evolve)
