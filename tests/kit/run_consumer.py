"""Run the toy consumer as its own process (for kill and SIGTERM tests).

Settings come from the environment (PASSHUB_DATABASE_URL, PASSHUB_NATS_URL, ...). On SIGTERM
it stops gracefully and exits 0. It runs on the event loop a service runs on (uvloop).
"""

from __future__ import annotations

import asyncio
import signal

from passhub_shared.operations import loop
from passhub_shared.operations.service import Runtime
from passhub_shared.operations.settings import Settings
from tests.kit import toy


async def main() -> None:
    runtime = Runtime(toy.consumer, Settings())
    await runtime.start(relay=False)
    print("consumer started", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runtime.stop()
    print("consumer stopped", flush=True)


if __name__ == "__main__":
    loop.run(main())
