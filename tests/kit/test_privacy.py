"""Crypto-shredding in the kit, against real PostgreSQL and NATS: personal fields are sealed in
the log and in the stream, opened on load, replay and consumption, and an erased person's
fields read as placeholders everywhere, replay included; the key bucket lets an authorised
subscriber open them until the erasure, and nothing after it."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator

import nats
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import text

from passhub_shared.messages.events import Event
from passhub_shared.operations.replay import rebuild
from passhub_shared.operations.service import Runtime
from passhub_shared.personaldata.personal import OptionalStudentNumber, PersonalText, StudentNumber
from passhub_shared.personaldata.privacy import erase, subject_access
from tests.kit import toy
from tests.support import SECRET_ENV, service_settings


class Greeted(Event):
    service = "kittest"
    event_name = "greeted"
    student_number: StudentNumber
    name: PersonalText
    note: str = ""


class Commented(Event):
    service = "kittest"
    event_name = "commented"
    student_number: OptionalStudentNumber
    comment: PersonalText = ""


SN, NAME = "20261234", "Ada Lovelace-Byron"


@pytest.fixture
async def runtime(database_url: str, nats_url: str) -> AsyncIterator[Runtime]:
    rt = Runtime(toy.publisher, service_settings(database_url, nats_url))
    await rt.start()
    yield rt
    await rt.stop()


async def _raw_log(rt: Runtime) -> str:
    async with rt.engine.connect() as conn:
        rows = await conn.execute(text("SELECT data::text, coalesce(actor, '') FROM events"))
        return "\n".join(f"{r[0]} {r[1]}" for r in rows)


async def _stream_bytes(nats_url: str, stream: str) -> list[bytes]:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        out = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                out.append((await js.get_msg(stream, seq)).data or b"")
            except nats.js.errors.NotFoundError:
                continue
        return out
    finally:
        await nc.close()


async def test_personal_fields_are_sealed_in_the_log_and_opened_on_load(runtime: Runtime) -> None:
    async with runtime.transaction() as conn:
        await runtime.store.append(
            conn, "greeting-1", 0, [Greeted(student_number=SN, name=NAME, note="hello")]
        )
        await runtime.store.append(conn, "c-1", 0, [Commented(student_number=None, comment="x")])
    raw = await _raw_log(runtime)
    assert SN not in raw and NAME not in raw
    assert "hello" in raw  # not personal: kept as it is
    async with runtime.transaction() as conn:
        (event,) = await runtime.store.load(conn, "greeting-1")
    assert event.data["student_number"] == SN and event.data["name"] == NAME


async def test_erasure_turns_fields_into_placeholders_and_replay_agrees(runtime: Runtime) -> None:
    async with runtime.transaction() as conn:
        await runtime.store.append(conn, "g", 0, [Greeted(student_number=SN, name=NAME)])
        await runtime.store.append(conn, "h", 0, [Greeted(student_number="other", name="Bo")])
    report = await erase(runtime, [SN], reason="asked to be forgotten", actor="dpo")
    assert report.keys_deleted == 1
    async with runtime.transaction() as conn:
        (gone,) = await runtime.store.load(conn, "g")
        (kept,) = await runtime.store.load(conn, "h")
        audit = (await conn.execute(text("SELECT action, actor, reason FROM privacy_audit"))).all()
    assert gone.data["student_number"].startswith("erased-") and gone.data["name"] == "[erased]"
    assert kept.data["name"] == "Bo"
    assert audit == [("erasure", "dpo", "asked to be forgotten")]
    again = await erase(runtime, [SN], reason="twice", actor="dpo")  # safe, nothing left
    assert again.keys_deleted == 0
    unknown = await erase(runtime, ["never-seen"], reason="unknown", actor="dpo")
    assert unknown.keys_deleted == 0
    check = await rebuild(runtime.engine, runtime.store, commit=False)
    assert check.identical


async def test_an_event_in_flight_after_the_erasure_is_sealed_to_the_placeholder(
    runtime: Runtime,
) -> None:
    async with runtime.transaction() as conn:
        await runtime.store.append(conn, "g", 0, [Greeted(student_number=SN, name=NAME)])
        before = await runtime.privacy.pseudonym(conn, SN)
    await erase(runtime, [SN], reason="r", actor="dpo")
    async with runtime.transaction() as conn:  # arrives late: no new key, no plaintext
        await runtime.store.append(conn, "late", 0, [Greeted(student_number=SN, name=NAME)])
        (late,) = await runtime.store.load(conn, "late")
        after = await runtime.privacy.pseudonym(conn, SN)
    assert after == before  # the same stream names, before and after
    assert late.data["student_number"] == f"erased-{before}"
    assert SN not in await _raw_log(runtime) and NAME not in await _raw_log(runtime)


def _open_token(token: str, raw_key: bytes) -> str:
    """What an integrator writes: no passhub code, only `cryptography`."""
    _, kid, body = token.split(":", 2)
    blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    return json.loads(AESGCM(raw_key).decrypt(blob[:12], blob[12:], kid.encode()))


def _unwrap_entry(name: str, value: bytes, stream_key: str) -> bytes:
    _, _, body = value.partition(b".")
    wrapping = hashlib.sha256(b"passhub-master-key" + stream_key.encode()).digest()
    return AESGCM(wrapping).decrypt(body[:12], body[12:], name.encode())


async def test_the_stream_carries_sealed_fields_an_authorised_reader_opens_until_erasure(
    runtime: Runtime, nats_url: str
) -> None:
    async with runtime.transaction() as conn:
        await runtime.store.append(conn, "g", 0, [Greeted(student_number=SN, name=NAME)])
    for _ in range(100):
        if runtime.relay is not None and runtime.relay.published >= 1:
            break
        await asyncio.sleep(0.05)
    (message,) = await _stream_bytes(nats_url, "PASSHUB_KITTEST")
    assert SN.encode() not in message and NAME.encode() not in message
    data = json.loads(message)["data"]
    kid = data["student_number"].split(":")[1]
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        name = f"passhub.keys.kittest.{kid}"
        entry = await js.get_last_msg("PASSHUB_KEYS", name)
        assert entry.data
        raw = _unwrap_entry(name, entry.data, SECRET_ENV["PASSHUB_STREAM_KEY"])
        assert _open_token(data["name"], raw) == NAME
        await erase(runtime, [SN], reason="r", actor="dpo")
        for _ in range(100):
            try:
                await js.get_last_msg("PASSHUB_KEYS", name)
            except nats.js.errors.NotFoundError:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the erased key is still in the bucket")
    finally:
        await nc.close()
    for blob in await _stream_bytes(nats_url, "PASSHUB_KEYS"):
        assert raw not in blob


async def test_subject_access_gathers_the_persons_events(runtime: Runtime) -> None:
    async with runtime.transaction() as conn:
        await runtime.store.append(conn, "g", 0, [Greeted(student_number=SN, name=NAME)])
        await runtime.store.append(conn, "h", 0, [Greeted(student_number="other", name="Bo")])
    held = await subject_access(runtime, SN, actor="dpo", reason="request 7")
    assert held["status"] == "held"
    assert [e["data"]["name"] for e in held["events"]] == [NAME]
    assert (await subject_access(runtime, "nobody", actor="dpo", reason="r"))["status"] == (
        "unknown"
    )


async def test_a_consumed_event_about_someone_erased_here_keeps_nothing_of_them(
    runtime: Runtime,
) -> None:
    """Another service's event still in flight when the person was erased here: it is recorded
    with their fields as placeholders, and what the projections are handed is the same."""
    from passhub_shared.messages.events import Recorded, new_event_id, utcnow

    await erase(runtime, [SN], reason="r", actor="dpo")
    foreign = Recorded(
        new_event_id(), "elsewhere-1", 1, Greeted.type_name(), "othersvc",
        {"student_number": SN, "name": NAME, "note": ""}, utcnow(),
    )  # fmt: skip
    fresh = await runtime.applier.apply([foreign])
    assert fresh[0].data["student_number"].startswith("erased-")
    assert fresh[0].data["name"] == "[erased]"
    assert SN not in await _raw_log(runtime) and NAME not in await _raw_log(runtime)


async def test_a_lost_key_bucket_is_filled_again(runtime: Runtime, nats_url: str) -> None:
    async with runtime.transaction() as conn:
        await runtime.store.append(conn, "g", 0, [Greeted(student_number=SN, name=NAME)])
        kid = await runtime.privacy.pseudonym(conn, SN)
    name = f"passhub.keys.kittest.{kid}"
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()

        async def in_bucket() -> bool:
            try:
                await js.get_last_msg("PASSHUB_KEYS", name)
                return True
            except nats.js.errors.NotFoundError:
                return False

        for _ in range(100):
            if await in_bucket():
                break
            await asyncio.sleep(0.05)
        await js.delete_stream("PASSHUB_KEYS")
        async with runtime.transaction() as conn:  # the relay's next round finds it gone
            await runtime.store.append(conn, "h", 0, [Greeted(student_number="other", name="B")])
        for _ in range(200):
            if await in_bucket():
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the key was not put in the new bucket")
    finally:
        await nc.close()
