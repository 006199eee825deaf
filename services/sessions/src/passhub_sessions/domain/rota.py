"""Who may lead a session, and rota generation.

`rostering_problem` is the one check used everywhere a leader is put on a session: by rota
generation and by the organiser's manual changes alike. `generate_rota` is a pure, deterministic
greedy assignment: sessions in time order, each filled up to the scheme's minimum from the
eligible leaders with the fewest sessions so far (ties: the one who led longest ago, then by
student number). It never double-books a leader, never rosters an unavailable, stood-down or
non-appointed one, and reports every session it could not fill instead of leaving it short
silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from passhub_sessions.domain.availability import Availability
from passhub_sessions.domain.clashes import Booking, describe, first_clash
from passhub_sessions.domain.terms import semester_of_week
from passhub_shared.web.errors import Conflict, Rejected


@dataclass(frozen=True)
class Appointment:
    """A student's appointment to a scheme, as recruitment announced it."""

    student_number: str
    leader: bool = True
    appointed_on: date | None = None
    stood_down_from: date | None = None

    def active_on(self, day: date) -> bool:
        if not self.leader:
            return False
        if self.appointed_on is not None and day < self.appointed_on:
            return False
        return self.stood_down_from is None or day < self.stood_down_from


@dataclass(frozen=True)
class RotaSession:
    session_id: str
    scheme_id: str
    starts_at: datetime
    ends_at: datetime
    teaching_week: str | None = None
    rostered: tuple[str, ...] = ()

    def as_booking(self) -> Booking:
        return Booking(self.session_id, self.scheme_id, self.starts_at, self.ends_at)


@dataclass(frozen=True)
class Problem:
    #: not_appointed, not_yet_appointed, stood_down, no_availability, unavailable or clash
    kind: str
    message: str
    clash: Booking | None = None

    def error(self) -> Rejected:
        if self.kind == "clash":
            return Conflict(self.message)
        return Rejected(self.message, code=self.kind)


def rostering_problem(
    session: RotaSession,
    student_number: str,
    appointment: Appointment | None,
    availability: Availability | None,
    commitments: Sequence[Booking],
    tz: ZoneInfo,
    leader_title: str = "leader",
) -> Problem | None:
    """Why `student_number` may not lead `session`, or None when they may."""
    day = session.starts_at.astimezone(tz).date()
    if appointment is None or not appointment.leader:
        return Problem(
            "not_appointed",
            f"{student_number} is not an appointed {leader_title} of {session.scheme_id}",
        )
    if appointment.stood_down_from is not None and day >= appointment.stood_down_from:
        return Problem(
            "stood_down",
            f"{student_number} stood down from {session.scheme_id} "
            f"from {appointment.stood_down_from.isoformat()}",
        )
    if not appointment.active_on(day):
        return Problem(
            "not_yet_appointed",
            f"{student_number} is appointed to {session.scheme_id} only from "
            f"{appointment.appointed_on}",
        )
    if availability is None:
        return Problem("no_availability", f"{student_number} has not stated their availability yet")
    semester = semester_of_week(session.teaching_week)
    if not availability.allows(session.starts_at, session.ends_at, tz, semester):
        return Problem(
            "unavailable", f"{student_number} is not available at that time (by their availability)"
        )
    clash = first_clash(session.starts_at, session.ends_at, commitments, ignore=session.session_id)
    if clash is not None:
        return Problem(
            "clash",
            f"{student_number} is already rostered at that time: {describe(clash, tz)}",
            clash,
        )
    return None


@dataclass(frozen=True)
class RotaRequest:
    sessions: Sequence[RotaSession]
    leaders: Sequence[Appointment]
    availability: Mapping[str, Availability]
    #: each leader's other bookings (any scheme), besides the sessions being filled
    commitments: Mapping[str, Sequence[Booking]]
    minimum: int
    tz: ZoneInfo
    #: sessions each leader already leads in this scheme besides the sessions being filled
    prior_load: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Assignment:
    session_id: str
    student_number: str


@dataclass(frozen=True)
class Shortfall:
    session_id: str
    starts_at: datetime
    teaching_week: str | None
    rostered: int
    needed: int
    reason: str


@dataclass(frozen=True)
class Spread:
    leaders: int
    min: int
    max: int
    mean: float
    per_leader: Mapping[str, int]


@dataclass(frozen=True)
class RotaPlan:
    assignments: tuple[Assignment, ...]
    shortfalls: tuple[Shortfall, ...]
    spread: Spread


_REASONS = {
    "not_yet_appointed": "not yet appointed",
    "stood_down": "stood down",
    "no_availability": "no availability stated",
    "unavailable": "not available then",
    "clash": "already booked then",
}


def _shortfall_reason(problems: Counter[str], considered: int) -> str:
    if considered == 0:
        return "no other appointed leaders"
    parts = [f"{n} {_REASONS.get(kind, kind)}" for kind, n in sorted(problems.items())]
    return f"of {considered} other appointed leaders: " + ", ".join(parts)


