"""What the other services told us about a leader's year, folded from their events.

`SessionBook` holds the sessions and schemes of a year (shared by every leader); `LeaderFacts`
one leader's appointments, training, sign-ins and the activities recorded here. Both are folded
in log order; a fold mutates the state it is given (the caller starts from a fresh one), which
keeps a year of events linear to fold.

Rules kept here:
- a session counts as delivered by a leader when the leader signed in at it, that sign-in is not
  revoked (a later sign-in counts again) and the session is not cancelled. A sign-in at a
  session whose schedule has not reached us yet counts, with no hours until it does;
- session hours come from the session's latest scheduled length;
- a leader is stood down when every scheme they were appointed to is stood down (a stand-down
  naming no scheme covers all); appointing them again makes them active again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from passhub_recognition.domain.events import ActivityKind, ActivityRecorded, ActivityStruck
from passhub_shared.contracts.attendance import AttendanceRevoked, LeaderSignedIn
from passhub_shared.contracts.recruitment import (
    LeaderAppointed,
    LeaderStoodDown,
    TrainingCompleted,
)
from passhub_shared.contracts.sessions import (
    SchemeLaunched,
    SessionCancelled,
    SessionRescheduled,
    SessionScheduled,
)
from passhub_shared.messages.events import Event

#: an appointment that named no scheme
ANY_SCHEME = "*"

SESSION_EVENTS = (SchemeLaunched, SessionScheduled, SessionRescheduled, SessionCancelled)
LEADER_EVENTS = (
    LeaderAppointed,
    LeaderStoodDown,
    TrainingCompleted,
    LeaderSignedIn,
    AttendanceRevoked,
)


@dataclass
class SessionFacts:
    scheme_id: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    cancelled: bool = False

    @property
    def hours(self) -> float:
        if self.starts_at is None or self.ends_at is None:
            return 0.0
        return max((self.ends_at - self.starts_at).total_seconds(), 0.0) / 3600.0


@dataclass
class SchemeFacts:
    scheme_id: str
    code: str
    title: str
    school: str
    academic_year: str


@dataclass
class SessionBook:
    sessions: dict[str, SessionFacts] = field(default_factory=dict)
    schemes: dict[str, SchemeFacts] = field(default_factory=dict)

    def apply(self, event: Event) -> bool:
        """Fold a sessions event; False when `event` is not one."""
        if isinstance(event, SessionScheduled | SessionRescheduled):
            session = self.sessions.setdefault(event.session_id, SessionFacts(event.scheme_id))
            session.scheme_id = event.scheme_id
            session.starts_at = event.starts_at
            session.ends_at = event.ends_at
            return True
        if isinstance(event, SessionCancelled):
            session = self.sessions.setdefault(event.session_id, SessionFacts(event.scheme_id))
            session.cancelled = True
            return True
        if isinstance(event, SchemeLaunched):
            self.schemes[event.scheme_id] = SchemeFacts(
                event.scheme_id, event.code, event.title, event.school, event.academic_year
            )
            return True
        return False

    def scheme_title(self, scheme_id: str) -> str:
        scheme = self.schemes.get(scheme_id)
        return scheme.title if scheme is not None else scheme_id


@dataclass
class Appointment:
    scheme_id: str
    appointed_on: date
    active: bool = True
    stood_down_from: date | None = None
    reason: str = ""


@dataclass
class Activity:
    activity_id: str
    kind: ActivityKind
    held_on: date
    hours: float
    struck: bool = False


@dataclass(frozen=True)
class Delivered:
    session_id: str
    scheme_id: str
    starts_at: datetime | None
    hours: float


@dataclass
class LeaderFacts:
    name: str = ""
    roles: set[str] = field(default_factory=set)
    appointments: dict[str, Appointment] = field(default_factory=dict)
    #: a stand-down that reached us with no appointment to apply to
    stray_stand_down: date | None = None
    training: dict[str, float] = field(default_factory=dict)  # training id -> hours
    signins: dict[str, bool] = field(default_factory=dict)  # session id -> standing
    signin_schemes: dict[str, str] = field(default_factory=dict)
    activities: dict[str, Activity] = field(default_factory=dict)

    # --- folding ---------------------------------------------------------------------------

    def apply(self, event: Event) -> bool:
        """Fold a leader's event; False when `event` is not one."""
        if isinstance(event, LeaderAppointed):
            self.name = event.name
            self.roles.add(event.role)
            for scheme_id in event.schemes or [ANY_SCHEME]:
                existing = self.appointments.get(scheme_id)
                on = event.appointed_on
                if existing is not None and existing.active:
                    on = min(on, existing.appointed_on)
                self.appointments[scheme_id] = Appointment(scheme_id, on)
            return True
        if isinstance(event, LeaderStoodDown):
            targets = event.schemes or list(self.appointments)
            if not self.appointments:
                self.stray_stand_down = event.effective_from
            for scheme_id in targets:
                appointment = self.appointments.get(scheme_id)
                if appointment is not None:
                    appointment.active = False
                    appointment.stood_down_from = event.effective_from
                    appointment.reason = event.reason
            return True
        if isinstance(event, TrainingCompleted):
            self.training[event.training_id] = event.hours
            return True
        if isinstance(event, LeaderSignedIn):
            self.signins[event.session_id] = True
            self.signin_schemes[event.session_id] = event.scheme_id
            return True
        if isinstance(event, AttendanceRevoked):
            if event.role == "leader" and event.session_id in self.signins:
                self.signins[event.session_id] = False
            return True
        if isinstance(event, ActivityRecorded):
            self.activities[event.activity_id] = Activity(
                event.activity_id, event.kind, event.held_on, event.hours
            )
            return True
        if isinstance(event, ActivityStruck):
            activity = self.activities.get(event.activity_id)
            if activity is not None:
                activity.struck = True
            return True
        return False

    # --- what follows from the facts ------------------------------------------------------

    @property
    def appointed(self) -> bool:
        return bool(self.appointments)

    @property
    def appointed_on(self) -> date | None:
        dates = [a.appointed_on for a in self.appointments.values()]
        return min(dates) if dates else None

    @property
    def schemes(self) -> list[str]:
        return sorted(s for s in self.appointments if s != ANY_SCHEME)

    @property
    def stood_down_on(self) -> date | None:
        """The day the leader stopped being active in every scheme, if they did."""
        if not self.appointments:
            return self.stray_stand_down
        if any(a.active for a in self.appointments.values()):
            return None
        dates = [a.stood_down_from for a in self.appointments.values() if a.stood_down_from]
        return max(dates) if dates else None

    @property
    def training_completed(self) -> bool:
        return bool(self.training)

    def delivered(self, book: SessionBook) -> list[Delivered]:
        out: list[Delivered] = []
        for session_id, standing in self.signins.items():
            if not standing:
                continue
            session = book.sessions.get(session_id)
            if session is not None and session.cancelled:
                continue
            scheme_id = session.scheme_id if session else self.signin_schemes[session_id]
            out.append(
                Delivered(
                    session_id,
                    scheme_id,
                    session.starts_at if session else None,
                    session.hours if session else 0.0,
                )
            )
        return sorted(out, key=lambda d: (d.starts_at is None, d.starts_at, d.session_id))

    def live_activities(self, kind: ActivityKind | None = None) -> list[Activity]:
        return [
            a for a in self.activities.values() if not a.struck and (kind is None or a.kind == kind)
        ]

    def training_admin_hours(self) -> float:
        return sum(self.training.values()) + sum(a.hours for a in self.live_activities())

    def mentor_meetings(self) -> int:
        return len(self.live_activities("mentor_meeting"))
