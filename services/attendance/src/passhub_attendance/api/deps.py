"""What the routes share: the service's settings, the clock, who is asking (with the schemes an
organiser runs), the handler Context, the transaction a command runs in, and the group commit
that writes sign-ins arriving together in one transaction."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, TypeVar
from urllib.parse import quote

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_attendance import handlers, queries
from passhub_attendance.domain.model import Actor, SessionView
from passhub_attendance.domain.qr import QrCodes
from passhub_attendance.handlers import Context, SignInOutcome, SignInRequest
from passhub_attendance.settings import AttendanceSettings
from passhub_shared.messages.events import Metadata
from passhub_shared.operations.service import Runtime
from passhub_shared.storage.batching import GroupCommit
from passhub_shared.storage.retrying import on_conflict
from passhub_shared.web.app import command_metadata, runtime_of
from passhub_shared.web.auth import Principal
from passhub_shared.web.errors import NotFound, Rejected

T = TypeVar("T")

_SETTINGS_KEY = "attendance_settings"

#: every role: the reads open to anyone signed in
ANY_ROLE = ("coordinator", "organiser", "leader", "student", "academic", "integration")


async def attendance_settings(request: Request) -> AttendanceSettings:
    """Loaded once per runtime; tests may replace `runtime.state["attendance_settings"]`."""
    state = runtime_of(request).state
    if _SETTINGS_KEY not in state:
        state[_SETTINGS_KEY] = AttendanceSettings()
    settings: AttendanceSettings = state[_SETTINGS_KEY]
    return settings


SettingsDep = Annotated[AttendanceSettings, Depends(attendance_settings)]


def now() -> datetime:
    return datetime.now(UTC)


def actor(principal: Principal) -> Actor:
    return Actor(principal.sub, principal.roles)


def student_number_of(settings: AttendanceSettings, value: str) -> str:
    """A typed or card-read student number, trimmed and checked."""
    number = value.strip()
    if not re.fullmatch(settings.student_number_pattern, number):
        raise Rejected(f"{number!r} is not a student number", code="invalid_student_number")
    return number


def context(
    runtime: Runtime, settings: AttendanceSettings, metadata: Metadata, at: datetime | None = None
) -> Context:
    return Context(store=runtime.store, settings=settings, now=at or now(), metadata=metadata)


def context_of(runtime: Runtime, settings: AttendanceSettings, principal: Principal) -> Context:
    """The Context of a command `principal` sends now."""
    return context(runtime, settings, command_metadata(principal))


async def in_transaction(
    runtime: Runtime, use_case: Callable[[AsyncConnection], Awaitable[T]]
) -> T:
    """Run `use_case` in a transaction of its own, run again from the start when a concurrent
    writer got to one of its streams first (`ConcurrencyConflict`)."""

    async def attempt() -> T:
        async with runtime.transaction() as conn:
            return await use_case(conn)

    return await on_conflict(attempt)


async def scoped(runtime: Runtime, principal: Principal) -> Actor:
    """The caller, with the schemes they organise when they are an organiser (and not a
    coordinator, who runs every scheme)."""
    who = actor(principal)
    if not who.has("organiser") or who.has("coordinator"):
        return who
    async with runtime.engine.connect() as conn:
        organises = await queries.schemes_organised(conn, who.sub)
    return Actor(who.sub, who.roles, organises)


async def session_of(runtime: Runtime, session_id: str) -> SessionView:
    """The scheduled session, or `NotFound`."""
    async with runtime.engine.connect() as conn:
        session = await queries.session_view(conn, session_id)
    if session is None:
        raise NotFound(f"no session {session_id!r} is scheduled")
    return session


def qr_codes(settings: AttendanceSettings) -> QrCodes:
    return QrCodes(
        settings.qr_secret,
        timedelta(seconds=settings.qr_validity_seconds),
        timedelta(seconds=settings.qr_grace_seconds),
    )


def sign_in_url(request: Request, settings: AttendanceSettings, code: str) -> str:
    """The portal's sign-in page for the code (`PASSHUB_ATTENDANCE_PUBLIC_URL` is the
    portal's address)."""
    base = settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")
    return f"{base}/s/{quote(code, safe='')}"


# -- sign-ins, written together ----------------------------------------------------------------

SignInBatcher = GroupCommit[tuple[AttendanceSettings, SignInRequest], SignInOutcome]


async def write_sign_ins(
    runtime: Runtime, settings: AttendanceSettings, requests: list[SignInRequest]
) -> list[SignInOutcome | Rejected]:
    """One batch of sign-ins: `handlers.sign_in_many` in one transaction, run again on a
    conflict."""

    async def decide(conn: AsyncConnection) -> list[SignInOutcome | Rejected]:
        ctx = context(runtime, settings, Metadata())
        return await handlers.sign_in_many(conn, ctx, requests)

    return await in_transaction(runtime, decide)


def batcher_of(runtime: Runtime) -> SignInBatcher:
    """The runtime's group commit for sign-ins. When a session starts, a room's worth of students
    sign in within a minute; one transaction each would cost eight round trips apiece. Sign-ins
    arriving together are decided together, one transaction per batch (`write_sign_ins`)."""
    batcher = runtime.state.get("sign_in_batcher")
    if batcher is None:

        async def write(
            batch: list[tuple[AttendanceSettings, SignInRequest]],
        ) -> list[SignInOutcome | Rejected]:
            return await write_sign_ins(runtime, batch[0][0], [request for _, request in batch])

        batcher = runtime.state["sign_in_batcher"] = SignInBatcher(
            write, key=lambda item: item[0], name="attendance_sign_in"
        )
    assert isinstance(batcher, GroupCommit)
    return batcher


async def sign_in(
    runtime: Runtime, settings: AttendanceSettings, request: SignInRequest
) -> SignInOutcome:
    """Sign one person in; signing in again returns the existing attendance with
    `created=False`. Sign-ins arriving together are written together (`batcher_of`)."""
    return await batcher_of(runtime).submit((settings, request))
