"""The service's long work, off the request: awards runs and certificate batches.

A route (or the command line) records a job as queued (`handlers.start_run`,
`handlers.start_certificate_batch`) and hands its id to `Jobs`, which works it in an asyncio
task of the service process, one transaction per step:

- an awards run decides `run_batch_size` leaders per transaction, under the year's advisory
  lock, and records how many it has decided in the same transaction, so what committed is
  never decided again;
- a certificate batch draws its pages on a worker thread, writes how many are drawn every
  half second, and keeps the finished PDF in its row.

Both survive a restart: on start (`resume`) every replica takes up the jobs left queued or
running. A run goes on from the last step that committed (two replicas on the same run take
turns, step by step, under the year's lock); a batch is drawn again from its first page.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recognition import handlers, queries
from passhub_recognition.certificates import Certificate, Fonts, render
from passhub_recognition.domain.awards import RoleTitles
from passhub_recognition.domain.documents import AwardView
from passhub_shared.messages.events import Metadata
from passhub_shared.operations.service import Runtime
from passhub_shared.storage import retrying

log = logging.getLogger("passhub.recognition.jobs")

T = TypeVar("T")

#: how often a batch writes how many pages it has drawn
PAGES_EVERY_SECONDS = 0.5


class Jobs:
    """The jobs this process works, one task each."""

    def __init__(
        self,
        runtime: Runtime,
        titles: RoleTitles,
        run_batch_size: int,
        fonts: Fonts | None = None,
        certificate: Callable[[AwardView], Certificate] | None = None,
    ) -> None:
        self.runtime = runtime
        self.titles = titles
        self.run_batch_size = max(run_batch_size, 1)
        self.fonts = fonts
        self.certificate = certificate
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def _ctx(self, actor: str | None = None) -> handlers.Context:
        return handlers.context(self.runtime.store, self.titles, Metadata(actor=actor))

    async def _transaction(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async def attempt() -> T:
            async with self.runtime.transaction() as conn:
                return await work(conn)

        return await retrying.on_conflict(attempt)

    def _spawn(self, job_id: str, work: Callable[[], Awaitable[object]]) -> None:
        if job_id in self._tasks and not self._tasks[job_id].done():
            return
        task = asyncio.create_task(self._guarded(job_id, work), name=f"recognition-job-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))

    async def _guarded(self, job_id: str, work: Callable[[], Awaitable[object]]) -> None:
        try:
            await work()
        except asyncio.CancelledError:
            # the process is stopping: the job stays under way, and the next start resumes it
            raise
        except Exception:
            log.exception("job %s failed", job_id)

    # --- awards runs ----------------------------------------------------------------------

    def work_run(self, run_id: str) -> None:
        """Work the run in a task of this process (returns at once)."""
        self._spawn(run_id, lambda: self.run_to_end(run_id))

    async def run_to_end(self, run_id: str) -> dict[str, Any]:
        """Advance the run step by step until it is done (or failed); its row then."""
        try:
            while True:
                run = await self._transaction(
                    lambda conn: handlers.advance_run(
                        conn, self._ctx(), run_id, self.run_batch_size
                    )
                )
                if run["state"] not in queries.UNDER_WAY:
                    return run
                await asyncio.sleep(0)  # let the requests waiting on the loop in
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            why = _why(exc)
            await self._transaction(lambda conn: handlers.fail_run(conn, self._ctx(), run_id, why))
            raise

    # --- certificate batches --------------------------------------------------------------

    def work_batch(self, batch_id: str) -> None:
        """Make the batch in a task of this process (returns at once)."""
        self._spawn(batch_id, lambda: self.batch_to_end(batch_id))

    async def batch_to_end(self, batch_id: str) -> None:
        assert self.fonts is not None and self.certificate is not None
        fonts, certificate = self.fonts, self.certificate
        try:
            views = await self._transaction(
                lambda conn: handlers.begin_certificate_batch(conn, self._ctx(), batch_id)
            )
            if views is None:
                return
            year = views[0].academic_year
            drawn = 0

            def page(n: int) -> None:
                nonlocal drawn
                drawn = n

            certs = [certificate(v) for v in views]
            making = asyncio.ensure_future(
                asyncio.to_thread(render, certs, fonts, f"Certificates {year}", page)
            )
            written = 0
            while not making.done():
                await asyncio.wait({making}, timeout=PAGES_EVERY_SECONDS)
                if drawn != written and not making.done():
                    written = drawn
                    await self._transaction(
                        partial(
                            handlers.certificate_batch_progress,
                            ctx=self._ctx(),
                            batch_id=batch_id,
                            pages_done=written,
                        )
                    )
            pdf = making.result()
            await self._transaction(
                lambda conn: handlers.finish_certificate_batch(conn, self._ctx(), batch_id, pdf)
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            why = _why(exc)
            await self._transaction(
                lambda conn: handlers.fail_certificate_batch(conn, self._ctx(), batch_id, why)
            )
            raise

    # --- on start -------------------------------------------------------------------------

    async def resume(self) -> tuple[list[str], list[str]]:
        """Take up the runs and batches left under way (by a process that stopped or died):
        the ids of each."""
        async with self.runtime.engine.connect() as conn:
            runs = await queries.runs_under_way(conn)
            batches = await queries.batches_under_way(conn)
        for run_id in runs:
            log.info("resuming awards run %s", run_id)
            self.work_run(run_id)
        if self.fonts is not None:
            for batch_id in batches:
                log.info("making certificate batch %s again", batch_id)
                self.work_batch(batch_id)
        return runs, batches

    async def settle(self) -> None:
        """Wait for the jobs this process works (tests and the command line)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
