"""Two transactions that both bring a scheme's module to the evaluation for the first time.

The second waits on the first's insert of the (scheme, module) pair; when the first commits, the
pair exists but the second's statement cannot see it, so the second's sign-in would not be
counted for that module. It is told to retry instead, and then is counted."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from passhub_shared.storage.store import ConcurrencyConflict
from tests.attendance.evaluation.helpers import signed_in
from tests.support import Harness

MATHS = "2026-27-MATHS"


async def module_counts(h: Harness, module: str) -> dict[str, int]:
    async with h.runtime.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT student_number, sessions FROM evaluation_module_attendance"
                " WHERE module = :m"
            ),
            {"m": module},
        )
        return {r.student_number: r.sessions for r in rows}


async def test_a_module_pair_added_concurrently_makes_the_later_writer_retry(
    h: Harness,
) -> None:
    store = h.runtime.store
    async with h.runtime.engine.connect() as first, h.runtime.engine.connect() as second:
        await store.append(
            first, "attendance-s1/1000001", 0, [signed_in("s1", MATHS, "1000001", ["NEW101"])]
        )
        waiting = asyncio.create_task(
            store.append(
                second, "attendance-s2/1000002", 0, [signed_in("s2", MATHS, "1000002", ["NEW101"])]
            )
        )
        await asyncio.sleep(0.5)
        assert not waiting.done(), "the second writer did not wait for the first's new pair"
        await first.commit()
        with pytest.raises(ConcurrencyConflict):
            await waiting
        await second.rollback()
        await store.append(
            second, "attendance-s2/1000002", 0, [signed_in("s2", MATHS, "1000002", ["NEW101"])]
        )
        await second.commit()
    assert await module_counts(h, "NEW101") == {"1000001": 1, "1000002": 1}
