"""Run the toy publisher's relay as its own process (for kill -9 tests).

Settings come from the environment (PASSHUB_DATABASE_URL, PASSHUB_NATS_URL,
PASSHUB_RELAY_BATCH_SIZE, ...). It prints a line once it holds the relay's lock, and runs until
it is killed. It runs on the event loop a service runs on (uvloop).
"""

from __future__ import annotations

import asyncio

from passhub_shared.messaging.relay import OutboxRelay
from passhub_shared.operations import loop
from passhub_shared.operations.settings import Settings
from tests.kit import toy


async def main() -> None:
    settings = Settings()
    relay = OutboxRelay(
        toy.publisher.name,
        settings.database_url,
        settings.nats_url,
        batch_size=settings.relay_batch_size,
        poll_seconds=settings.relay_poll_seconds,
    )
    task = asyncio.create_task(relay.run())
    while not relay.is_leader:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    print("relay publishing", flush=True)
    await task


if __name__ == "__main__":
    loop.run(main())