def spread_of(load: Mapping[str, int]) -> Spread:
    counts = list(load.values())
    if not counts:
        return Spread(0, 0, 0, 0.0, {})
    return Spread(
        leaders=len(counts),
        min=min(counts),
        max=max(counts),
        mean=round(sum(counts) / len(counts), 2),
        per_leader=dict(sorted(load.items())),
    )


def generate_rota(request: RotaRequest) -> RotaPlan:
    leaders = sorted((a for a in request.leaders if a.leader), key=lambda a: a.student_number)
    by_number = {a.student_number: a for a in leaders}
    sessions = sorted(request.sessions, key=lambda s: (s.starts_at, s.session_id))

    load: Counter[str] = Counter()
    for a in leaders:
        if a.stood_down_from is None:
            load[a.student_number] += 0  # active leaders count in the spread even at zero
    for number, n in request.prior_load.items():
        load[number] += n
    busy: dict[str, list[Booking]] = {
        a.student_number: list(request.commitments.get(a.student_number, ())) for a in leaders
    }
    for s in sessions:
        for number in s.rostered:
            load[number] += 1
            busy.setdefault(number, []).append(s.as_booking())

    last_led: dict[str, int] = {}
    assignments: list[Assignment] = []
    shortfalls: list[Shortfall] = []
    for index, session in enumerate(sessions):
        need = request.minimum - len(session.rostered)
        if need <= 0:
            continue
        eligible: list[str] = []
        problems: Counter[str] = Counter()
        considered = 0
        for a in leaders:
            if a.student_number in session.rostered:
                continue
            considered += 1
            problem = rostering_problem(
                session,
                a.student_number,
                by_number[a.student_number],
                request.availability.get(a.student_number),
                busy[a.student_number],
                request.tz,
            )
            if problem is None:
                eligible.append(a.student_number)
            else:
                problems[problem.kind] += 1
        eligible.sort(key=lambda n: (load[n], last_led.get(n, -1), n))
        chosen = eligible[:need]
        for number in chosen:
            assignments.append(Assignment(session.session_id, number))
            load[number] += 1
            busy[number].append(session.as_booking())
            last_led[number] = index
        if len(chosen) < need:
            shortfalls.append(
                Shortfall(
                    session_id=session.session_id,
                    starts_at=session.starts_at,
                    teaching_week=session.teaching_week,
                    rostered=len(session.rostered) + len(chosen),
                    needed=request.minimum,
                    reason=_shortfall_reason(problems, considered),
                )
            )
    return RotaPlan(tuple(assignments), tuple(shortfalls), spread_of(load))


def first_moment(day: date, tz: ZoneInfo) -> datetime:
    """The start of `day` in local time: a leader who stood down from `day` leaves every
    session starting at or after it."""
    return datetime.combine(day, datetime.min.time(), tzinfo=tz)


@dataclass(frozen=True)
class Candidate:
    """A leader of the scheme as a candidate for one session: on it already, free to be put on
    it, or not, and why (the same check as rostering)."""

    student_number: str
    rostered: bool
    problem: Problem | None
    #: uncancelled sessions of the scheme the leader is rostered on
    load: int


@dataclass(frozen=True)
class CandidateList:
    candidates: tuple[Candidate, ...]
    needed: int
    rostered: int
    #: why the session is short, in the generator's words; None when it is not short
    why_short: str | None


def candidates_for(
    session: RotaSession,
    leaders: Sequence[Appointment],
    availability: Mapping[str, Availability],
    commitments: Mapping[str, Sequence[Booking]],
    load: Mapping[str, int],
    minimum: int,
    tz: ZoneInfo,
    leader_title: str = "leader",
) -> CandidateList:
    """Every appointed leader of the session's scheme, rostered ones first, then those who may
    be put on it (fewest sessions first), then the others with their problem. `why_short`
    counts the others' problems as the generator reports an unfillable session."""
    found: list[Candidate] = []
    problems: Counter[str] = Counter()
    considered = 0
    for a in sorted((a for a in leaders if a.leader), key=lambda a: a.student_number):
        number = a.student_number
        if number in session.rostered:
            found.append(Candidate(number, True, None, load.get(number, 0)))
            continue
        considered += 1
        problem = rostering_problem(
            session,
            number,
            a,
            availability.get(number),
            commitments.get(number, ()),
            tz,
            leader_title,
        )
        if problem is not None:
            problems[problem.kind] += 1
        found.append(Candidate(number, False, problem, load.get(number, 0)))
    found.sort(key=lambda c: (not c.rostered, c.problem is not None, c.load, c.student_number))
    on = len(session.rostered)
    free = sum(1 for c in found if not c.rostered and c.problem is None)
    short = on < minimum
    why = None
    if short:
        reasons = [f"{free} free to add"] if free else []
        if problems or not free:
            reasons.append(_shortfall_reason(problems, considered))
        why = "; ".join(reasons)
    return CandidateList(tuple(found), minimum, on, why)
