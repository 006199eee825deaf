"""The kit's one retry loop and its one advisory-lock key function."""

from __future__ import annotations

import pytest

from passhub_shared.storage import locks
from passhub_shared.storage.retrying import ATTEMPTS, on_conflict
from passhub_shared.storage.store import ConcurrencyConflict
from passhub_shared.web.errors import Rejected


async def test_a_conflict_runs_the_transaction_again_until_it_goes_through() -> None:
    tries = 0

    async def attempt() -> str:
        nonlocal tries
        tries += 1
        if tries < 3:
            raise ConcurrencyConflict("s-1", tries)
        return "done"

    assert await on_conflict(attempt) == "done"
    assert tries == 3


async def test_the_last_conflict_reaches_the_caller_and_other_errors_at_once() -> None:
    tries = 0

    async def clashing() -> None:
        nonlocal tries
        tries += 1
        raise ConcurrencyConflict("s-1", 0)

    with pytest.raises(ConcurrencyConflict):
        await on_conflict(clashing)
    assert tries == ATTEMPTS

    refused = 0

    async def refusing() -> None:
        nonlocal refused
        refused += 1
        raise Rejected("no")

    with pytest.raises(Rejected):
        await on_conflict(refusing)
    assert refused == 1


def test_a_lock_name_is_one_signed_64_bit_key_the_same_everywhere() -> None:
    key = locks.key("passhub-relay:attendance")
    assert key == locks.key("passhub-relay:attendance")
    assert -(2**63) <= key < 2**63
    assert key != locks.key("passhub-relay:sessions")
    # BLAKE2b of the name: fixed across processes and releases (a relay and a republish that
    # disagreed would both publish)
    assert locks.key("passhub-migrate") == 0x59610D87DB41BBB
