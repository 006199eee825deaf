"""The command line and benchmarks run on the event loop uvicorn serves the services on."""

from __future__ import annotations

import asyncio

import uvloop

from passhub_shared.operations import loop


def test_runs_a_coroutine_on_uvloop_and_returns_its_result() -> None:
    async def which() -> type[asyncio.AbstractEventLoop]:
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop())

    assert loop.run(which()) is uvloop.Loop
    assert loop.name() == "uvloop"


def test_an_exception_comes_out_and_the_loop_is_closed() -> None:
    seen: list[asyncio.AbstractEventLoop] = []

    async def fails() -> None:
        seen.append(asyncio.get_running_loop())
        raise ValueError("no")

    try:
        loop.run(fails())
    except ValueError as exc:
        assert str(exc) == "no"
    else:
        raise AssertionError("the exception was swallowed")
    assert seen[0].is_closed()
