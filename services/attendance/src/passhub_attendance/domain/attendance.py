"""One person's attendance at one session: an aggregate whose stream is
`attendance-<session_id>/<student_number>`.

A stream per person per session makes "signing in twice is one attendance" a check against the
stream's own state (and two sign-ins racing each other clash on its first version, so only one
is recorded), while sign-ins of different students, to the same session or not, never contend:
a whole lecture theatre scanning the code at once appends to as many streams. The four ways of
signing in (QR, kiosk, a leader adding a student, a paper sheet import) all go through the same
`SignIn` command and so the same rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from passhub_attendance.domain.model import SessionView, Window
from passhub_shared.contracts.attendance import (
    AttendanceRevoked,
    AttendeeRole,
    LeaderSignedIn,
    Method,
    StudentSignedIn,
)
from passhub_shared.messages.events import Event
from passhub_shared.operations.localtime import local_text
from passhub_shared.storage.decider import Decider
from passhub_shared.web.errors import Forbidden, NotFound, Rejected


def stream_id(session_id: str, person: str) -> str:
    """A person's attendance at a session. `person` is their pseudonym (the key id the event
    store gives them), never their student number: stream ids are not sealed."""
    return f"attendance-{session_id}/{person}"


# -- state -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attendance:
    session_id: str
    scheme_id: str
    student_number: str
    role: AttendeeRole
    method: Method
    signed_in_at: datetime


@dataclass(frozen=True)
class Presence:
    """Whether the person is signed in to the session now (None: never, or revoked)."""

    attendance: Attendance | None = None


# -- commands ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    """Sign `student_number` in to `session` (None: no such session is scheduled).

    `at` is when the person signed in: `now` for the live methods, the time on the sheet for an
    import. `as_leader` is the leaders' own door: it is refused to anyone not rostered. Whatever
    the door, a student number rostered on the session is counted as a leader. `tz` is the
    institution's time zone, in which messages give times.
    """

    session_id: str
    session: SessionView | None
    student_number: str
    method: Method
    at: datetime
    now: datetime
    window: Window = field(default_factory=Window)
    as_leader: bool = False
    tz: tzinfo = UTC
    #: why staff added the attendance by hand (kept on the event)
    reason: str = ""


@dataclass(frozen=True)
class Revoke:
    session_id: str
    student_number: str
    reason: str


Command = SignIn | Revoke


# -- rules -------------------------------------------------------------------------------------


def check_open(command: SignIn) -> SessionView:
    """The session exists, is not cancelled, and `command.at` falls in its sign-in window."""
    session = command.session
    if session is None:
        raise NotFound(f"no session {command.session_id!r} is scheduled")
    if session.cancelled:
        raise Rejected(
            f"session {session.session_id} was cancelled: nobody can sign in to it",
            code="session_cancelled",
        )
    if command.at > command.now:
        raise Rejected("a sign-in time cannot be in the future", code="sign_in_in_future")
    opens, closes = command.window.opens(session), command.window.closes(session)
    if command.at < opens:
        raise Rejected(
            f"sign-in to session {session.session_id} opens at {local_text(opens, command.tz)}",
            code="sign_in_not_open",
        )
    if command.at > closes:
        raise Rejected(
            f"sign-in to session {session.session_id} closed at {local_text(closes, command.tz)}",
            code="sign_in_closed",
        )
    return session


def _sign_in(command: SignIn, state: Presence) -> list[Event]:
    if command.session is None:
        raise NotFound(f"no session {command.session_id!r} is scheduled")
    if state.attendance is not None:
        return []  # twice is one attendance
    session = check_open(command)
    rostered = session.is_rostered(command.student_number)
    if command.as_leader and not rostered:
        raise Forbidden(
            f"{command.student_number} is not rostered on session {session.session_id}, "
            "so cannot sign in as its leader"
        )
    if rostered:
        return [
            LeaderSignedIn(
                session_id=session.session_id,
                scheme_id=session.scheme_id,
                student_number=command.student_number,
                signed_in_at=command.at,
                method=command.method,
                reason=command.reason or None,
            )
        ]
    return [
        StudentSignedIn(
            session_id=session.session_id,
            scheme_id=session.scheme_id,
            modules=list(session.modules),
            student_number=command.student_number,
            signed_in_at=command.at,
            method=command.method,
            reason=command.reason or None,
        )
    ]


def _revoke(command: Revoke, state: Presence) -> list[Event]:
    reason = command.reason.strip()
    if not reason:
        raise Rejected("a revocation needs a reason", code="reason_required")
    attendance = state.attendance
    if attendance is None:
        raise NotFound(
            f"{command.student_number} has no attendance at session {command.session_id}"
        )
    return [
        AttendanceRevoked(
            session_id=attendance.session_id,
            scheme_id=attendance.scheme_id,
            student_number=attendance.student_number,
            role=attendance.role,
            reason=reason,
        )
    ]


def decide(command: Command, state: Presence) -> Sequence[Event]:
    if isinstance(command, SignIn):
        return _sign_in(command, state)
    return _revoke(command, state)


def evolve(state: Presence, event: Event) -> Presence:
    if isinstance(event, StudentSignedIn | LeaderSignedIn):
        return Presence(
            Attendance(
                session_id=event.session_id,
                scheme_id=event.scheme_id,
                student_number=event.student_number,
                role="leader" if isinstance(event, LeaderSignedIn) else "student",
                method=event.method,
                signed_in_at=event.signed_in_at,
            )
        )
    if isinstance(event, AttendanceRevoked):
        return Presence(None)
    return state


attendance = Decider[Command, Presence](initial=Presence, decide=decide, evolve=evolve)
