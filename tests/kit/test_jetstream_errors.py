"""A publish JetStream refuses completes with the error at once (the relay's JetStream context),
instead of leaving the relay waiting for its publish timeout as nats-py's own does."""

from __future__ import annotations

import asyncio

import nats
import pytest
from nats.js.api import StreamConfig
from nats.js.errors import BadRequestError

from passhub_shared.messaging.relay import jetstream


async def test_a_refused_asynchronous_publish_fails_its_future(nats_url: str) -> None:
    nc = await nats.connect(nats_url)
    try:
        js = jetstream(nc)
        await js.add_stream(StreamConfig(name="REFUSALS", subjects=["refusals.>"]))
        stored = await js.publish_async("refusals.a", b"1")
        refused = await js.publish_async(
            "refusals.a", b"2", headers={"Nats-Expected-Last-Sequence": "7"}
        )
        assert (await asyncio.wait_for(stored, 2)).seq == 1
        with pytest.raises(BadRequestError, match="wrong last sequence"):
            await asyncio.wait_for(refused, 2)
    finally:
        await nc.close()
