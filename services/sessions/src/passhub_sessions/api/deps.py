"""What every route needs: the handler context, and the per-scheme permission checks that
roles alone cannot express (an organiser runs only their own schemes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_sessions import queries
from passhub_sessions.handlers import Context
from passhub_sessions.settings import now, sessions_settings
from passhub_shared.operations.service import Runtime
from passhub_shared.storage.retrying import on_conflict
from passhub_shared.web.app import command_metadata
from passhub_shared.web.auth import Principal
from passhub_shared.web.errors import Forbidden

T = TypeVar("T")

#: roles that may read sessions and feeds of schemes
READERS = ("coordinator", "organiser", "leader", "student", "academic", "integration")
#: roles that may see who leads what
STAFF = ("coordinator", "organiser", "leader", "integration")


class Preview(Exception):  # a way out of the transaction, not an error
    """Raised inside a transaction to roll back what a dry run did, carrying its answer: the
    same handlers and checks run, and nothing is saved."""

    def __init__(self, result: Any) -> None:
        super().__init__("preview")
        self.result = result


async def in_transaction(runtime: Runtime, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """`work` in one transaction, the whole of it run again after a `ConcurrencyConflict`
    (another request appended to the same stream first): the way every command route writes."""

    async def attempt() -> T:
        async with runtime.transaction() as conn:
            return await work(conn)

    return await on_conflict(attempt)


def context(runtime: Runtime, principal: Principal) -> Context:
    return Context(
        store=runtime.store,
        settings=sessions_settings(runtime),
        now=now(runtime),
        metadata=command_metadata(principal),
        leader_title=runtime.settings.leader_title,
    )


def localise(moment: datetime, runtime: Runtime) -> datetime:
    """A time given without an offset is the institution's local time."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=sessions_settings(runtime).tz)
    return moment


async def ensure_organises(
    conn: AsyncConnection, runtime: Runtime, principal: Principal, scheme: queries.Row
) -> None:
    if principal.has("coordinator"):
        return
    if principal.has("organiser") and await queries.organises(conn, scheme, principal.sub):
        return
    raise Forbidden(
        f"only a coordinator or a {runtime.settings.organiser_title} of "
        f"{scheme['scheme_id']} may do this"
    )


async def organised_scheme(
    conn: AsyncConnection, runtime: Runtime, principal: Principal, scheme_id: str
) -> queries.Row:
    """The scheme, once the caller is found to run it (`ensure_organises`)."""
    scheme = await queries.require_scheme(conn, scheme_id)
    await ensure_organises(conn, runtime, principal, scheme)
    return scheme


async def ensure_speaks_for(
    conn: AsyncConnection,
    runtime: Runtime,
    principal: Principal,
    student_number: str,
    academic_year: str | None = None,
) -> None:
    """The leader themself, an organiser of one of their schemes, or a coordinator."""
    if principal.has("coordinator"):
        return
    if principal.sub == student_number and principal.has("leader", "organiser"):
        return
    if principal.has("organiser"):
        for scheme_id in await queries.schemes_of_leader(conn, student_number, academic_year):
            scheme = await queries.get_scheme(conn, scheme_id)
            if scheme is not None and await queries.organises(conn, scheme, principal.sub):
                return
    raise Forbidden(
        f"only {student_number}, a {runtime.settings.organiser_title} of their scheme, "
        "or a coordinator may do this"
    )
