"""Keep child processes running: a child that exits is started again after a back-off delay.

``passhub dev up`` supervises the services, NATS and PostgreSQL with it: one crashed service
does not take the others down, and only Ctrl-C stops everything. The delay doubles after each
crash that follows a short run (1 s, 2 s, 4 s ... up to 30 s) and falls back to the first delay
once a child has stayed up for a minute. Every crash and restart is logged.

Pure logic over a clock and children that say whether they have exited and can be started; the
caller calls :meth:`Supervisor.check` in its own loop.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Backoff", "Child", "Supervisor", "describe_exit"]


class Child(Protocol):
    """Something the supervisor keeps running."""

    @property
    def name(self) -> str: ...

    def stopped(self) -> str | None:
        """None while it runs; once it has stopped, how (e.g. "exit code 1")."""
        ...

    def start(self) -> None:
        """Start it again (may raise: the start is then retried after the next delay)."""
        ...


@dataclass(frozen=True)
class Backoff:
    first: float = 1.0
    factor: float = 2.0
    longest: float = 30.0
    #: a child that ran this long before it stopped is restarted after `first` again
    stable_after: float = 60.0

    def next(self, previous: float | None, ran_for: float) -> float:
        if previous is None or ran_for >= self.stable_after:
            return self.first
        return min(previous * self.factor, self.longest)


@dataclass
class _Watch:
    child: Child
    started_at: float
    delay: float | None = None
    restart_at: float | None = None
    restarts: int = 0


class Supervisor:
    def __init__(
        self,
        children: Sequence[Child],
        log: Callable[[str], None],
        backoff: Backoff = Backoff(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = log
        self._backoff = backoff
        self._clock = clock
        now = clock()
        self._watches = [_Watch(child, started_at=now) for child in children]

    def restarts(self, name: str) -> int:
        """How many times the child called `name` has been started again."""
        return sum(w.restarts for w in self._watches if w.child.name == name)

    def check(self) -> None:
        """One round: note children that stopped, and start those whose delay is over."""
        for watch in self._watches:
            now = self._clock()
            if watch.restart_at is None:
                how = watch.child.stopped()
                if how is None:
                    continue
                watch.delay = self._backoff.next(watch.delay, now - watch.started_at)
                watch.restart_at = now + watch.delay
                self._log(
                    f"{watch.child.name} stopped ({how}) after "
                    f"{now - watch.started_at:.0f} s; starting it again in {watch.delay:g} s"
                )
            elif now >= watch.restart_at:
                self._restart(watch, now)

    def _restart(self, watch: _Watch, now: float) -> None:
        watch.restarts += 1
        watch.started_at = now
        watch.restart_at = None
        try:
            watch.child.start()
        except Exception as error:
            assert watch.delay is not None
            watch.delay = self._backoff.next(watch.delay, 0.0)
            watch.restart_at = now + watch.delay
            self._log(
                f"could not start {watch.child.name} ({error}); trying again in {watch.delay:g} s"
            )
            return
        self._log(f"{watch.child.name} started again (restart {watch.restarts})")


def describe_exit(code: int) -> str:
    """A process's exit status in words: "exit code 1", "killed by SIGKILL"."""
    if code >= 0:
        return f"exit code {code}"
    try:
        return f"killed by {signal.Signals(-code).name}"
    except ValueError:
        return f"killed by signal {-code}"
