"""Events that stay inside the attendance service (not published)."""

from __future__ import annotations

from passhub_shared.messages.events import Event


class FeedbackGuardTaken(Event):
    """One feedback per student per session, without saying who: `guard` is a keyed hash of
    (session, student number), so only the holder of the key can tell whose it is."""

    service = "attendance"
    event_name = "feedback_guard_taken"
    public = False
    guard: str
    session_id: str
