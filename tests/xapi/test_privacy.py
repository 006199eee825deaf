"""An erasure reaches the bridge's own store: once passhub erases a student, the bridge's
SQLite file holds no byte that names them or links to them, and a re-send posts nothing of
them."""

from __future__ import annotations

import json
from pathlib import Path

import nats
import pytest
from pydantic import SecretStr, ValidationError

from passhub_attendance.service import service
from passhub_xapi.bridge import Bridge
from passhub_xapi.settings import BridgeSettings
from tests.support import read_stream, running_service, wait_for
from tests.xapi.flow import (
    attendance_events,
    bridge_running,
    consumer_drained,
    kiosk,
    known,
    ours,
    schedule,
)
from tests.xapi.ralph import Ralph

ERASED, KEPT = "20019876", "20025432"


def store_bytes(path: Path) -> bytes:
    """The store's file with its write-ahead log and shared-memory index, as on the disk."""
    return b"".join(
        p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )


async def test_an_erased_students_records_leave_the_bridge_store_and_are_never_resent(
    database_url: str, nats_url: str, ralph: Ralph, bridge_settings: BridgeSettings
) -> None:
    await schedule(nats_url, "S1")
    async with running_service(service, database_url, nats_url) as h:
        await wait_for(lambda: known(h, "S1"))
        await kiosk(h, "S1", ERASED)
        await kiosk(h, "S1", KEPT)
        await attendance_events(nats_url, 2)
        sealed = await read_stream(nats_url, "PASSHUB_ATTENDANCE", opened=False)
        [theirs] = [
            e
            for e, o in zip(sealed, await attendance_events(nats_url, 2), strict=True)
            if o["data"]["student_number"] == ERASED
        ]
        token = theirs["data"]["student_number"]
        key_id = token.split(":")[1]
        # a copy of their sign-in the bridge cannot map (a broken time): parked, sealed
        broken = json.loads(json.dumps(theirs))
        broken["id"] = "0190e0d0-0000-7000-8000-0000000e7a5e"
        broken["data"]["signed_in_at"] = "not a time"
        nc = await nats.connect(nats_url)
        await nc.jetstream().publish(
            "passhub.attendance.student_signed_in", json.dumps(broken).encode()
        )
        await nc.close()

        async with bridge_running(bridge_settings) as bridge:
            await wait_for(lambda: consumer_drained(bridge_settings), timeout=60)
            assert len(ours(ralph, bridge_settings)) == 2
            [parked] = bridge.store.parked()
            assert parked.event["data"]["student_number"] == token  # kept sealed
            before = store_bytes(bridge_settings.store_path)
            assert key_id.encode() in before  # their sign-in and the parked event

            r = await h.client.post(
                "/privacy/erasures",
                json={"student_numbers": [ERASED], "reason": "asked to be forgotten"},
                headers=h.auth("coordinator", "c1"),
            )
            assert r.status_code == 200, r.text

            async def forgotten() -> bool:
                return bridge.totals.forgotten >= 2

            await wait_for(forgotten, timeout=30)
            await wait_for(lambda: consumer_drained(bridge_settings), timeout=30)
            assert bridge.store.parked() == []

    after = store_bytes(bridge_settings.store_path)
    assert key_id.encode() not in after
    assert token.encode() not in after
    assert ERASED.encode() not in after
    assert ERASED.encode() not in before  # a student's number is never kept in clear

    resent = Bridge(bridge_settings)
    try:
        totals = await resent.resend()
    finally:
        await resent.close()
    assert totals.statements == 1  # the kept student's only
    assert key_id.encode() not in store_bytes(bridge_settings.store_path)
    names = [s["actor"]["account"]["name"] for s in ours(ralph, bridge_settings)]
    # the statement posted before the erasure is the LRS's to delete; none came since
    assert sorted(names) == sorted([ERASED, KEPT])


async def test_during_a_stream_key_rotation_the_bridge_opens_keys_wrapped_by_the_old_one(
    database_url: str, nats_url: str, ralph: Ralph, bridge_settings: BridgeSettings
) -> None:
    """passhub's bucket still holds keys wrapped by the old stream key: a bridge given only
    the new one cannot open them and parks, one given both delivers."""
    await schedule(nats_url, "S1")
    async with running_service(service, database_url, nats_url) as h:
        await wait_for(lambda: known(h, "S1"))
        await kiosk(h, "S1", KEPT)
        await attendance_events(nats_url, 1)
    old = bridge_settings.stream_key
    new_only = bridge_settings.model_copy(
        update={"stream_key": SecretStr("the-new-stream-key-" + "n" * 24)}
    )
    async with bridge_running(new_only) as bridge:
        await wait_for(lambda: consumer_drained(new_only), timeout=60)
        [parked] = bridge.store.parked()
    assert "does not open" in parked.reason
    assert ours(ralph, bridge_settings) == []

    both = new_only.model_copy(update={"stream_previous_keys": [old]})
    retried = Bridge(both)
    try:
        delivered, still = await retried.retry_parked()
    finally:
        await retried.close()
    assert (delivered, still) == (1, 0)
    [statement] = ours(ralph, bridge_settings)
    assert statement["actor"]["account"]["name"] == KEPT


def test_previous_stream_keys_come_from_a_json_list_and_none_may_be_empty(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = {
        "PASSHUB_XAPI_STREAM_KEY": "current",
        "PASSHUB_XAPI_STREAM_PREVIOUS_KEYS": '["older", "oldest"]',
        "PASSHUB_XAPI_LRS_ENDPOINT": "https://lrs.example.ac.uk/xAPI",
        "PASSHUB_XAPI_LRS_USERNAME": "key",
        "PASSHUB_XAPI_LRS_PASSWORD": "secret",
        "PASSHUB_XAPI_ACCOUNT_HOME_PAGE": "https://sso.example.ac.uk",
        "PASSHUB_XAPI_ACTIVITY_BASE": "https://pass.example.ac.uk/xapi",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert BridgeSettings().stream_keys == ["current", "older", "oldest"]  # type: ignore[call-arg]
    monkeypatch.setenv("PASSHUB_XAPI_STREAM_PREVIOUS_KEYS", '["older", ""]')
    with pytest.raises(ValidationError):
        BridgeSettings()  # type: ignore[call-arg]
