"""Use cases: load what a decision needs, decide, append, in the caller's transaction.

Every use case has the same signature, `async def verb(conn, ctx, ...)`: it runs inside the
transaction its caller (a route, the consumer's batch, the command line, an erasure) opened,
and never opens its own, so it can be called directly on a connection.

Every decision about a year's awards (the awards run, a re-check after a correction, a
withdrawal, an activity recorded or struck) first takes the year's advisory lock. So a
correction consumed while the run is deciding waits for the run, then sees its grants and
withdraws what no longer holds; and a run that starts after a correction was recorded sees the
correction.

A year's policy is one stream, decided through the kit's `decider.handle`. A leader's awards
are decided on more than their own stream: the facts come from the other services' events of
the year (`queries.load_year`), which no single stream holds, so the leader decider runs on
that fold and its events are appended at the version of the leader's stream (`_decide`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recognition import queries
from passhub_recognition.domain.awards import (
    Command,
    DecideAwards,
    NewAward,
    Recheck,
    RecordActivity,
    RoleTitles,
    StrikeActivity,
    WithdrawAward,
    leader_decider,
    leader_stream,
)
from passhub_recognition.domain.codes import ALPHABET, LENGTH, display
from passhub_recognition.domain.policy import KINDS, Policy, check_academic_year, default_policy
from passhub_recognition.domain.policy_stream import (
    PolicyState,
    SetPolicy,
    policy_decider,
    policy_stream,
)
from passhub_recognition.domain.progress import LeaderProgress, leader_progress
from passhub_recognition.queries import YearLog, load_year
from passhub_shared import locks
from passhub_shared.contracts.recognition import AwardGranted, AwardWithdrawn, AwardWithheld
from passhub_shared.decider import handle
from passhub_shared.errors import NotFound
from passhub_shared.events import Metadata, Recorded, new_event_id, utcnow
from passhub_shared.store import EventStore

#: the withdrawal reason of an erasure, which is all a verification of the code then says
ERASED = "personal data erased"


# --- fresh identities -----------------------------------------------------------------------


def new_id() -> str:
    return str(new_event_id())


def new_verification_code() -> str:
    """80 bits from the operating system's crypto RNG, e.g. `7KQ2-M9XD-A4TR-0HVZ`."""
    return display("".join(secrets.choice(ALPHABET) for _ in range(LENGTH)))


def fresh_award() -> NewAward:
    return NewAward(new_id(), new_verification_code())


