"""Running a transaction again when a concurrent writer got to its stream first.

Optimistic concurrency makes the second of two writers to a stream fail with
`ConcurrencyConflict`; its transaction has rolled back, so running the whole of it again (load,
decide, append) is safe, and it then decides against what the first one wrote. This is the
kit's one retry loop (tenacity's): commands, consumers and imports all use it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random

from passhub_shared.storage.store import ConcurrencyConflict

T = TypeVar("T")

#: tries in all, the first included; the last conflict reaches the caller (a 409 over HTTP)
ATTEMPTS = 5


async def on_conflict(attempt: Callable[[], Awaitable[T]], *, attempts: int = ATTEMPTS) -> T:
    """`await attempt()` (one whole transaction), again after a `ConcurrencyConflict`, up to
    `attempts` times in all. The retries wait a few random milliseconds, so that writers that
    clashed do not clash again in step."""
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(ConcurrencyConflict),
        stop=stop_after_attempt(attempts),
        wait=wait_random(0, 0.005),
        reraise=True,
    )
    return await retrying(attempt)
