"""What every route needs: the documents' resources (settings, signing key, fonts), the
handler context, one retried transaction, and who may see what (coordinators see everyone; a
leader or student sees only their own)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recognition.certificates import Fonts
from passhub_recognition.credentials import Issuer
from passhub_recognition.domain.awards import RoleTitles
from passhub_recognition.handlers import Context, context
from passhub_recognition.jobs import Jobs
from passhub_recognition.settings import RecognitionSettings
from passhub_recognition.signing import IssuerKey
from passhub_shared.operations.service import Runtime
from passhub_shared.storage import retrying
from passhub_shared.web.app import RuntimeDep, command_metadata
from passhub_shared.web.auth import Principal
from passhub_shared.web.errors import Forbidden

T = TypeVar("T")

#: roles that may ask about their own recognition
SELF = ("leader", "student")
#: where the service keeps its `Recognition` in the runtime's state
STATE_KEY = "recognition"
#: where the service keeps its `Jobs` (the awards runs and certificate batches it works)
JOBS_KEY = "recognition-jobs"


@dataclass(frozen=True)
class Recognition:
    """What the routes need besides the kit's runtime: settings, the signing key, fonts. Made
    once when the service starts (`service.start`)."""

    settings: RecognitionSettings
    key: IssuerKey
    fonts: Fonts
    titles: RoleTitles

    @property
    def base_url(self) -> str:
        return self.settings.public_base_url.rstrip("/")

    @property
    def issuer(self) -> Issuer:
        return Issuer(self.key.did, self.settings.verifying_body, self.base_url)

    def verify_url(self, code: str) -> str:
        return f"{self.base_url}/verify/{code}"


async def get_recognition(runtime: RuntimeDep) -> Recognition:
    found: Recognition = runtime.state[STATE_KEY]
    return found


RecognitionDep = Annotated[Recognition, Depends(get_recognition)]


async def get_jobs(runtime: RuntimeDep) -> Jobs:
    found: Jobs = runtime.state[JOBS_KEY]
    return found


JobsDep = Annotated[Jobs, Depends(get_jobs)]


def role_titles(runtime: Runtime) -> RoleTitles:
    """What the institution calls a leader and an organiser (the kit's settings)."""
    return RoleTitles(runtime.settings.leader_title, runtime.settings.organiser_title)


def handler_context(runtime: Runtime, principal: Principal | None = None) -> Context:
    """The use cases' context for a request: now, on behalf of `principal`."""
    return context(runtime.store, role_titles(runtime), command_metadata(principal))


async def in_transaction(runtime: Runtime, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """`work` in one transaction, run again from the start when a concurrent writer got to a
    stream first (`retrying.on_conflict`)."""

    async def attempt() -> T:
        async with runtime.transaction() as conn:
            return await work(conn)

    return await retrying.on_conflict(attempt)


def ensure_may_see(principal: Principal, student_number: str) -> None:
    if principal.has("coordinator"):
        return
    if principal.has(*SELF) and principal.sub == student_number:
        return
    raise Forbidden("you may only see your own recognition")
