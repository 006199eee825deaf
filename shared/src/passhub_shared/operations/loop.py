"""Running a coroutine on the event loop the services run on.

uvicorn serves the services on uvloop (a libuv event loop written in C) whenever it is
installed, which it is wherever passhub is. The command line and the benchmarks start their
loops here, so that a replay, a retry of dead letters or a benchmark runs on the same loop as
the service it stands for. On a platform without uvloop this is `asyncio.run`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - platforms without uvloop
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on uvloop where it is available."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(main)


def name() -> str:
    """The event loop these runs use, for benchmark reports."""
    return "uvloop" if _loop_factory() is not None else "asyncio"
