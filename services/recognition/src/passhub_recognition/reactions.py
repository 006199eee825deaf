"""What the service does when other services' events arrive, in the transaction that records
them: corrections that can break a standing award or change what it states (a leader's
sign-in revoked or recorded late, a session cancelled or shortened, a leader stood down)
re-check the affected leaders' awards. Any that no longer hold are withdrawn with the reason;
any that hold with other figures are re-issued with the figures that hold now.

Everything else (appointments, training, schedules) only needs recording: progress and the
awards run read it from the log.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from passhub_recognition.domain.awards import RoleTitles
from passhub_recognition.handlers import context, recheck
from passhub_recognition.queries import leaders_signed_in_at, scheme_year
from passhub_shared.contracts.attendance import AttendanceRevoked, LeaderSignedIn
from passhub_shared.contracts.recruitment import LeaderStoodDown
from passhub_shared.contracts.sessions import SessionCancelled, SessionRescheduled
from passhub_shared.messages.events import Recorded
from passhub_shared.messaging.subscriptions import ReactionContext

#: consumed types that can break a standing award or change its figures
CORRECTIONS = frozenset(
    {
        AttendanceRevoked.type_name(),
        LeaderSignedIn.type_name(),
        SessionCancelled.type_name(),
        SessionRescheduled.type_name(),
        LeaderStoodDown.type_name(),
    }
)


async def react(ctx: ReactionContext, new_events: Sequence[Recorded]) -> None:
    """Re-check the awards of the leaders `new_events` correct, year by year."""
    # year -> student -> (cause, event); the first cause in the batch names the withdrawal
    affected: dict[str, dict[str, tuple[str, Recorded]]] = defaultdict(dict)
    for event in new_events:
        if event.type not in CORRECTIONS:
            continue
        decoded = event.decode()
        if isinstance(decoded, AttendanceRevoked):
            if decoded.role != "leader":
                continue
            year = await scheme_year(ctx.conn, decoded.scheme_id)
            cause = f"sign-in at session {decoded.session_id} revoked ({decoded.reason})"
            students = [decoded.student_number]
        elif isinstance(decoded, LeaderSignedIn):
            year = await scheme_year(ctx.conn, decoded.scheme_id)
            cause = f"sign-in at session {decoded.session_id} recorded"
            students = [decoded.student_number]
        elif isinstance(decoded, SessionCancelled):
            year = await scheme_year(ctx.conn, decoded.scheme_id)
            cause = f"session {decoded.session_id} cancelled ({decoded.reason})"
            students = await leaders_signed_in_at(ctx.conn, decoded.session_id, ctx.store.privacy)
        elif isinstance(decoded, SessionRescheduled):
            year = await scheme_year(ctx.conn, decoded.scheme_id)
            cause = f"session {decoded.session_id} rescheduled"
            students = await leaders_signed_in_at(ctx.conn, decoded.session_id, ctx.store.privacy)
        elif isinstance(decoded, LeaderStoodDown):
            year = decoded.academic_year
            cause = f"stood down from {decoded.effective_from.isoformat()}"
            if decoded.reason:  # published before recruitment kept the reason to itself
                cause += f" ({decoded.reason})"
            students = [decoded.student_number]
        else:  # pragma: no cover - CORRECTIONS lists exactly the types above
            continue
        if year is None:
            continue
        for student in students:
            affected[year].setdefault(student, (cause, event))
    if not affected:
        return
    # a re-check names no role title: a revision restates the figures, not the role
    handler = context(ctx.store, RoleTitles())
    for year in sorted(affected):
        await recheck(ctx.conn, handler, year, affected[year])
