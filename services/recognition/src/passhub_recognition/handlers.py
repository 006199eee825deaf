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
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recognition import queries, tables
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
from passhub_recognition.domain.documents import AwardView
from passhub_recognition.domain.policy import KINDS, Policy, check_academic_year, default_policy
from passhub_recognition.domain.policy_stream import (
    PolicyState,
    SetPolicy,
    policy_decider,
    policy_stream,
)
from passhub_recognition.domain.progress import LeaderProgress, leader_progress
from passhub_recognition.queries import YearLog, load_year
from passhub_shared.contracts.recognition import AwardGranted, AwardWithdrawn, AwardWithheld
from passhub_shared.messages.events import Metadata, Recorded, new_event_id, utcnow
from passhub_shared.storage import locks
from passhub_shared.storage.decider import handle
from passhub_shared.storage.store import EventStore
from passhub_shared.web.errors import NotFound, Rejected

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
    await _decide_leaders(conn, ctx, log, log.leaders(), policy.policy, summary)
    return summary


async def _decide_leaders(
    conn: AsyncConnection,
    ctx: Context,
    log: YearLog,
    students: Sequence[str],
    policy: Policy,
    summary: RunSummary,
) -> None:
    """Decide `students`' awards under `policy` (version `summary.policy_version`), counting
    what was decided in `summary` (the caller holds the year's lock)."""
    for student in students:
        summary.leaders += 1
        command = DecideAwards(
            academic_year=log.year,
            student_number=student,
            policy=policy,
            policy_version=summary.policy_version,
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


# --- the awards run and the certificate batch as jobs ---------------------------------------
#
# A job is a row (`tables.award_runs`, `tables.certificate_batches`) that the route or the
# command line records as queued, and that the service's worker (`jobs.py`) then advances one
# step per transaction. Every step re-reads the row under the year's lock, so a step that
# committed is never done again, a step that did not commit is done again from where the row
# says, and two workers on the same run (a replica that resumed it on start while another still
# works it) take turns instead of deciding anyone twice.


class UnderWay(Rejected):
    """A job of the same kind is under way for the year: its id is in `job_id` (and in the
    error body's `errors`)."""

    status_code = 409

    def __init__(self, what: str, job_id: str) -> None:
        super().__init__(f"{what} is already under way", code="under_way", details=[{"id": job_id}])
        self.job_id = job_id


async def _lock_jobs(conn: AsyncConnection, kind: str, year: str) -> None:
    """Serialise the start of `kind` jobs for `year` (so the second waits, then sees the
    first)."""
    await locks.hold(conn, f"passhub-recognition-{kind}:{year}")


def run_summary(run: Mapping[str, Any]) -> RunSummary:
    """What a run decided so far (all of it, once done), as the one-transaction run says it."""
    return RunSummary(
        academic_year=run["academic_year"],
        policy_version=run["policy_version"] or 0,
        leaders=run["leaders_done"],
        granted=run["granted"],
        withheld=run["withheld"],
        unchanged=run["unchanged"],
    )


async def start_run(conn: AsyncConnection, ctx: Context, year: str) -> str:
    """Record a queued awards run of `year`, and its id; `UnderWay` while one is queued or
    running for the year."""
    check_academic_year(year)
    await _lock_jobs(conn, "runs", year)
    running = await queries.run_under_way(conn, year)
    if running is not None:
        raise UnderWay(f"an awards run of {year}", running)
    run_id = new_id()
    await conn.execute(
        insert(tables.award_runs).values(
            run_id=run_id,
            academic_year=year,
            state=queries.QUEUED,
            requested_by=ctx.metadata.actor,
            requested_at=ctx.now,
            leaders_total=0,
            leaders_done=0,
            granted=0,
            withheld=0,
            unchanged=0,
        )
    )
    return run_id


async def advance_run(
    conn: AsyncConnection, ctx: Context, run_id: str, size: int
) -> dict[str, Any]:
    """One step of a run: decide its next `size` leaders under the year's lock, and record
    how far it is. The first step adopts the year's policy and fixes which leaders the run
    decides (those appointed by then); the last one marks it done. The run's row after."""
    year = (await queries.award_run(conn, run_id))["academic_year"]
    await lock_year(conn, year)
    run = await queries.award_run(conn, run_id, lock=True)
    if run["state"] not in queries.UNDER_WAY:
        return run
    # every event of the run is correlated by the run's id, on behalf of who started it
    ctx = replace(ctx, metadata=Metadata(correlation_id=run_id, actor=run["requested_by"]))
    if run["leaders"] is None:
        adopted = await adopted_policy(conn, ctx, year)
        leaders = (await load_year(conn, year, privacy=ctx.store.privacy)).leaders()
        run.update(
            state=queries.RUNNING,
            started_at=ctx.now,
            policy_version=adopted.version,
            leaders=leaders,
            leaders_total=len(leaders),
        )
    policy = (await policies_of(conn, ctx, year))[run["policy_version"]]
    done = run["leaders_done"]
    todo = list(run["leaders"][done : done + max(size, 1)])
    step = RunSummary(year, run["policy_version"])
    if todo:
        log = await load_year(conn, year, todo, ctx.store.privacy)
        await _decide_leaders(conn, ctx, log, todo, policy, step)
    run.update(
        leaders_done=done + len(todo),
        granted=run["granted"] + step.granted,
        withheld=run["withheld"] + step.withheld,
        unchanged=run["unchanged"] + step.unchanged,
    )
    if run["leaders_done"] >= run["leaders_total"]:
        # done: the student numbers are not kept beyond the run
        run.update(state=queries.DONE, finished_at=ctx.now, leaders=[])
    await conn.execute(
        update(tables.award_runs)
        .where(tables.award_runs.c.run_id == run_id)
        .values({k: v for k, v in run.items() if k != "run_id"})
    )
    return run


async def fail_run(conn: AsyncConnection, ctx: Context, run_id: str, error: str) -> None:
    """Mark a run failed, with why; the leaders it decided stay decided (a new run goes on
    from there, as any run does)."""
    await conn.execute(
        update(tables.award_runs)
        .where(
            tables.award_runs.c.run_id == run_id,
            tables.award_runs.c.state.in_(queries.UNDER_WAY),
        )
        .values(state=queries.FAILED, finished_at=ctx.now, error=error[:1000], leaders=[])
    )


async def start_certificate_batch(conn: AsyncConnection, ctx: Context, year: str) -> str:
    """Record a queued batch of `year`'s standing certificates, and its id; `NotFound` when
    none stands, `UnderWay` while a batch of the year is queued or being made."""
    check_academic_year(year)
    await _lock_jobs(conn, "certificates", year)
    making = await queries.batch_under_way(conn, year)
    if making is not None:
        raise UnderWay(f"a certificate batch of {year}", making)
    standing = await queries.awards_of_year(conn, year, ["certificate"], "granted")
    if not standing:
        raise NotFound(f"no certificates stand for {year}")
    batch_id = new_id()
    await conn.execute(
        insert(tables.certificate_batches).values(
            batch_id=batch_id,
            academic_year=year,
            state=queries.QUEUED,
            requested_by=ctx.metadata.actor,
            requested_at=ctx.now,
            pages_total=len(standing),
            pages_done=0,
        )
    )
    return batch_id


async def begin_certificate_batch(
    conn: AsyncConnection, ctx: Context, batch_id: str
) -> list[AwardView] | None:
    """Start (or start again, after a restart) making a batch: the certificates standing now,
    in name order, one page each; None when the batch is no longer under way (or when no
    certificate stands any more, and it has failed)."""
    b = tables.certificate_batches
    batch = await queries.certificate_batch(conn, batch_id)
    if batch["state"] not in queries.UNDER_WAY:
        return None
    # after the decisions about the year in flight (a run's step, a correction): the batch
    # shows what they decided
    await lock_year(conn, batch["academic_year"])
    views = await queries.awards_of_year(conn, batch["academic_year"], ["certificate"], "granted")
    if not views:
        await fail_certificate_batch(
            conn, ctx, batch_id, f"no certificates stand for {batch['academic_year']}"
        )
        return None
    await conn.execute(
        update(b)
        .where(b.c.batch_id == batch_id)
        .values(state=queries.RUNNING, started_at=ctx.now, pages_total=len(views), pages_done=0)
    )
    return views


async def certificate_batch_progress(
    conn: AsyncConnection, ctx: Context, batch_id: str, pages_done: int
) -> None:
    b = tables.certificate_batches
    await conn.execute(
        update(b)
        .where(b.c.batch_id == batch_id, b.c.state == queries.RUNNING)
        .values(pages_done=pages_done)
    )


async def finish_certificate_batch(
    conn: AsyncConnection, ctx: Context, batch_id: str, pdf: bytes
) -> None:
    b = tables.certificate_batches
    await conn.execute(
        update(b)
        .where(b.c.batch_id == batch_id, b.c.state.in_(queries.UNDER_WAY))
        .values(state=queries.DONE, finished_at=ctx.now, pages_done=b.c.pages_total, pdf=pdf)
    )


async def fail_certificate_batch(
    conn: AsyncConnection, ctx: Context, batch_id: str, error: str
) -> None:
    b = tables.certificate_batches
    await conn.execute(
        update(b)
        .where(b.c.batch_id == batch_id, b.c.state.in_(queries.UNDER_WAY))
        .values(state=queries.FAILED, finished_at=ctx.now, error=error[:1000])
    )


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
