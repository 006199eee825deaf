"""A message someone else published on the relay's stream, followed by a batch of events
committed together: the batch's first publish is refused (the stream's last sequence moved), and
so must be every one after it, though the next finds the sequence it expects; otherwise it is
stored after a gap and the relay's resume takes its refused predecessor for published."""

from __future__ import annotations

import nats
from sqlalchemy import text

from passhub_shared.operations.service import Runtime
from tests.kit import toy
from tests.support import read_stream, wait_for

STREAM = "PASSHUB_KITTEST"


async def test_a_batch_after_a_foreign_message_loses_nothing(
    publisher: Runtime, nats_url: str
) -> None:
    async with publisher.transaction() as conn:
        await publisher.store.append(conn, "a", 0, [toy.Counted(counter_id="a", amount=1)])

    async def published() -> bool:
        async with publisher.engine.connect() as conn:
            return (await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one() == 0

    await wait_for(published)
    nc = await nats.connect(nats_url)
    try:
        await nc.jetstream().publish("passhub.kittest.stray", b"{}", headers={"Nats-Msg-Id": "x"})
    finally:
        await nc.close()
    async with publisher.transaction() as conn:  # one batch of five
        await publisher.store.append(
            conn, "b", 0, [toy.Counted(counter_id="b", amount=n + 1) for n in range(5)]
        )
    await wait_for(published)
    async with publisher.engine.connect() as conn:
        logged = [str(r.id) for r in await conn.execute(text("SELECT id FROM events"))]
    messages = await read_stream(nats_url, STREAM)
    assert sorted(m["id"] for m in messages if "id" in m) == sorted(logged)
    versions = [m["streamversion"] for m in messages if m.get("subject") == "b"]
    assert versions == [1, 2, 3, 4, 5]
