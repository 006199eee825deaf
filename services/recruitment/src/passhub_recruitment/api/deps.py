"""What the routes share: role sets, the handler context, the transaction a command runs in,
and the caller's scope (their own data; an organiser's schemes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recruitment import queries
from passhub_recruitment.handlers import Context
from passhub_recruitment.settings import RecruitmentSettings, recruitment_settings
from passhub_shared.messages.events import utcnow
from passhub_shared.operations.service import Runtime
from passhub_shared.storage.retrying import on_conflict
from passhub_shared.web.app import command_metadata
from passhub_shared.web.auth import Principal
from passhub_shared.web.errors import Forbidden, NotFound

T = TypeVar("T")

STAFF = ("coordinator", "organiser")
APPLICANTS = ("student", "leader")
ANYONE = ("coordinator", "organiser", "leader", "student", "academic", "integration")
LEADER_READERS = ("coordinator", "organiser", "leader", "academic", "integration")


def settings() -> RecruitmentSettings:
    return recruitment_settings()


def context(runtime: Runtime, principal: Principal) -> Context:
    return Context(
        store=runtime.store,
        settings=settings(),
        now=utcnow(),
        metadata=command_metadata(principal),
    )


async def run(
    runtime: Runtime,
    principal: Principal,
    use_case: Callable[[AsyncConnection, Context], Awaitable[T]],
) -> T:
    """Run a use case in a transaction of its own, run again from the start when a concurrent
    writer got to one of its streams first (`passhub_shared.storage.retrying.on_conflict`)."""
    ctx = context(runtime, principal)

    async def attempt() -> T:
        async with runtime.transaction() as conn:
            return await use_case(conn, ctx)

    return await on_conflict(attempt)


def own_only(principal: Principal) -> str | None:
    """None for staff (they see everyone's); otherwise the student number they are limited to."""
    return None if principal.has(*STAFF) else principal.sub


def ensure_own(principal: Principal, student_number: str, what: str) -> None:
    """Students see their own data only; another's is reported as not found (so a student
    cannot even learn whether it exists)."""
    limit = own_only(principal)
    if limit is not None and limit != student_number:
        raise NotFound(f"no {what}")


def require_self(student_number: str, sub: str) -> None:
    if student_number != sub:
        raise Forbidden("students apply only as themselves (student number = your login)")


async def organiser_scope(conn: AsyncConnection, principal: Principal) -> frozenset[str] | None:
    """The schemes whose applicants the caller sees: None for every scheme (a coordinator),
    else those they organise (named on the scheme, or appointed its student organiser)."""
    if principal.has("coordinator"):
        return None
    return await queries.organised_by(conn, principal.sub, settings().today())


def ensure_organises(scope: frozenset[str] | None, scheme_id: str | None) -> None:
    """A scheme named by an organiser must be one of theirs (403 otherwise)."""
    if scope is not None and scheme_id is not None and scheme_id not in scope:
        raise Forbidden(f"{scheme_id} is not a scheme you organise")


async def ensure_may_see_application(
    conn: AsyncConnection, principal: Principal, application_id: str
) -> None:
    """Their own application for anyone; another's for a coordinator, or an organiser when
    it is to one of their schemes (403 otherwise); for a student or leader another's is not
    found (404)."""
    owner = await queries.application_owner(conn, application_id)
    if owner == principal.sub or principal.has("coordinator"):
        return
    if principal.has("organiser"):
        scope = await organiser_scope(conn, principal)
        if owner is None or scope is None:
            return  # not found: the read says so
        if not scope & await queries.application_schemes(conn, application_id):
            raise Forbidden(f"application {application_id!r} is not to a scheme you organise")
        return
    ensure_own(principal, owner or "", f"application {application_id!r}")
