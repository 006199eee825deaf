"""Term dates and teaching weeks.

An academic year has semesters; each semester has a first and last teaching day and breaks
(reading weeks, holidays) during which no sessions run. Weeks run Monday to Sunday; a week is a
teaching week when at least one of its weekdays (Monday to Friday) is a teaching day, and
teaching weeks are numbered within their semester: `S1W1`, `S1W2`, ..., `S2W1`, ... Breaks are
not numbered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ACADEMIC_YEAR = re.compile(r"^(\d{4})-(\d{2})$")
WEEK_LABEL = re.compile(r"^S(\d)W(\d{1,2})$")


def check_academic_year(value: str) -> str:
    """`2026-27`: four digits, a dash, and the next year's last two digits."""
    match = ACADEMIC_YEAR.match(value)
    if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise ValueError(f"academic year {value!r} must look like 2026-27")
    return value


class Break(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    starts: date
    ends: date

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.ends < self.starts:
            raise ValueError(f"break {self.name!r} ends before it starts")
        return self

    def covers(self, day: date) -> bool:
        return self.starts <= day <= self.ends


class Semester(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    number: int = Field(ge=1, le=3)
    name: str = ""
    teaching_starts: date
    teaching_ends: date
    breaks: list[Break] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.teaching_ends < self.teaching_starts:
            raise ValueError(f"semester {self.number} ends before it starts")
        return self

    def is_teaching_day(self, day: date) -> bool:
        if not self.teaching_starts <= day <= self.teaching_ends:
            return False
        return not any(b.covers(day) for b in self.breaks)


@dataclass(frozen=True)
class TeachingWeek:
    label: str
    semester: int
    number: int
    monday: date

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)


class TermDates(BaseModel):
    """One academic year's term dates (the JSON file format, see docs/sessions.md)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    academic_year: str
    semesters: list[Semester] = Field(min_length=1)

    @field_validator("academic_year")
    @classmethod
    def _year(cls, value: str) -> str:
        return check_academic_year(value)

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        numbers = [s.number for s in self.semesters]
        if len(set(numbers)) != len(numbers):
            raise ValueError("semester numbers must be distinct")
        ordered = sorted(self.semesters, key=lambda s: s.teaching_starts)
        for earlier, later in pairwise(ordered):
            if later.teaching_starts <= earlier.teaching_ends:
                raise ValueError(f"semesters {earlier.number} and {later.number} overlap")
        return self

    def semester(self, number: int) -> Semester:
        for s in self.semesters:
            if s.number == number:
                return s
        raise KeyError(number)

    def teaching_weeks(self) -> list[TeachingWeek]:
        weeks: list[TeachingWeek] = []
        for sem in sorted(self.semesters, key=lambda s: s.number):
            monday = sem.teaching_starts - timedelta(days=sem.teaching_starts.weekday())
            number = 0
            while monday <= sem.teaching_ends:
                weekdays = (monday + timedelta(days=i) for i in range(5))
                if any(sem.is_teaching_day(d) for d in weekdays):
                    number += 1
                    weeks.append(
                        TeachingWeek(f"S{sem.number}W{number}", sem.number, number, monday)
                    )
                monday += timedelta(days=7)
        return weeks

    def week_of(self, day: date) -> TeachingWeek | None:
        """The teaching week `day` is a teaching day of, if any."""
        for sem in self.semesters:
            if sem.is_teaching_day(day):
                monday = day - timedelta(days=day.weekday())
                for week in self.teaching_weeks():
                    if week.monday == monday and week.semester == sem.number:
                        return week
        return None


def semester_of_week(label: str | None) -> int | None:
    """`S2W5` -> 2; None for a session outside the teaching weeks."""
    if not label:
        return None
    match = WEEK_LABEL.match(label)
    return int(match.group(1)) if match else None
