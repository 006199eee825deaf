"""An outside system with nothing but nats-py can read passhub's events from the stream start."""

from __future__ import annotations

import json

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from passhub_shared.operations.service import Runtime
from passhub_shared.storage.decider import handle
from tests.kit import toy
from tests.support import wait_for


async def test_a_plain_nats_client_receives_and_parses_a_cloudevent(
    publisher: Runtime, nats_url: str
) -> None:
    async with publisher.transaction() as conn:
        [event] = await handle(conn, publisher.store, toy.counter, "c-9", toy.Increment("c-9", 4))

    # From here on: no passhub code, as in an integrator's system.
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()

        async def published() -> bool:
            return (await js.stream_info("PASSHUB_KITTEST")).state.messages == 1

        await wait_for(published)
        sub = await js.pull_subscribe(
            "passhub.kittest.>",
            durable="analytics",
            stream="PASSHUB_KITTEST",
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.EXPLICIT),
        )
        [msg] = await sub.fetch(1, timeout=5)
        assert msg.headers is not None
        assert msg.headers["Nats-Msg-Id"] == str(event.id)
        assert msg.headers["Content-Type"] == "application/cloudevents+json"
        doc = json.loads(msg.data)
        await msg.ack()
    finally:
        await nc.close()
    assert msg.subject == "passhub.kittest.counted"
    assert doc["specversion"] == "1.0"
    assert doc["type"] == "passhub.kittest.counted.v1"
    assert doc["source"] == "/passhub/kittest"
    assert doc["id"] == str(event.id)
    assert doc["subject"] == "c-9"
    assert doc["streamversion"] == 1
    assert doc["data"] == {"counter_id": "c-9", "amount": 4}


async def test_the_asyncapi_document_describes_what_is_on_the_wire(
    publisher: Runtime, nats_url: str
) -> None:
    from passhub_shared.messages.asyncapi import document, envelope_model

    doc = document(toy.publisher)
    assert doc["asyncapi"] == "3.0.0"
    [channel] = doc["channels"].values()
    assert channel["address"] == "passhub.kittest.counted"
    assert "CountedV1CloudEvent" in doc["components"]["schemas"]

    async with publisher.transaction() as conn:
        await handle(conn, publisher.store, toy.counter, "c-1", toy.Increment("c-1", 1))
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()

        async def published() -> bool:
            return (await js.stream_info("PASSHUB_KITTEST")).state.messages == 1

        await wait_for(published)
        msg = await js.get_last_msg("PASSHUB_KITTEST", "passhub.kittest.counted")
    finally:
        await nc.close()
    wire = json.loads(msg.data or b"")
    parsed = envelope_model(toy.Counted).model_validate(wire)
    assert parsed.model_dump(mode="json")["data"] == wire["data"]
