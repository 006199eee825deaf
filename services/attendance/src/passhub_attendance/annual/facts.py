"""What an annual report is built from: counts read from the database (see `queries`), as plain
values, so that building the report is pure and testable without one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from passhub_attendance.evaluation.report import TrendRow


@dataclass(frozen=True)
class SchemeFacts:
    scheme_id: str
    code: str
    title: str
    #: `opt_in` or `opt_out`, as the sessions service launched it; None when not launched
    mode: str | None
    modules: list[str]
    participants: int
    regular: int
    attendances: int


@dataclass(frozen=True)
class SessionFacts:
    session_id: str
    scheme_id: str
    starts_at: datetime | None
    teaching_week: str | None
    cancelled: bool
    attendance: int
    leaders: int


@dataclass(frozen=True)
class CommentFacts:
    scheme_id: str
    session_starts_at: datetime | None
    comment: str


@dataclass(frozen=True)
class AwardCount:
    kind: str
    status: str
    count: int


@dataclass(frozen=True)
class LeaderFacts:
    appointed: int
    organisers: int
    trained: int
    stood_down: int
    delivering: int
    sessions_delivered: int
    leader_sign_ins: int
    awards: list[AwardCount]


@dataclass(frozen=True)
class ModeRow:
    academic_year: str
    scheme_id: str
    mode: str
    enrolled: int
    participants: int
    attendances: int


@dataclass(frozen=True)
class GraduateCount:
    academic_year: str
    outcome: str
    leader: bool
    count: int


@dataclass
class YearHeadline:
    academic_year: str
    participants: int | None = None
    new: int | None = None
    cumulative: int | None = None
    regular: int | None = None
    sessions_run: int | None = None
    sessions_cancelled: int | None = None
    attendances_at_sessions: int | None = None
    #: item -> (agree, responses)
    survey: dict[str, tuple[int, int]] = field(default_factory=dict)
    leaders_appointed: int | None = None
    leaders_awarded: int | None = None


@dataclass
class YearFacts:
    academic_year: str
    scheme: SchemeFacts | None
    schemes: list[SchemeFacts]
    modules: list[str]
    participants: int
    regular: int
    attendances: int
    sessions: list[SessionFacts]
    outcomes: list[TrendRow]
    #: scheme -> item -> (agreeing, responses)
    survey: dict[str, dict[str, tuple[int, int]]]
    #: the feedback comments, for a coordinator's report; None for other readers
    comments: list[CommentFacts] | None
    leaders: LeaderFacts
    modes: list[ModeRow]
    headlines: list[YearHeadline]
    graduates: list[GraduateCount]
    now: datetime
