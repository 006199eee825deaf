"""Use cases: each loads what the rules need, decides, and appends, inside the caller's
transaction (the route, the consumer's batch or the sign-in group commit opens it, and runs it
again on a conflict). One signature: `async def verb(conn, ctx, ...)`.

Each person's attendance at a session is a stream of its own, so sign-ins never wait for each
other; two sign-ins of the same person racing each other clash on the stream version, and the
loser is retried (and finds the attendance already there). Writers read their sessions
`FOR SHARE` (`queries.sessions_to_write`), which costs nothing between them, so that a
cancellation (whose update of the session row waits for them) sees every sign-in that committed
before it and no sign-in slips in after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_attendance import queries
from passhub_attendance.domain.attendance import (
    Attendance,
    Presence,
    Revoke,
    SignIn,
    attendance,
    stream_id,
)
from passhub_attendance.domain.attendance import Command as AttendanceCommand
from passhub_attendance.domain.feedback import (
    SubmitFeedback,
    decide_feedback,
    feedback_stream,
    guard_of,
    guard_stream,
)
from passhub_attendance.domain.imports import (
    ImportPlan,
    LineError,
    SheetLine,
    parse_sheet,
    plan_import,
    resolve_sessions,
)
from passhub_attendance.domain.model import SessionView
from passhub_attendance.settings import AttendanceSettings
from passhub_shared.contracts.attendance import Method
from passhub_shared.contracts.sessions import SessionCancelled
from passhub_shared.messages.events import Metadata, Recorded
from passhub_shared.storage.decider import Command, handle, handle_many
from passhub_shared.storage.store import Append, EventStore
from passhub_shared.web.errors import NotFound, Rejected
from passhub_shared.web.offload import off_loop


@dataclass(frozen=True)
class Context:
    """What every use case runs with: the store, the service's settings, the time, and on
    whose behalf (the command's metadata)."""

    store: EventStore
    settings: AttendanceSettings
    now: datetime
    metadata: Metadata


async def load_presence(
    conn: AsyncConnection, store: EventStore, session_id: str, student_number: str
) -> tuple[Presence, int]:
    key = stream_id(session_id, await store.pseudonym(conn, student_number))
    return (await load_presences(conn, store, [key]))[key]


async def load_presences(
    conn: AsyncConnection, store: EventStore, stream_ids: Iterable[str], people: Iterable[str] = ()
) -> dict[str, tuple[Presence, int]]:
    """Each attendance stream's presence and version, in one query (with the keys of `people`,
    whom the events about to be appended name)."""
    histories = await store.load_many(conn, stream_ids, people=people)
    return {
        key: (attendance.fold(e.decode() for e in history), len(history))
        for key, history in histories.items()
    }


# -- sign-in -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInOutcome:
    attendance: Attendance
    created: bool
    session: SessionView


@dataclass(frozen=True)
class SignInRequest:
    """One sign-in as the rules need it. `authorise` checks the caller against the session (it
    raises `Forbidden`)."""

    session_id: str
    student_number: str
    method: Method
    now: datetime
    metadata: Metadata
    at: datetime | None = None
    as_leader: bool = False
    authorise: Callable[[SessionView], None] | None = None
    reason: str = ""


async def sign_in_many(
    conn: AsyncConnection, ctx: Context, requests: Sequence[SignInRequest]
) -> list[SignInOutcome | Rejected]:
    """Decide every request against its session and its attendance stream, and append what was
    decided, in a fixed number of statements however many requests there are. A request the
    rules refuse gets its `Rejected` and changes nothing; the others go on. Requests for the
    same person and session are decided in order, the later seeing the earlier. Each request
    carries its own time and metadata (a batch gathers the requests of several callers)."""
    settings = ctx.settings
    sessions = await queries.sessions_to_write(conn, (r.session_id for r in requests))
    # a person's stream is named by their key id, never their student number: the same
    # lookup then serves the append (one query for the batch's keys)
    names = await ctx.store.pseudonyms(conn, {r.student_number for r in requests})
    keys = [stream_id(r.session_id, names[r.student_number]) for r in requests]
    people = {r.student_number for r in requests}
    people.update(r.metadata.actor for r in requests if r.metadata.actor)
    commands: list[Command[AttendanceCommand]] = [
        Command(
            key,
            _command(request, sessions.get(request.session_id), settings),
            request.metadata,
            _authorise(request, sessions.get(request.session_id)),
        )
        for request, key in zip(requests, keys, strict=True)
    ]
    handled = await handle_many(conn, ctx.store, attendance, commands, people=people)
    outcomes: list[SignInOutcome | Rejected] = []
    for request, outcome in zip(requests, handled, strict=True):
        if isinstance(outcome, Rejected):
            outcomes.append(outcome)
            continue
        assert outcome.state.attendance is not None
        session = sessions[request.session_id]
        assert session is not None
        outcomes.append(SignInOutcome(outcome.state.attendance, bool(outcome), session))
    return outcomes


def _authorise(request: SignInRequest, session: SessionView | None) -> Callable[[], None]:
    """The check before a sign-in is decided: its session is scheduled, and the caller may
    sign in to it."""

    def check() -> None:
        if session is None:
            raise NotFound(f"no session {request.session_id!r} is scheduled")
        if request.authorise is not None:
            request.authorise(session)

    return check


def _command(
    request: SignInRequest, session: SessionView | None, settings: AttendanceSettings
) -> SignIn:
    return SignIn(
        session_id=request.session_id,
        session=session,
        student_number=request.student_number,
        method=request.method,
        at=request.at or request.now,
        now=request.now,
        window=settings.window,
        as_leader=request.as_leader,
        tz=settings.tz,
        reason=request.reason,
    )


# -- corrections -------------------------------------------------------------------------------


async def revoke(
    conn: AsyncConnection,
    ctx: Context,
    session_id: str,
    student_number: str,
    reason: str,
    authorise: Callable[[SessionView | None], None],
) -> Recorded:
    """Revoke an attendance, with a reason; `authorise` sees its session (None: not scheduled)
    first."""
    session = (await queries.sessions_to_write(conn, [session_id]))[session_id]
    name = await ctx.store.pseudonym(conn, student_number)
    metadata = ctx.metadata
    recorded = await handle(
        conn,
        ctx.store,
        attendance,
        stream_id(session_id, name),
        Revoke(session_id, student_number, reason),
        metadata,
        authorise=lambda: authorise(session),
        people=[student_number, *([metadata.actor] if metadata.actor else [])],
    )
    return recorded[0]


async def revoke_cancelled(conn: AsyncConnection, ctx: Context, cause: Recorded) -> None:
    """A session cancelled (`cause`) after people signed in was not delivered: its attendances
    are revoked, as events caused by the cancellation, in one load and one append."""
    cancelled = cause.as_(SessionCancelled)
    present = await queries.signed_in(conn, cancelled.session_id)
    if not present:
        return
    names = await ctx.store.pseudonyms(conn, set(present))
    metadata = Metadata().caused_by(cause)
    reason = f"session cancelled: {cancelled.reason}"
    commands: list[Command[AttendanceCommand]] = [
        Command(
            stream_id(cancelled.session_id, names[student_number]),
            Revoke(cancelled.session_id, student_number, reason),
            metadata,
        )
        for student_number in present
    ]
    for outcome in await handle_many(conn, ctx.store, attendance, commands, people=present):
        if isinstance(outcome, Rejected):
            raise outcome


# -- feedback ----------------------------------------------------------------------------------


async def submit_feedback(conn: AsyncConnection, ctx: Context, command: SubmitFeedback) -> str:
    """Returns the feedback id. An anonymous one is appended with no actor in its metadata.
    The same student sending it twice at once: the other one takes the guard, and this one,
    run again, finds it taken."""
    settings = ctx.settings
    guard = guard_of(settings.feedback_guard_key, command.session_id, command.student_number)
    command = replace(command, guard=guard)
    metadata = replace(ctx.metadata, actor=None) if command.anonymous else ctx.metadata
    presence, _ = await load_presence(conn, ctx.store, command.session_id, command.student_number)
    # a guard taken under a key from before the last rotation still counts
    guards = await ctx.store.load_many(conn, _guard_streams(settings, command))
    taken = any(guards.values())
    decision = decide_feedback(command, presence, taken)
    await ctx.store.append(conn, guard_stream(guard), 0, [decision.guard], metadata)
    await ctx.store.append(
        conn, feedback_stream(command.feedback_id), 0, [decision.feedback], metadata
    )
    return command.feedback_id


def _guard_streams(settings: AttendanceSettings, command: SubmitFeedback) -> list[str]:
    keys = (settings.feedback_guard_key, *settings.feedback_guard_previous_keys)
    return [guard_stream(guard_of(k, command.session_id, command.student_number)) for k in keys]


# -- paper sheets ------------------------------------------------------------------------------


class ImportRejected(Rejected):
    """A sheet with errors; `errors` lists them by line."""

    def __init__(self, errors: list[LineError]) -> None:
        super().__init__(
            f"the sheet has {len(errors)} error(s); nothing was imported",
            code="import_rejected",
            details=[{"line": e.line, "column": e.column, "message": e.message} for e in errors],
        )
        self.errors = errors


async def read_sheet(settings: AttendanceSettings, sheet: str) -> list[SheetLine]:
    """The sheet's lines, or `ImportRejected` with every error of every line's own cells. On a
    worker thread: a long sheet takes a while to read, and sign-ins go on meanwhile. Outside
    any transaction: it reads nothing."""
    lines, errors = await off_loop(parse_sheet, sheet, settings.tz, settings.student_number_pattern)
    if errors:
        raise ImportRejected(errors)
    return lines


async def import_sheet(
    conn: AsyncConnection,
    ctx: Context,
    lines: Sequence[SheetLine],
    *,
    authorise: Callable[[Iterable[SessionView | None]], None] = lambda _: None,
    dry_run: bool = False,
) -> ImportPlan:
    """All lines or none: any error rejects the whole sheet (`ImportRejected`), listing every
    error of its sessions and the rules at once. `authorise` sees the sheet's sessions before
    anything is written. With `dry_run`, the plan is made and nothing appended (the caller
    rolls back what reading it wrote: the pseudonyms of new people)."""
    settings = ctx.settings
    tz = settings.tz
    references = {r for r in (line.reference for line in lines) if r is not None}
    candidates = await queries.sessions_named(conn, references, tz)
    ids = {line.session_id for line in lines if line.session_id}
    sessions = await queries.sessions_to_write(conn, ids | set(candidates))
    authorise(sessions.values())
    resolved = resolve_sessions(
        lines, [s for s in (sessions[c] for c in candidates) if s is not None], tz
    )
    keys = sorted(
        {
            (line.session_id, line.student_number)
            for line in resolved
            if line.session_id and not line.problems
        }
    )
    names = await ctx.store.pseudonyms(conn, {k[1] for k in keys})

    def stream_of(key: tuple[str, str]) -> str:
        return stream_id(key[0], names[key[1]])

    presences = await load_presences(conn, ctx.store, map(stream_of, keys))
    states: dict[tuple[str, str], Presence] = {}
    versions: dict[tuple[str, str], int] = {}
    for key in keys:
        states[key], versions[key] = presences[stream_of(key)]
    plan = plan_import(resolved, sessions, states, ctx.now, settings.window, tz)
    if plan.errors:
        raise ImportRejected(plan.errors)
    if not dry_run:
        await ctx.store.append_many(
            conn,
            [
                Append(stream_of(key), versions[key], decided, ctx.metadata)
                for key, decided in plan.events.items()
            ],
        )
    return plan
