"""A toy service used to exercise the kit: counters whose increments are events.

`kittest` publishes `counted`; `kitconsumer` consumes them into its own totals table. A
`poison` amount makes the consumer's projection fail, to exercise dead letters.
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import Column, Integer, MetaData, Table, Text, select
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_shared.messages.events import Event, Recorded
from passhub_shared.operations.service import ServiceDefinition
from passhub_shared.storage.decider import Decider, handle
from passhub_shared.storage.projections import Projection, upsert
from passhub_shared.web.app import RuntimeDep, command_metadata
from passhub_shared.web.auth import Principal, require
from passhub_shared.web.errors import NotFound, Rejected

MIGRATIONS = Path(__file__).parent / "toy_migrations"
metadata = MetaData()
totals = Table(
    "toy_totals",
    metadata,
    Column("counter_id", Text, primary_key=True),
    Column("total", Integer, nullable=False),
    Column("events", Integer, nullable=False),
)

#: the consumer fails on events with this amount while `POISON_ACTIVE` is set
POISON_AMOUNT = 666
POISON_ACTIVE = {"on": True}


class Counted(Event):
    service = "kittest"
    event_name = "counted"
    counter_id: str
    amount: int


class Increment:
    def __init__(self, counter_id: str, amount: int) -> None:
        self.counter_id = counter_id
        self.amount = amount


def decide(command: Increment, state: int) -> list[Event]:
    if command.amount <= 0:
        raise Rejected("amount must be positive")
    return [Counted(counter_id=command.counter_id, amount=command.amount)]


def evolve(state: int, event: Event) -> int:
    assert isinstance(event, Counted)
    return state + event.amount


counter = Decider[Increment, int](initial=lambda: 0, decide=decide, evolve=evolve)


class TotalsProjection(Projection):
    name = "toy_totals"
    tables = (totals,)
    handles = frozenset({Counted.type_name()})

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for e in events:
            sums[e.data["counter_id"]][0] += e.data["amount"]
            sums[e.data["counter_id"]][1] += 1
        await upsert(
            conn,
            totals,
            [{"counter_id": k, "total": v[0], "events": v[1]} for k, v in sums.items()],
            add=("total", "events"),
        )


class ConsumerTotals(TotalsProjection):
    """Same fold; fails on poison (only the consumer side does)."""

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        for e in events:
            if POISON_ACTIVE["on"] and e.data["amount"] == POISON_AMOUNT:
                raise RuntimeError("poisoned event")
        slow = float(os.environ.get("TOY_SLOW_APPLY", "0"))
        if slow:
            await asyncio.sleep(slow)  # widen the window in which a process can be killed
        await TotalsProjection.apply(self, conn, events)


router = APIRouter(prefix="/counters", tags=["counters"])


class IncrementBody(BaseModel):
    amount: int = Field(gt=-1000, lt=1000)


@router.post("/{counter_id}/increments", status_code=201)
async def increment(
    counter_id: str,
    body: IncrementBody,
    runtime: RuntimeDep,
    principal: Principal = require("coordinator"),
) -> dict[str, int]:
    async with runtime.transaction() as conn:
        recorded = await handle(
            conn,
            runtime.store,
            counter,
            counter_id,
            Increment(counter_id, body.amount),
            command_metadata(principal),
        )
    return {"version": recorded[-1].stream_version}


@router.get("/{counter_id}")
async def read(
    counter_id: str, runtime: RuntimeDep, _: Principal = require("coordinator", "academic")
) -> dict[str, int]:
    async with runtime.engine.connect() as conn:
        row = (await conn.execute(select(totals).where(totals.c.counter_id == counter_id))).first()
    if row is None:
        raise NotFound(f"no counter {counter_id}")
    return {"total": row.total, "events": row.events}


publisher = ServiceDefinition(
    name="kittest",
    title="Kit test publisher",
    migrations=MIGRATIONS,
    projections=[TotalsProjection()],
    publishes=[Counted],
    routers=[router],
)
consumer = ServiceDefinition(
    name="kitconsumer",
    title="Kit test consumer",
    migrations=MIGRATIONS,
    projections=[ConsumerTotals()],
    consumes={"kittest": frozenset({Counted.type_name()})},
)
