"""Value objects the rules work on: a scheduled session as attendance sees it, the sign-in
window, and who is asking."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class SessionView:
    """A session from the sessions service's events (see `projections.SessionsProjection`)."""

    session_id: str
    scheme_id: str
    starts_at: datetime
    ends_at: datetime
    room: str = ""
    cancelled: bool = False
    leaders: frozenset[str] = frozenset()
    modules: tuple[str, ...] = ()
    scheme_title: str = ""
    scheme_code: str = ""

    def is_rostered(self, student_number: str) -> bool:
        return student_number in self.leaders


@dataclass(frozen=True)
class Window:
    """When sign-in is open around a session: from `open_before` before its start until `late`
    after its end, both edges included."""

    open_before: timedelta = timedelta(minutes=15)
    late: timedelta = timedelta(0)

    def opens(self, session: SessionView) -> datetime:
        return session.starts_at - self.open_before

    def closes(self, session: SessionView) -> datetime:
        return session.ends_at + self.late


@dataclass(frozen=True)
class Actor:
    """Who sends a command: the token's subject (a student number for students and leaders),
    roles, and for an organiser the schemes they organise (named by the sessions service or
    appointed by recruitment)."""

    sub: str
    roles: frozenset[str] = field(default_factory=frozenset)
    organises: frozenset[str] = field(default_factory=frozenset)

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    def runs(self, scheme_id: str) -> bool:
        """A coordinator runs every scheme; an organiser the schemes they organise."""
        return self.has("coordinator") or (self.has("organiser") and scheme_id in self.organises)


STAFF = ("coordinator", "organiser")
READERS = ("coordinator", "organiser", "academic", "integration")
