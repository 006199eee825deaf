"""What attendance does when another service's event arrives (besides keeping its read models):
a session cancelled after people signed in was not delivered, so its attendances are revoked.
Runs in the consumer's batch transaction, after the projections have applied the batch."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache

from passhub_attendance import handlers
from passhub_attendance.settings import AttendanceSettings
from passhub_shared.contracts.sessions import SessionCancelled
from passhub_shared.messages.events import Metadata, Recorded
from passhub_shared.messaging.subscriptions import ReactionContext

_CANCELLED = SessionCancelled.type_name()


@cache
def _settings() -> AttendanceSettings:
    return AttendanceSettings()


async def revoke_cancelled(rc: ReactionContext, new_events: Sequence[Recorded]) -> None:
    """Each cancelled session's attendances revoked, as events caused by the cancellation. The
    projection has already updated the session row in this transaction: every writer that read
    it `FOR SHARE` has committed, and any later one waits for this commit."""
    cancellations = [e for e in new_events if e.type == _CANCELLED]
    if not cancellations:
        return
    ctx = handlers.Context(
        store=rc.store, settings=_settings(), now=datetime.now(UTC), metadata=Metadata()
    )
    for event in cancellations:
        await handlers.revoke_cancelled(rc.conn, ctx, event)
