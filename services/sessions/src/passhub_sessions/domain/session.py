"""Decider for one session (stream `session-<session_id>`): scheduled, rescheduled or moved,
cancelled (it stays in the history), and the leaders rostered on it.

Clashes involve other sessions, so the caller gathers the relevant bookings (the room's, the
leaders') under a lock and passes them in; the rules themselves stay here, pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from passhub_sessions.domain.availability import Availability
from passhub_sessions.domain.clashes import Booking, describe, first_clash, room_key
from passhub_sessions.domain.events import SwapAnswered, SwapParty, SwapRequested
from passhub_sessions.domain.rota import Appointment, RotaSession, rostering_problem
from passhub_shared.contracts.sessions import (
    LeaderRostered,
    LeaderUnrostered,
    SessionCancelled,
    SessionRescheduled,
    SessionScheduled,
)
from passhub_shared.messages.events import Event
from passhub_shared.storage.decider import Decider
from passhub_shared.web.errors import Conflict, Forbidden, NotFound, Rejected

LONDON = ZoneInfo("Europe/London")
MAX_CAPACITY = 2000
MAX_ROOM = 80


def stream_id(session_id: str) -> str:
    return f"session-{session_id}"


@dataclass(frozen=True)
class OpenSwap:
    swap_id: str
    out: str
    incoming: str
    reason: str = ""


@dataclass(frozen=True)
class Session:
    session_id: str = ""
    scheme_id: str = ""
    scheduled: bool = False
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    room: str = ""
    capacity: int = 0
    teaching_week: str | None = None
    series_id: str | None = None
    cancelled: bool = False
    rostered: tuple[str, ...] = ()
    #: swap requests not yet answered
    swaps: tuple[OpenSwap, ...] = ()

    def as_rota_session(self) -> RotaSession:
        assert self.starts_at is not None and self.ends_at is not None
        return RotaSession(
            self.session_id,
            self.scheme_id,
            self.starts_at,
            self.ends_at,
            self.teaching_week,
            self.rostered,
        )


@dataclass(frozen=True)
class ScheduleSession:
    session_id: str
    scheme_id: str
    starts_at: datetime
    ends_at: datetime
    room: str
    capacity: int
    teaching_week: str | None = None
    series_id: str | None = None
    #: sessions already holding the room around that time
    room_bookings: Sequence[Booking] = ()
    tz: ZoneInfo = LONDON
    max_minutes: int = 240


@dataclass(frozen=True)
class RescheduleSession:
    starts_at: datetime
    ends_at: datetime
    room: str
    capacity: int
    now: datetime
    reason: str = ""
    teaching_week: str | None = None
    room_bookings: Sequence[Booking] = ()
    #: each rostered leader's other sessions around the new time
    leader_bookings: Mapping[str, Sequence[Booking]] = field(default_factory=dict)
    tz: ZoneInfo = LONDON
    max_minutes: int = 240


@dataclass(frozen=True)
class CancelSession:
    reason: str
    now: datetime


@dataclass(frozen=True)
class LeaderFacts:
    """What the rules need to know about a leader to put them on this session."""

    student_number: str
    appointment: Appointment | None
    availability: Availability | None
    commitments: Sequence[Booking] = ()


@dataclass(frozen=True)
class RosterLeader:
    leader: LeaderFacts
    tz: ZoneInfo = LONDON
    leader_title: str = "leader"


@dataclass(frozen=True)
class RosterLeaders:
    """Several leaders at once (a generated rota), each checked like `RosterLeader`."""

    leaders: tuple[LeaderFacts, ...]
    tz: ZoneInfo = LONDON
    leader_title: str = "leader"


@dataclass(frozen=True)
class UnrosterLeader:
    student_number: str
    reason: str = ""


@dataclass(frozen=True)
class SwapLeader:
    """Take `out` off and put `incoming` on, in one change."""

    out: str
    incoming: LeaderFacts
    reason: str = ""
    tz: ZoneInfo = LONDON
    leader_title: str = "leader"


@dataclass(frozen=True)
class RequestSwap:
    """A rostered leader (`out`) asks another leader to take their place; the other leader is
    checked as for rostering now, and again when they accept."""

    swap_id: str
    out: str
    incoming: LeaderFacts
    now: datetime
    reason: str = ""
    tz: ZoneInfo = LONDON
    leader_title: str = "leader"


SwapAnswer = Literal["accept", "decline", "withdraw"]


@dataclass(frozen=True)
class AnswerSwap:
    """The leader asked accepts or declines; the leader who asked withdraws. `incoming` is the
    asked leader's facts now (needed to accept)."""

    swap_id: str
    by: str
    answer: SwapAnswer
    now: datetime
    incoming: LeaderFacts | None = None
    tz: ZoneInfo = LONDON
    leader_title: str = "leader"


