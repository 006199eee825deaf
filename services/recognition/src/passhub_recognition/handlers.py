"""Application services: load what a decision needs, decide, append, in the caller's
transaction.

Every decision about a year's awards (the awards run, a re-check after a correction, a
withdrawal, an activity struck) first takes the year's advisory lock. So a correction consumed
while the run is deciding waits for the run, then sees its grants and withdraws what no longer
holds; and a run that starts after a correction was recorded sees the correction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recognition import tables
from passhub_recognition.domain.awards import (
    Command,
    DecideAwards,
    NewAward,
    Recheck,
    RoleTitles,
    leader_decider,
    leader_stream,
)
from passhub_recognition.domain.policy import KINDS, Policy, check_academic_year, default_policy
from passhub_recognition.domain.policy_stream import (
    PolicyState,
    SetPolicy,
    policy_decider,
    policy_stream,
)
from passhub_recognition.domain.progress import LeaderProgress, leader_progress
from passhub_recognition.queries import load_year, policy_state, students_with_standing_awards
from passhub_shared import locks
from passhub_shared.contracts.recognition import AwardGranted, AwardWithheld
from passhub_shared.decider import handle
from passhub_shared.errors import NotFound
from passhub_shared.events import Metadata, Recorded
from passhub_shared.store import EventStore


async def lock_year(conn: AsyncConnection, year: str) -> None:
    """Serialise decisions about `year`'s awards (held until the transaction ends)."""
    await locks.hold(conn, f"passhub-recognition-awards:{year}")


# --- policy ---------------------------------------------------------------------------------


async def set_policy(
    conn: AsyncConnection, store: EventStore, year: str, policy: Policy, metadata: Metadata
) -> PolicyState:
    check_academic_year(year)
    handled = await handle(
        conn, store, policy_decider, policy_stream(year), SetPolicy(year, policy), metadata
    )
    return handled.state


async def adopted_policy(
    conn: AsyncConnection, store: EventStore, year: str, metadata: Metadata
) -> PolicyState:
    """The year's policy; when none was ever set, the defaults become its version 1, so every
    decision names a version that is in the log."""
    state = await policy_state(conn, store, year)
    if state.policy is None:
        state = await set_policy(conn, store, year, default_policy(), metadata)
    return state


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


async def run_awards(
    conn: AsyncConnection,
    store: EventStore,
    year: str,
    titles: RoleTitles,
    today: date,
    new_award: Callable[[], NewAward],
    metadata: Metadata,
) -> RunSummary:
    """Decide every leader of `year` at once (one transaction)."""
    check_academic_year(year)
    await lock_year(conn, year)
    policy = await adopted_policy(conn, store, year, metadata)
    assert policy.policy is not None
    log = await load_year(conn, year, privacy=store.privacy)
    summary = RunSummary(year, policy.version)
    for student in log.leaders():
        summary.leaders += 1
        command = DecideAwards(
            academic_year=year,
            student_number=student,
            policy=policy.policy,
            policy_version=policy.version,
            titles=titles,
            new_awards={kind: new_award() for kind in KINDS},
            today=today,
        )
        decided = leader_decider.decide(command, log.state(student))
        if not decided:
            summary.unchanged += 1
            continue
        recorded = await store.append(
            conn,
            leader_stream(year, await store.pseudonym(conn, student)),
            log.version(student),
            decided,
            metadata,
        )
        summary.events.extend(recorded)
        summary.granted += sum(isinstance(e, AwardGranted) for e in decided)
        summary.withheld += sum(isinstance(e, AwardWithheld) for e in decided)
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


async def preview_awards(
    conn: AsyncConnection, store: EventStore, year: str, titles: RoleTitles, today: date
) -> RunPreview:
    """The awards run decided but not recorded: for every leader and enabled kind, granted,
    withheld (with what is missing) or unchanged (and why). Nothing is appended."""
    check_academic_year(year)
    state = await policy_state(conn, store, year)
    policy = state.policy or default_policy()
    version = state.version if state.policy is not None else 1
    log = await load_year(conn, year, privacy=store.privacy)
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
                titles=titles,
                new_awards={kind: NewAward("preview", "preview") for kind in KINDS},
                today=today,
            ),
            leader,
        )
        now = leader_progress(year, student, leader, policy, version, titles)
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
    store: EventStore,
    year: str,
    student_number: str,
    command: Command,
    metadata: Metadata,
) -> list[Recorded]:
    """Decide `command` on the leader's stream, under the year's lock."""
    await lock_year(conn, year)
    log = await load_year(conn, year, [student_number], store.privacy)
    decided = leader_decider.decide(command, log.state(student_number))
    return await store.append(
        conn,
        leader_stream(year, await store.pseudonym(conn, student_number)),
        log.version(student_number),
        decided,
        metadata,
    )


async def policies_of(conn: AsyncConnection, store: EventStore, year: str) -> Mapping[int, Policy]:
    return (await policy_state(conn, store, year)).versions or {}


async def recheck(
    conn: AsyncConnection,
    store: EventStore,
    year: str,
    causes: Mapping[str, tuple[str, Recorded]],
) -> list[Recorded]:
    """After corrections: withdraw the awards of `causes`' leaders that no longer hold, and
    re-issue with the figures that hold now those that hold but state other figures.
    `causes` maps a student number to what changed (in words) and the event that changed it."""
    await lock_year(conn, year)
    affected = await students_with_standing_awards(conn, year, list(causes))
    if not affected:
        return []
    policies = await policies_of(conn, store, year)
    log = await load_year(conn, year, sorted(affected), store.privacy)
    out: list[Recorded] = []
    for student in sorted(affected):
        cause, event = causes[student]
        decided = leader_decider.decide(Recheck(year, student, policies, cause), log.state(student))
        out.extend(
            await store.append(
                conn,
                leader_stream(year, await store.pseudonym(conn, student)),
                log.version(student),
                decided,
                Metadata().caused_by(event),
            )
        )
    return out


# --- progress -------------------------------------------------------------------------------


async def progress(
    conn: AsyncConnection,
    store: EventStore,
    year: str,
    titles: RoleTitles,
    student_number: str | None = None,
) -> list[LeaderProgress]:
    """Live progress of every leader of `year` (or one), against the current policy (the
    defaults, as version 0, while none is set)."""
    check_academic_year(year)
    state = await policy_state(conn, store, year)
    policy = state.policy or default_policy()
    students = None if student_number is None else [student_number]
    log = await load_year(conn, year, students, store.privacy)
    leaders = log.leaders()
    if student_number is not None and student_number not in leaders:
        raise NotFound(f"{student_number} is not an appointed leader in {year}")
    return [leader_progress(year, s, log.state(s), policy, state.version, titles) for s in leaders]


# --- lookups for commands addressed by id ---------------------------------------------------


async def award_owner(conn: AsyncConnection, award_id: str) -> tuple[str, str]:
    t = tables.awards
    row = (
        await conn.execute(
            select(t.c.academic_year, t.c.student_number).where(t.c.award_id == award_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"no award {award_id}")
    return str(row.academic_year), str(row.student_number)


async def activity_owner(conn: AsyncConnection, activity_id: str) -> tuple[str, str]:
    t = tables.activities
    row = (
        await conn.execute(
            select(t.c.academic_year, t.c.student_number).where(t.c.activity_id == activity_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"no activity {activity_id}")
    return str(row.academic_year), str(row.student_number)
