"""The projection toolkit's dispatch: each event to the method marked for its type."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_shared.messages.events import Recorded, new_event_id
from passhub_shared.storage.projections import Dispatch, on
from tests.kit.toy import Counted


class Totals(Dispatch):
    name = "dispatch_totals"

    async def apply(self, conn: AsyncConnection, events: Sequence[Recorded]) -> None:
        raise NotImplementedError

    @on(Counted)
    def counted(self, state: dict[str, int], recorded: Recorded, event: Counted) -> None:
        state[event.counter_id] = state.get(event.counter_id, 0) + event.amount


def recorded(type_name: str, data: dict[str, object]) -> Recorded:
    return Recorded(new_event_id(), "s", 1, type_name, "kittest", data, datetime.now(UTC))


def test_the_marked_types_are_what_it_handles() -> None:
    assert Totals.handles == frozenset({Counted.type_name()})


def test_each_event_goes_to_its_method_and_others_are_skipped() -> None:
    state: dict[str, int] = {}
    Totals().dispatch(
        state,
        [
            recorded(Counted.type_name(), {"counter_id": "a", "amount": 2}),
            recorded("passhub.kittest.other.v1", {"anything": 1}),
            recorded(Counted.type_name(), {"counter_id": "a", "amount": 3}),
        ],
    )
    assert state == {"a": 5}