Command = (
    ScheduleSession
    | RescheduleSession
    | CancelSession
    | RosterLeader
    | RosterLeaders
    | UnrosterLeader
    | SwapLeader
    | RequestSwap
    | AnswerSwap
)

OUTCOMES: dict[str, Literal["accepted", "declined", "withdrawn"]] = {
    "accept": "accepted",
    "decline": "declined",
    "withdraw": "withdrawn",
}


def _check_slot(
    starts_at: datetime, ends_at: datetime, room: str, capacity: int, max_minutes: int
) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise Rejected("times must carry a time zone", code="naive_time")
    if ends_at <= starts_at:
        raise Rejected("a session must end after it starts", code="invalid_times")
    if (ends_at - starts_at).total_seconds() > max_minutes * 60:
        raise Rejected(f"a session lasts at most {max_minutes} minutes", code="too_long")
    if not room.strip() or len(room) > MAX_ROOM:
        raise Rejected(f"a room name is 1 to {MAX_ROOM} characters", code="invalid_room")
    if not 1 <= capacity <= MAX_CAPACITY:
        raise Rejected(f"capacity must be 1 to {MAX_CAPACITY}", code="invalid_capacity")


def _check_room(
    room: str,
    starts_at: datetime,
    ends_at: datetime,
    bookings: Sequence[Booking],
    ignore: str,
    tz: ZoneInfo,
) -> None:
    same_room = [b for b in bookings if room_key(b.room) == room_key(room)]
    clash = first_clash(starts_at, ends_at, same_room, ignore=ignore)
    if clash is not None:
        raise Conflict(f"room {room.strip()} is already booked: {describe(clash, tz)}")


def _existing(state: Session) -> None:
    if not state.scheduled:
        raise NotFound("no such session")


def _open(state: Session, now: datetime | None = None) -> None:
    _existing(state)
    if state.cancelled:
        raise Rejected("the session has been cancelled", code="cancelled")
    if now is not None and state.ends_at is not None and state.ends_at <= now:
        raise Rejected("the session has already taken place", code="past")


def _roster_check(state: Session, facts: LeaderFacts, tz: ZoneInfo, title: str) -> None:
    if facts.student_number in state.rostered:
        raise Conflict(f"{facts.student_number} is already rostered on this session")
    problem = rostering_problem(
        state.as_rota_session(),
        facts.student_number,
        facts.appointment,
        facts.availability,
        facts.commitments,
        tz,
        title,
    )
    if problem is not None:
        raise problem.error()


def _schedule(command: ScheduleSession, state: Session) -> Sequence[Event]:
    if state.scheduled:
        raise Conflict(f"session {state.session_id} already exists")
    _check_slot(
        command.starts_at,
        command.ends_at,
        command.room,
        command.capacity,
        command.max_minutes,
    )
    _check_room(
        command.room,
        command.starts_at,
        command.ends_at,
        command.room_bookings,
        command.session_id,
        command.tz,
    )
    return [
        SessionScheduled(
            session_id=command.session_id,
            scheme_id=command.scheme_id,
            starts_at=command.starts_at,
            ends_at=command.ends_at,
            room=command.room.strip(),
            capacity=command.capacity,
            series_id=command.series_id,
            teaching_week=command.teaching_week,
        )
    ]


