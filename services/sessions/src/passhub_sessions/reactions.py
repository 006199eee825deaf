"""How the service reacts to recruitment's events, inside the transaction that records them.

`leader_appointed` needs no reaction: the appointment lands in the `scheme_leaders` projection
and the leader can be rostered from then on. `leader_stood_down` takes the leader off every
session of the schemes they left, from `effective_from` on (`leader_unrostered` events).
"""

from __future__ import annotations

from collections.abc import Sequence

from passhub_sessions.handlers import unroster_stood_down
from passhub_sessions.settings import SessionsSettings
from passhub_shared.contracts.recruitment import LeaderStoodDown
from passhub_shared.events import Recorded
from passhub_shared.subscriptions import ReactionContext


async def react(ctx: ReactionContext, events: Sequence[Recorded]) -> None:
    stood_down = [e for e in events if e.type == LeaderStoodDown.type_name()]
    if stood_down:
        await unroster_stood_down(ctx.conn, ctx.store, SessionsSettings().tz, stood_down)
