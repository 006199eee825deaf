"""Feedback (the comments sheet): once per student per session, only from students who
attended, optionally anonymous.

The "once" rule lives on a guard stream `feedback-guard-<keyed hash of session and student>`:
its first event takes the guard, so a second feedback finds it taken (and two at once clash on
the stream version). The feedback itself is its own stream `feedback-<feedback_id>`, so an
anonymous one is tied to nobody: its event, its row and its stream id carry no student number.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from passhub_attendance.domain.attendance import Presence
from passhub_attendance.domain.events import FeedbackGuardTaken
from passhub_shared.contracts.attendance import FeedbackSubmitted
from passhub_shared.web.errors import Conflict, Rejected

MAX_COMMENT = 4000


def feedback_stream(feedback_id: str) -> str:
    return f"feedback-{feedback_id}"


def guard_of(key: str, session_id: str, student_number: str) -> str:
    """Keyed hash (HMAC-SHA256) of the pair: without the key, nobody can test a student
    number against it, as student numbers are few enough to try them all."""
    message = f"{session_id}\x1f{student_number}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def guard_stream(guard: str) -> str:
    return f"feedback-guard-{guard}"


@dataclass(frozen=True)
class SubmitFeedback:
    feedback_id: str
    session_id: str
    student_number: str
    guard: str
    understanding: int
    enjoyable: int
    recommend: int
    comment: str = ""
    anonymous: bool = False


@dataclass(frozen=True)
class FeedbackDecision:
    guard: FeedbackGuardTaken
    feedback: FeedbackSubmitted


def decide_feedback(
    command: SubmitFeedback, presence: Presence, guard_taken: bool
) -> FeedbackDecision:
    attended = presence.attendance
    if attended is None or attended.role != "student":
        raise Rejected(
            f"only students who attended session {command.session_id} give feedback on it",
            code="not_attended",
        )
    if guard_taken:
        raise Conflict(f"feedback on session {command.session_id} was already submitted")
    for name in ("understanding", "enjoyable", "recommend"):
        value = getattr(command, name)
        if not 1 <= value <= 5:
            raise Rejected(f"{name} must be from 1 to 5", code="invalid_rating")
    comment = command.comment.strip()
    if len(comment) > MAX_COMMENT:
        raise Rejected(f"the comment is longer than {MAX_COMMENT} characters")
    return FeedbackDecision(
        guard=FeedbackGuardTaken(guard=command.guard, session_id=command.session_id),
        feedback=FeedbackSubmitted(
            feedback_id=command.feedback_id,
            session_id=command.session_id,
            scheme_id=attended.scheme_id,
            student_number=None if command.anonymous else command.student_number,
            understanding=command.understanding,
            enjoyable=command.enjoyable,
            recommend=command.recommend,
            comment=comment,
        ),
    )