def _reschedule(command: RescheduleSession, state: Session) -> Sequence[Event]:
    _open(state, command.now)
    _check_slot(
        command.starts_at,
        command.ends_at,
        command.room,
        command.capacity,
        command.max_minutes,
    )
    if (command.starts_at, command.ends_at, command.room.strip(), command.capacity) == (
        state.starts_at,
        state.ends_at,
        state.room,
        state.capacity,
    ):
        return []
    _check_room(
        command.room,
        command.starts_at,
        command.ends_at,
        command.room_bookings,
        state.session_id,
        command.tz,
    )
    for number in state.rostered:
        clash = first_clash(
            command.starts_at,
            command.ends_at,
            command.leader_bookings.get(number, ()),
            ignore=state.session_id,
        )
        if clash is not None:
            raise Conflict(
                f"rostered leader {number} is already booked then: {describe(clash, command.tz)}"
            )
    return [
        SessionRescheduled(
            session_id=state.session_id,
            scheme_id=state.scheme_id,
            starts_at=command.starts_at,
            ends_at=command.ends_at,
            room=command.room.strip(),
            capacity=command.capacity,
            reason=command.reason.strip(),
            teaching_week=command.teaching_week,
        )
    ]


def decide(command: Command, state: Session) -> Sequence[Event]:
    match command:
        case ScheduleSession():
            return _schedule(command, state)
        case RescheduleSession():
            return _reschedule(command, state)
        case CancelSession():
            _existing(state)
            if state.cancelled:
                raise Conflict("the session is already cancelled")
            _open(state, command.now)
            if not command.reason.strip():
                raise Rejected("say why the session is cancelled", code="reason_required")
            return [
                SessionCancelled(
                    session_id=state.session_id,
                    scheme_id=state.scheme_id,
                    reason=command.reason.strip(),
                )
            ]
        case RosterLeader():
            return decide(RosterLeaders((command.leader,), command.tz, command.leader_title), state)
        case RosterLeaders():
            _open(state)
            decided: list[Event] = []
            for facts in command.leaders:
                _roster_check(state, facts, command.tz, command.leader_title)
                event = LeaderRostered(
                    session_id=state.session_id,
                    scheme_id=state.scheme_id,
                    student_number=facts.student_number,
                )
                decided.append(event)
                state = evolve(state, event)
            return decided
        case UnrosterLeader():
            _existing(state)
            if command.student_number not in state.rostered:
                raise Rejected(
                    f"{command.student_number} is not rostered on this session",
                    code="not_rostered",
                )
            return [
                LeaderUnrostered(
                    session_id=state.session_id,
                    scheme_id=state.scheme_id,
                    student_number=command.student_number,
                    reason=command.reason.strip(),
                )
            ]
        case SwapLeader():
            _open(state)
            if command.out not in state.rostered:
                raise Rejected(
                    f"{command.out} is not rostered on this session", code="not_rostered"
                )
            without = replace(state, rostered=tuple(n for n in state.rostered if n != command.out))
            _roster_check(without, command.incoming, command.tz, command.leader_title)
            reason = command.reason.strip() or f"swapped for {command.incoming.student_number}"
            return [
                LeaderUnrostered(
                    session_id=state.session_id,
                    scheme_id=state.scheme_id,
                    student_number=command.out,
                    reason=reason,
                ),
                LeaderRostered(
                    session_id=state.session_id,
                    scheme_id=state.scheme_id,
                    student_number=command.incoming.student_number,
                ),
            ]
        case RequestSwap():
            return _request_swap(command, state)
        case AnswerSwap():
            return _answer_swap(command, state)
    raise TypeError(f"unknown command {command!r}")


