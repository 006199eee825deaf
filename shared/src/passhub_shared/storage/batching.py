"""Group commit: requests that arrive while a batch is being written go together in the next.

A use case that runs one transaction per request pays the same round trips to PostgreSQL for
every request. Under a burst (a room full of students signing in at once) most of a request's
cost is those round trips, not its work. `GroupCommit` queues requests while a batch is being
written, and the next batch takes all of them (up to `max_batch`), so a burst costs one
transaction per batch instead of one per request. A lone request waits for nothing: it is a
batch of one.

`write` decides every request of a batch and returns one outcome per request, in order: a
value, or an exception for that request alone (a `Rejected`, say), which its caller receives.
If `write` raises instead, the batch failed as a whole (the database lost, a conflict that
outlasted its retries) and its requests are written again one at a time, so no request pays
for another's trouble.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from passhub_shared.operations import metrics

Req = TypeVar("Req")
Out = TypeVar("Out")

#: writes a batch; one outcome (a value, or that request's exception) per request, in order
Write = Callable[[list[Req]], Awaitable[Sequence[Out | Exception]]]


class GroupCommit(Generic[Req, Out]):
    def __init__(
        self,
        write: Write[Req, Out],
        *,
        max_batch: int = 200,
        key: Callable[[Req], object] | None = None,
        name: str = "",
    ) -> None:
        """`key`, when given, keeps requests whose keys differ (`!=`) out of the same batch
        (e.g. requests made under different settings). `name` labels the batch-size histogram
        `passhub_group_commit_batch_size`."""
        self.write = write
        self._sizes = metrics.GROUP_COMMIT_BATCH.labels(name or "unnamed")
        self.max_batch = max_batch
        self.key = key
        self._queue: deque[tuple[Req, asyncio.Future[Out]]] = deque()
        self._task: asyncio.Task[None] | None = None
        #: the most requests written in one batch so far (for tests and operators)
        self.largest_batch = 0

    async def submit(self, request: Req) -> Out:
        future: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        self._queue.append((request, future))
        if self._task is None or self._task.done():
            # a context of its own: the batch belongs to no one request (log correlation ids)
            self._task = asyncio.create_task(
                self._drain(), name="group-commit", context=contextvars.Context()
            )
        return await future

    async def _drain(self) -> None:
        while self._queue:
            first = self._queue[0][0]
            key = self.key(first) if self.key is not None else None
            batch: list[tuple[Req, asyncio.Future[Out]]] = []
            while self._queue and len(batch) < self.max_batch:
                request, future = self._queue[0]
                if self.key is not None and self.key(request) != key:
                    break
                self._queue.popleft()
                if not future.done():  # its caller has gone away
                    batch.append((request, future))
            if batch:
                self.largest_batch = max(self.largest_batch, len(batch))
                self._sizes.observe(len(batch))
                await self._write(batch)

    async def _write(self, batch: list[tuple[Req, asyncio.Future[Out]]]) -> None:
        try:
            try:
                outcomes = await self.write([request for request, _ in batch])
            except Exception:
                if len(batch) == 1:
                    raise
                for item in batch:
                    await self._write([item])
                return
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
        except BaseException:  # cancelled (shutting down): the callers are told so
            for _, future in batch:
                future.cancel()
            raise
