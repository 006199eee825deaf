"""Checking a leader's facts against an award's requirements, with the words a person reads
("6 of 8 sessions delivered")."""

from __future__ import annotations

from dataclasses import dataclass

from passhub_recognition.domain.facts import LeaderFacts, SessionBook
from passhub_recognition.domain.policy import Requirements

#: requirement codes, in the order they are shown
CODES = (
    "training",
    "sessions",
    "session_hours",
    "training_admin_hours",
    "mentor_meetings",
    "stood_down",
)


@dataclass(frozen=True)
class Check:
    code: str
    met: bool
    detail: str
    actual: float | None = None
    required: float | None = None


def hours_text(hours: float) -> str:
    """8 -> "8", 12.5 -> "12.5", 1/3 -> "0.33"."""
    return f"{round(hours, 2):g}"


def _plural(n: float, one: str, many: str) -> str:
    return one if n == 1 else many


def assess(requirements: Requirements, facts: LeaderFacts, book: SessionBook) -> list[Check]:
    """Every requirement of `requirements`, met or not."""
    checks: list[Check] = []
    delivered = facts.delivered(book)
    if requirements.training:
        done = facts.training_completed
        checks.append(
            Check(
                "training",
                done,
                "core training completed" if done else "core training not completed",
            )
        )
    if requirements.min_sessions is not None:
        n, need = len(delivered), requirements.min_sessions
        checks.append(
            Check(
                "sessions",
                n >= need,
                f"{n} of {need} {_plural(need, 'session', 'sessions')} delivered",
                n,
                need,
            )
        )
    if requirements.min_session_hours is not None:
        hours = round(sum(d.hours for d in delivered), 2)
        need_h = requirements.min_session_hours
        checks.append(
            Check(
                "session_hours",
                hours >= need_h,
                f"{hours_text(hours)} of {hours_text(need_h)} hours of sessions delivered",
                hours,
                need_h,
            )
        )
    if requirements.min_training_admin_hours is not None:
        hours = round(facts.training_admin_hours(), 2)
        need_h = requirements.min_training_admin_hours
        checks.append(
            Check(
                "training_admin_hours",
                hours >= need_h,
                f"{hours_text(hours)} of {hours_text(need_h)} hours of training and admin",
                hours,
                need_h,
            )
        )
    if requirements.min_mentor_meetings is not None:
        n, need = facts.mentor_meetings(), requirements.min_mentor_meetings
        checks.append(
            Check(
                "mentor_meetings",
                n >= need,
                f"{n} of {need} mentor {_plural(need, 'meeting', 'meetings')} attended",
                n,
                need,
            )
        )
    if requirements.not_stood_down_before is not None:
        cutoff = requirements.not_stood_down_before
        left = facts.stood_down_on
        if left is not None and left < cutoff:
            checks.append(
                Check(
                    "stood_down",
                    False,
                    f"stood down on {left.isoformat()}, before {cutoff.isoformat()}",
                )
            )
        else:
            checks.append(Check("stood_down", True, f"not stood down before {cutoff.isoformat()}"))
    return checks


def unmet(checks: list[Check]) -> list[Check]:
    return [c for c in checks if not c.met]