def _request_swap(command: RequestSwap, state: Session) -> Sequence[Event]:
    _open(state, command.now)
    incoming = command.incoming.student_number
    if command.out not in state.rostered:
        raise Rejected(f"{command.out} is not rostered on this session", code="not_rostered")
    if incoming == command.out:
        raise Rejected("ask another leader to take your place", code="same_leader")
    if any(s.swap_id == command.swap_id for s in state.swaps):
        raise Conflict(f"swap request {command.swap_id} already exists")
    if any(s.out == command.out and s.incoming == incoming for s in state.swaps):
        raise Conflict(f"{incoming} has already been asked to take this session")
    without = replace(state, rostered=tuple(n for n in state.rostered if n != command.out))
    _roster_check(without, command.incoming, command.tz, command.leader_title)
    return [
        SwapRequested(
            swap_id=command.swap_id,
            session_id=state.session_id,
            scheme_id=state.scheme_id,
            out=command.out,
            incoming=SwapParty(student_number=incoming),
            reason=command.reason.strip(),
        )
    ]


def _answer_swap(command: AnswerSwap, state: Session) -> Sequence[Event]:
    _existing(state)
    swap = next((s for s in state.swaps if s.swap_id == command.swap_id), None)
    if swap is None:
        raise Conflict("this swap request has already been answered or withdrawn")
    allowed = swap.out if command.answer == "withdraw" else swap.incoming
    if command.by != allowed:
        raise Forbidden(
            "only the leader who asked can withdraw a swap request"
            if command.answer == "withdraw"
            else "only the leader asked can accept or decline a swap request"
        )
    answered = SwapAnswered(
        swap_id=swap.swap_id,
        session_id=state.session_id,
        scheme_id=state.scheme_id,
        outcome=OUTCOMES[command.answer],
    )
    if command.answer != "accept":
        return [answered]
    if command.incoming is None or command.incoming.student_number != swap.incoming:
        raise TypeError("accepting a swap needs the facts of the leader asked")
    _open(state, command.now)
    if swap.out not in state.rostered:
        raise Rejected(f"{swap.out} is no longer rostered on this session", code="not_rostered")
    without = replace(state, rostered=tuple(n for n in state.rostered if n != swap.out))
    _roster_check(without, command.incoming, command.tz, command.leader_title)
    return [
        answered,
        LeaderUnrostered(
            session_id=state.session_id,
            scheme_id=state.scheme_id,
            student_number=swap.out,
            reason=swap.reason or f"swapped with {swap.incoming}",
        ),
        LeaderRostered(
            session_id=state.session_id,
            scheme_id=state.scheme_id,
            student_number=swap.incoming,
        ),
    ]


def evolve(state: Session, event: Event) -> Session:
    match event:
        case SessionScheduled():
            return Session(
                session_id=event.session_id,
                scheme_id=event.scheme_id,
                scheduled=True,
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                room=event.room,
                capacity=event.capacity,
                teaching_week=event.teaching_week,
                series_id=event.series_id,
            )
        case SessionRescheduled():
            return replace(
                state,
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                room=event.room,
                capacity=event.capacity,
                teaching_week=event.teaching_week,
            )
        case SessionCancelled():
            return replace(state, cancelled=True)
        case LeaderRostered():
            return replace(state, rostered=(*state.rostered, event.student_number))
        case LeaderUnrostered():
            return replace(
                state, rostered=tuple(n for n in state.rostered if n != event.student_number)
            )
        case SwapRequested():
            swap = OpenSwap(event.swap_id, event.out, event.incoming.student_number, event.reason)
            return replace(state, swaps=(*state.swaps, swap))
        case SwapAnswered():
            return replace(state, swaps=tuple(s for s in state.swaps if s.swap_id != event.swap_id))
    return state


session_decider = Decider[Command, Session](initial=Session, decide=decide, evolve=evolve)
