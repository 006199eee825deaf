"""Bookings and clashes: a room or a leader is never in two sessions at once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Booking:
    """A scheduled (not cancelled) session that holds a room or a leader."""

    session_id: str
    scheme_id: str
    starts_at: datetime
    ends_at: datetime
    room: str = ""


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open intervals: a session ending at 14:00 does not clash with one starting then."""
    return a_start < b_end and b_start < a_end


def room_key(room: str) -> str:
    """Rooms compare without case or extra spaces: `Main 1.02` is `main  1.02`."""
    return " ".join(room.split()).casefold()


def first_clash(
    starts_at: datetime,
    ends_at: datetime,
    bookings: Iterable[Booking],
    ignore: str | None = None,
) -> Booking | None:
    clashing = [
        b
        for b in bookings
        if b.session_id != ignore and overlaps(starts_at, ends_at, b.starts_at, b.ends_at)
    ]
    return min(clashing, key=lambda b: (b.starts_at, b.session_id)) if clashing else None


def describe(booking: Booking, tz: ZoneInfo) -> str:
    """`session <id> (2026-27-PHYS, Tue 06 Oct 2026 14:00-15:00)`: how a clash is named."""
    start = booking.starts_at.astimezone(tz)
    end = booking.ends_at.astimezone(tz)
    return (
        f"session {booking.session_id} ({booking.scheme_id}, {start:%a %d %b %Y %H:%M}-{end:%H:%M})"
    )
