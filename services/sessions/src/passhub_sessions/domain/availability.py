"""A leader's weekly availability, in the institution's local time.

A slot is a weekday and a time window, for both semesters or for one. A session fits a
leader's availability when, in local time, it starts and ends inside one slot of its weekday
(for its semester) and its date is not one the leader said they cannot do. A leader who has
stated nothing is not available: the rota never guesses.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal, Self
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)


class Slot(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    weekday: Weekday
    starts: time
    ends: time
    #: 1 or 2 for one semester only; None for every semester
    semester: int | None = Field(default=None, ge=1, le=3)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.ends <= self.starts:
            raise ValueError(f"a {self.weekday} slot must end after it starts")
        if self.starts.tzinfo is not None or self.ends.tzinfo is not None:
            raise ValueError("slot times are local times, without a UTC offset")
        return self

    def fits(self, start: datetime, end: datetime, semester: int | None) -> bool:
        """`start` and `end` are local times of one session."""
        if WEEKDAYS[start.weekday()] != self.weekday or start.date() != end.date():
            return False
        if self.semester is not None and self.semester != semester:
            return False
        return self.starts <= start.time() and end.time() <= self.ends


class Availability(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    slots: tuple[Slot, ...] = ()
    unavailable_dates: frozenset[date] = frozenset()

    def allows(
        self, starts_at: datetime, ends_at: datetime, tz: ZoneInfo, semester: int | None
    ) -> bool:
        start = starts_at.astimezone(tz)
        end = ends_at.astimezone(tz)
        if start.date() in self.unavailable_dates:
            return False
        return any(slot.fits(start, end, semester) for slot in self.slots)
