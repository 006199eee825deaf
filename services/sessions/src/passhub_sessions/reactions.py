"""How the service reacts to recruitment's events, inside the transaction that records them.

`leader_appointed` needs no reaction: the appointment lands in the `scheme_leaders` projection
and the leader can be rostered from then on. `leader_stood_down` takes the leader off every
session of the schemes they left, from `effective_from` on (`leader_unrostered` events).
"""

from __future__ import annotations

from collections.abc import Sequence

from passhub_sessions import handlers
from passhub_sessions.settings import SessionsSettings
from passhub_shared.contracts.recruitment import LeaderStoodDown
from passhub_shared.messages.events import Metadata, Recorded, utcnow
from passhub_shared.messaging.subscriptions import ReactionContext


async def react(reaction: ReactionContext, events: Sequence[Recorded]) -> None:
    """Runs in the consumer's batch transaction (the consumer retries it on a conflict)."""
    stood_down = [e for e in events if e.type == LeaderStoodDown.type_name()]
    if stood_down:
        ctx = handlers.Context(
            store=reaction.store, settings=SessionsSettings(), now=utcnow(), metadata=Metadata()
        )
        await handlers.unroster_stood_down(reaction.conn, ctx, stood_down)
