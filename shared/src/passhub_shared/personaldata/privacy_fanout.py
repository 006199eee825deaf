"""One erasure, or one subject access export, across every service through their public
privacy routes (`POST /privacy/erasures`, `GET /privacy/subject-access/{number}`), with what
each service did.

This is what a data protection officer runs from anywhere with a coordinator's token: it needs
no database access (unlike `passhub erase`, which opens each service's database). The
services are called at once; one that does not answer is reported as not reached and the
others go ahead: an erasure is safe to repeat, so running it again once that service answers
completes it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx


@dataclass
class ServiceOutcome:
    """What one service answered: `done` with its report, or why not (`status` is the HTTP
    status, `None` when the service was not reached)."""

    service: str
    done: bool
    status: int | None
    seconds: float
    report: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _error_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    detail = body.get("detail", body) if isinstance(body, dict) else body
    return str(detail)[:500]


async def _call(
    service: str, client: httpx.AsyncClient, method: str, url: str, **kwargs: Any
) -> ServiceOutcome:
    started = time.perf_counter()
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        return ServiceOutcome(
            service, False, None, time.perf_counter() - started, error=f"not reached: {exc!r}"
        )
    seconds = time.perf_counter() - started
    if response.is_success:
        return ServiceOutcome(service, True, response.status_code, seconds, response.json())
    return ServiceOutcome(service, False, response.status_code, seconds, error=_error_of(response))


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def erase_everywhere(
    clients: Mapping[str, httpx.AsyncClient],
    token: str,
    student_numbers: Sequence[str],
    reason: str,
) -> list[ServiceOutcome]:
    """Erase the people from every service in `clients` (service name → a client whose base
    URL is that service); one outcome per service, in the order given."""
    body = {"student_numbers": list(student_numbers), "reason": reason}
    return list(
        await asyncio.gather(
            *(
                _call(name, client, "POST", "/privacy/erasures", json=body, headers=_auth(token))
                for name, client in clients.items()
            )
        )
    )


async def subject_access_everywhere(
    clients: Mapping[str, httpx.AsyncClient], token: str, student_number: str, reason: str
) -> tuple[dict[str, Any], list[ServiceOutcome]]:
    """Everything every service holds about the person, as one archive (the layout of
    `passhub subject-access`: a service not reached reads `status: "not reached ..."`), and the
    outcome per service."""
    path = "/privacy/subject-access/" + quote(student_number, safe="")
    outcomes = list(
        await asyncio.gather(
            *(
                _call(
                    name,
                    client,
                    "GET",
                    path,
                    params={"reason": reason},
                    headers=_auth(token),
                )
                for name, client in clients.items()
            )
        )
    )
    archive = {
        "student_number": student_number,
        "generated_at": datetime.now(UTC).isoformat(),
        "services": {
            o.service: o.report
            if o.done
            else {"status": f"not exported: {o.error}", "events": [], "tables": {}}
            for o in outcomes
        },
    }
    return archive, outcomes
