"""Operator view of parked events: list them, retry them once the cause is fixed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from passhub_shared.messaging.subscriptions import EventApplier
from passhub_shared.storage.schema import dead_letters


@dataclass(frozen=True)
class DeadLetter:
    event_id: str
    consumer: str
    subject: str
    type: str | None
    error: str
    deliveries: int
    parked_at: datetime


async def list_dead_letters(engine: AsyncEngine) -> list[DeadLetter]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(
                dead_letters.c.event_id,
                dead_letters.c.consumer,
                dead_letters.c.subject,
                dead_letters.c.type,
                dead_letters.c.error,
                dead_letters.c.deliveries,
                dead_letters.c.parked_at,
            ).order_by(dead_letters.c.parked_at)
        )
        return [DeadLetter(*r) for r in rows]


@dataclass(frozen=True)
class RetryOutcome:
    event_id: str
    ok: bool
    error: str = ""


async def retry_dead_letters(
    engine: AsyncEngine, applier: EventApplier, event_id: str | None = None
) -> list[RetryOutcome]:
    """Apply parked events (one, or all), each in its own transaction; a success removes it."""
    async with engine.connect() as conn:
        stmt = select(dead_letters.c.event_id, dead_letters.c.payload).order_by(
            dead_letters.c.parked_at
        )
        if event_id is not None:
            stmt = stmt.where(dead_letters.c.event_id == event_id)
        parked = (await conn.execute(stmt)).all()
    outcomes: list[RetryOutcome] = []
    for pid, payload in parked:
        try:
            async with engine.begin() as conn:
                await applier.retry_parked(conn, pid, bytes(payload))
            outcomes.append(RetryOutcome(pid, True))
        except Exception as exc:
            outcomes.append(RetryOutcome(pid, False, repr(exc)))
    return outcomes
