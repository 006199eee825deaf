"""Heavy work kept off the event loop, so one large upload does not freeze a service.

Reading a 50 MB CSV takes seconds of CPU. Done in a route, it held the event loop the whole
time and every other request (a sign-in, `/healthz`) waited for it. `off_loop` runs it on a
worker thread instead; the event loop keeps answering, taking the interpreter's lock back
every few milliseconds.

Three things would still stall it. A single call into C holds the interpreter's lock for its
whole length (decoding 35 MB at once took a tenth of a second): `csvsafe.csv_records` decodes
as it reads. The cyclic garbage collector runs on whichever thread allocates when its
thresholds are reached, and with the hundreds of thousands of containers a large file
becomes, one pass took 100 to 180 ms: `collector_paused` pauses it for the whole import
(reference counting still frees everything that is not a cycle). And writing the result
takes CPU on the loop too: importers append it a few events per statement, in one
transaction, so the loop is free between the parts.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar, TypeVarTuple, Unpack

import anyio.to_thread

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

#: how long the worker thread may hold the interpreter's lock while the event loop waits for
#: it: CPython's default, 5 ms, would be paid at each turn of the loop that a request takes
SWITCH_INTERVAL = 0.0005

#: pauses under way (all begun and ended on the event loop's thread), and what to restore
#: when the last one ends
_pauses = 0
_collector_was_enabled = False
_switch_interval = 0.005


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector paused, and the worker threads made to hand the interpreter's lock
    back sooner, while heavy work goes on; as they were when the last such block ends.

    Wrap the whole of the work, up to where its large objects are released: the collector
    examines every container allocated while it was paused at its first pass after, and
    those already freed are no longer there to examine."""
    global _pauses, _collector_was_enabled, _switch_interval
    if _pauses == 0:
        _collector_was_enabled = gc.isenabled()
        _switch_interval = sys.getswitchinterval()
        gc.disable()
        sys.setswitchinterval(min(_switch_interval, SWITCH_INTERVAL))
    _pauses += 1
    try:
        yield
    finally:
        _pauses -= 1
        if _pauses == 0:
            sys.setswitchinterval(_switch_interval)
            if _collector_was_enabled:
                gc.enable()


async def off_loop(function: Callable[[Unpack[Ts]], T], *args: *Ts) -> T:
    """`function(*args)` on a worker thread, within `collector_paused`."""
    with collector_paused():
        return await anyio.to_thread.run_sync(function, *args)


async def release(box: list[Any]) -> None:
    """Drop what `box` holds on a worker thread: freeing the hundreds of thousands of objects
    a large file became took the interpreter a tenth of a second. `box` must hold the only
    references (`del` the caller's other names for them first)."""
    await anyio.to_thread.run_sync(box.clear)
