"""Weekly series over the teaching weeks, with python-dateutil's `rrule` (RFC 5545 recurrence).

Each semester contributes one `RRULE:FREQ=WEEKLY` from its first to its last teaching day; the
days that are not teaching days (breaks, reading weeks) and any weeks the organiser skips become
`EXDATE`s of the `rruleset`. Occurrences are computed as local wall-clock times and then placed
in the institution's time zone, so a 14:00 session stays at 14:00 across the clock change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import WEEKLY, rrule, rruleset

from passhub_sessions.domain.terms import TermDates
from passhub_shared.web.errors import Rejected


@dataclass(frozen=True)
class WeeklyPattern:
    weekday: int  # 0 = Monday
    starts: time
    ends: time
    semesters: tuple[int, ...] = (1, 2)
    skip_weeks: frozenset[str] = field(default_factory=frozenset)
    #: every `interval` calendar weeks, counted from each semester's first teaching week
    interval: int = 1


@dataclass(frozen=True)
class Occurrence:
    starts_at: datetime
    ends_at: datetime
    teaching_week: str


@dataclass(frozen=True)
class SeriesPlan:
    rule: str
    occurrences: tuple[Occurrence, ...]


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def weekly_series(pattern: WeeklyPattern, terms: TermDates, tz: ZoneInfo) -> SeriesPlan:
    if not 0 <= pattern.weekday <= 6:
        raise Rejected("weekday must be 0 (Monday) to 6 (Sunday)", code="invalid_weekday")
    if pattern.ends <= pattern.starts:
        raise Rejected("a session must end after it starts", code="invalid_times")
    if not 1 <= pattern.interval <= 4:
        raise Rejected("interval must be 1 to 4 weeks", code="invalid_interval")
    if not pattern.semesters:
        raise Rejected("choose at least one semester", code="no_semester")
    weeks = terms.teaching_weeks()
    known = {w.label for w in weeks}
    unknown = sorted(pattern.skip_weeks - known)
    if unknown:
        raise Rejected(
            f"no such teaching weeks in {terms.academic_year}: {', '.join(unknown)}",
            code="unknown_week",
        )
    by_monday = {(w.semester, w.monday): w for w in weeks}

    rules = rruleset()
    text: list[str] = []
    excluded: list[datetime] = []
    for number in sorted(set(pattern.semesters)):
        try:
            semester = terms.semester(number)
        except KeyError:
            raise Rejected(
                f"{terms.academic_year} has no semester {number}", code="unknown_semester"
            ) from None
        rule = rrule(
            WEEKLY,
            interval=pattern.interval,
            byweekday=pattern.weekday,
            dtstart=datetime.combine(semester.teaching_starts, pattern.starts),
            until=datetime.combine(semester.teaching_ends, pattern.starts),
        )
        rules.rrule(rule)
        text.append(str(rule))
        for candidate in rule:
            day = candidate.date()
            week = by_monday.get((number, day - timedelta(days=day.weekday())))
            if (
                week is None
                or not semester.is_teaching_day(day)
                or week.label in pattern.skip_weeks
            ):
                rules.exdate(candidate)
                excluded.append(candidate)
    if excluded:
        text.append("EXDATE:" + ",".join(_fmt(d) for d in sorted(excluded)))

    occurrences: list[Occurrence] = []
    for start in rules:
        day = start.date()
        number = next(s.number for s in terms.semesters if s.is_teaching_day(day))
        week = by_monday[(number, day - timedelta(days=day.weekday()))]
        occurrences.append(
            Occurrence(
                starts_at=start.replace(tzinfo=tz),
                ends_at=datetime.combine(day, pattern.ends, tzinfo=tz),
                teaching_week=week.label,
            )
        )
    if not occurrences:
        raise Rejected("the pattern falls in no teaching week", code="empty_series")
    return SeriesPlan("\n".join(text), tuple(occurrences))