# --- the context ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What every use case gets besides the connection. The service's own settings (the
    public address, the signing key, fonts) serve only the documents the routes make, so they
    are not here."""

    store: EventStore
    #: what the institution calls a leader and an organiser
    titles: RoleTitles
    now: datetime
    #: who asked, and the correlation id, for the events appended
    metadata: Metadata = field(default_factory=Metadata)
    #: the id and verification code of each award the awards run may grant
    new_award: Callable[[], NewAward] = fresh_award

    @property
    def today(self) -> date:
        return self.now.date()


def context(store: EventStore, titles: RoleTitles, metadata: Metadata | None = None) -> Context:
    """A context for now (the routes', the consumer's, the command line's)."""
    return Context(store=store, titles=titles, now=utcnow(), metadata=metadata or Metadata())


async def lock_year(conn: AsyncConnection, year: str) -> None:
    """Serialise decisions about `year`'s awards (held until the transaction ends)."""
    await locks.hold(conn, f"passhub-recognition-awards:{year}")


async def _decide(
    conn: AsyncConnection,
    ctx: Context,
    log: YearLog,
    student: str,
    command: Command,
    metadata: Metadata | None = None,
) -> list[Recorded]:
    """Decide `command` on the leader's state in `log` and append what it decides to the
    leader's stream (the caller holds the year's lock)."""
    decided = leader_decider.decide(command, log.state(student))
    if not decided:
        return []
    return await ctx.store.append(
        conn,
        leader_stream(log.year, await ctx.store.pseudonym(conn, student)),
        log.version(student),
        decided,
        metadata or ctx.metadata,
    )


# --- policy ---------------------------------------------------------------------------------


async def set_policy(conn: AsyncConnection, ctx: Context, year: str, policy: Policy) -> PolicyState:
    check_academic_year(year)
    handled = await handle(
        conn, ctx.store, policy_decider, policy_stream(year), SetPolicy(year, policy), ctx.metadata
    )
    return handled.state


async def adopted_policy(conn: AsyncConnection, ctx: Context, year: str) -> PolicyState:
    """The year's policy; when none was ever set, the defaults become its version 1, so every
    decision names a version that is in the log."""
    state = await queries.policy_state(conn, ctx.store, year)
    if state.policy is None:
        state = await set_policy(conn, ctx, year, default_policy())
    return state


async def current_policy(conn: AsyncConnection, ctx: Context, year: str) -> tuple[Policy, int]:
    """The year's policy and its version, without adopting anything: the defaults, as version
    0, while none is set."""
    check_academic_year(year)
    state = await queries.policy_state(conn, ctx.store, year)
    return state.policy or default_policy(), state.version


# --- the awards run -------------------------------------------------------------------------


@dataclass
class RunSummary:
    academic_year: str
    policy_version: int
    leaders: int = 0
    granted: int = 0
    withheld: int = 0
    unchanged: int = 0
    events: list[Recorded] = field(default_factory=list)


async def run_awards(conn: AsyncConnection, ctx: Context, year: str) -> RunSummary:
    """Decide every leader of `year` at once (one transaction)."""
    check_academic_year(year)
    await lock_year(conn, year)
    policy = await adopted_policy(conn, ctx, year)
    assert policy.policy is not None
    log = await load_year(conn, year, privacy=ctx.store.privacy)
    summary = RunSummary(year, policy.version)
    for student in log.leaders():
        summary.leaders += 1
        command = DecideAwards(
            academic_year=year,
            student_number=student,
            policy=policy.policy,
            policy_version=policy.version,
            titles=ctx.titles,
            new_awards={kind: ctx.new_award() for kind in KINDS},
            today=ctx.today,
        )
        recorded = await _decide(conn, ctx, log, student, command)
        if not recorded:
            summary.unchanged += 1
            continue
        summary.events.extend(recorded)
        summary.granted += sum(r.type == AwardGranted.type_name() for r in recorded)
        summary.withheld += sum(r.type == AwardWithheld.type_name() for r in recorded)
    return summary


# --- the run's preview ----------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewLine:
    """What the awards run would decide for one leader and one award kind, and why."""

    student_number: str
    name: str
    kind: str
    title: str
    #: "grant", "withhold", or "unchanged" (already granted, withdrawn, or withheld as before)
    outcome: str
    #: the kind's status now: granted, withheld, withdrawn, undecided
    status: str
    #: what is missing (withhold), or why nothing changes (unchanged)
    reasons: list[str]


@dataclass
class RunPreview:
    academic_year: str
    #: the policy version the run would apply (the defaults become version 1 when none is set)
    policy_version: int
    leaders: int = 0
    lines: list[PreviewLine] = field(default_factory=list)


async def preview_awards(conn: AsyncConnection, ctx: Context, year: str) -> RunPreview:
    """The awards run decided but not recorded: for every leader and enabled kind, granted,
    withheld (with what is missing) or unchanged (and why). Nothing is appended."""
    policy, version = await current_policy(conn, ctx, year)
    version = version or 1  # the defaults become version 1 when the run adopts them
    log = await load_year(conn, year, privacy=ctx.store.privacy)
    preview = RunPreview(year, version)
    for student in log.leaders():
        preview.leaders += 1
        leader = log.state(student)
        decided = leader_decider.decide(
            DecideAwards(
                academic_year=year,
                student_number=student,
                policy=policy,
                policy_version=version,
                titles=ctx.titles,
                new_awards={kind: NewAward("preview", "preview") for kind in KINDS},
                today=ctx.today,
            ),
            leader,
        )
        now = leader_progress(year, student, leader, policy, version, ctx.titles)
        for kind in now.awards:
            if not kind.enabled:
                continue
            granted = any(isinstance(e, AwardGranted) and e.kind == kind.kind for e in decided)
            withheld = next(
                (e for e in decided if isinstance(e, AwardWithheld) and e.kind == kind.kind), None
            )
            if granted:
                outcome, reasons = "grant", ["every requirement met"]
            elif withheld is not None:
                outcome, reasons = "withhold", list(withheld.unmet_detail)
            elif kind.status == "granted":
                outcome, reasons = "unchanged", ["already granted"]
            elif kind.status == "withdrawn":
                outcome, reasons = "unchanged", ["withdrawn this year: not granted again"]
            else:
                outcome, reasons = (
                    "unchanged",
                    ["withheld before, for the same reasons", *kind.missing],
                )
            preview.lines.append(
                PreviewLine(
                    student_number=student,
                    name=now.name,
                    kind=kind.kind,
                    title=kind.title,
                    outcome=outcome,
                    status=kind.status,
                    reasons=reasons,
                )
            )
    return preview


# --- one leader -----------------------------------------------------------------------------


async def decide_for_leader(
    conn: AsyncConnection,
    ctx: Context,
    year: str,
    student_number: str,
    command: Command,
    metadata: Metadata | None = None,
) -> list[Recorded]:
    """Decide `command` on the leader's stream, under the year's lock."""
    await lock_year(conn, year)
    log = await load_year(conn, year, [student_number], ctx.store.privacy)
    return await _decide(conn, ctx, log, student_number, command, metadata)


async def withdraw_award(conn: AsyncConnection, ctx: Context, award_id: str, reason: str) -> None:
    """Withdraw a standing award; the awards run will not grant its kind to the leader again
    that year."""
    year, student = await queries.award_owner(conn, award_id)
    await decide_for_leader(
        conn, ctx, year, student, WithdrawAward(year, student, award_id, reason)
    )


async def record_activity(conn: AsyncConnection, ctx: Context, command: RecordActivity) -> None:
    check_academic_year(command.academic_year)
    await decide_for_leader(conn, ctx, command.academic_year, command.student_number, command)


async def strike_activity(
    conn: AsyncConnection, ctx: Context, activity_id: str, reason: str
) -> list[str]:
    """Strike a wrongly recorded activity: the ids of the awards withdrawn because they no
    longer hold without it."""
    year, student = await queries.activity_owner(conn, activity_id)
    policies = await policies_of(conn, ctx, year)
    recorded = await decide_for_leader(
        conn, ctx, year, student, StrikeActivity(activity_id, year, student, reason, policies)
    )
    return [r.data["award_id"] for r in recorded if r.type == AwardWithdrawn.type_name()]


async def policies_of(conn: AsyncConnection, ctx: Context, year: str) -> Mapping[int, Policy]:
    return (await queries.policy_state(conn, ctx.store, year)).versions or {}


async def recheck(
    conn: AsyncConnection,
    ctx: Context,
    year: str,
    causes: Mapping[str, tuple[str, Recorded]],
) -> list[Recorded]:
    """After corrections: withdraw the awards of `causes`' leaders that no longer hold, and
    re-issue with the figures that hold now those that hold but state other figures.
    `causes` maps a student number to what changed (in words) and the event that changed it."""
    await lock_year(conn, year)
    affected = await queries.students_with_standing_awards(conn, year, list(causes))
    if not affected:
        return []
    policies = await policies_of(conn, ctx, year)
    log = await load_year(conn, year, sorted(affected), ctx.store.privacy)
    out: list[Recorded] = []
    for student in sorted(affected):
        cause, event = causes[student]
        out.extend(
            await _decide(
                conn,
                ctx,
                log,
                student,
                Recheck(year, student, policies, cause),
                Metadata().caused_by(event),
            )
        )
    return out


async def withdraw_awards_of(conn: AsyncConnection, ctx: Context, people: Sequence[str]) -> None:
    """An erasure's step here: the people's standing awards are withdrawn first, so that their
    verification codes answer "withdrawn" (a certificate must not stand for someone passhub no
    longer knows), and a later awards run does not grant them again."""
    for award_id, year, student in await queries.standing_awards_of(conn, people):
        await decide_for_leader(
            conn, ctx, year, student, WithdrawAward(year, student, award_id, ERASED)
        )


# --- progress -------------------------------------------------------------------------------


async def progress(
    conn: AsyncConnection, ctx: Context, year: str, student_number: str | None = None
) -> list[LeaderProgress]:
    """Live progress of every leader of `year` (or one), against the current policy (the
    defaults, as version 0, while none is set)."""
    policy, version = await current_policy(conn, ctx, year)
    students = None if student_number is None else [student_number]
    log = await load_year(conn, year, students, ctx.store.privacy)
    leaders = log.leaders()
    if student_number is not None and student_number not in leaders:
        raise NotFound(f"{student_number} is not an appointed leader in {year}")
    return [leader_progress(year, s, log.state(s), policy, version, ctx.titles) for s in leaders]
