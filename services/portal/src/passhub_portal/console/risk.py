"""Who will miss an award's requirement at the current pace: the sessions each leader still
needs against the sessions left for them in the rota. Pure: the progress (recognition's) and
the rota (the sessions service's) come in as arguments."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: risk levels, most urgent first (the sort order of the progress page)
LEVELS = ("will_miss", "tight", "training", "on_track", "met", "stood_down")
WORDS = {
    "will_miss": "Will miss",
    "tight": "Tight",
    "training": "Training missing",
    "on_track": "On track",
    "met": "Requirements met",
    "stood_down": "Stood down",
}
#: a leader with no more than this many rostered sessions to spare is "tight"
MARGIN = 1


@dataclass(frozen=True)
class Risk:
    student_number: str
    name: str
    schemes: list[str]
    delivered: int
    #: sessions still needed for the most demanding enabled award (0: none needed)
    needed: int
    #: scheduled sessions to come on which the leader is rostered
    left: int
    training_missing: bool
    level: str
    #: the other requirements not met yet, in recognition's words
    missing: list[str] = field(default_factory=list)
    last_rostered: str | None = None

    @property
    def shortfall(self) -> int:
        return max(0, self.needed - self.left)

    @property
    def words(self) -> str:
        return WORDS[self.level]

    @property
    def order(self) -> tuple[int, int, int, str]:
        return (LEVELS.index(self.level), -self.shortfall, -self.needed, self.name.casefold())


def sessions_left(
    sessions: Iterable[Mapping[str, Any]], now: datetime
) -> dict[str, tuple[int, str | None]]:
    """Per leader: how many scheduled sessions to come they are rostered on, and the start of
    the last one (ISO)."""
    left: dict[str, tuple[int, str | None]] = {}
    for s in sessions:
        if s.get("status") != "scheduled" or datetime.fromisoformat(s["starts_at"]) <= now:
            continue
        for leader in s.get("leaders") or []:
            number = leader["student_number"]
            count, last = left.get(number, (0, None))
            left[number] = (count + 1, max(last or "", s["starts_at"]))
    return left


def assess(progress: Mapping[str, Any], left: int, last: str | None = None) -> Risk:
    """One leader's risk from their progress (recognition's `GET /progress/{year}` entry) and
    the sessions left for them in the rota."""
    needed = 0
    training_missing = False
    missing: list[str] = []
    unmet = False
    for kind in progress["awards"]:
        if not kind["enabled"]:
            continue
        for check in kind["requirements"]:
            if check["met"]:
                continue
            unmet = True
            if check["code"] == "sessions":
                needed = max(needed, int((check["required"] or 0) - (check["actual"] or 0)))
            elif check["code"] == "training":
                training_missing = True
            elif check["detail"] not in missing:
                missing.append(check["detail"])
    if progress.get("stood_down_on"):
        level = "stood_down"
    elif needed > left:
        level = "will_miss"
    elif needed and left - needed <= MARGIN:
        level = "tight"
    elif training_missing:
        level = "training"
    elif unmet:
        level = "on_track"
    else:
        level = "met"
    return Risk(
        student_number=progress["student_number"],
        name=progress["name"],
        schemes=list(progress.get("schemes") or []),
        delivered=int(progress["sessions_delivered"]),
        needed=needed,
        left=left,
        training_missing=training_missing,
        level=level,
        missing=missing,
        last_rostered=last,
    )


def by_risk(
    progress: Iterable[Mapping[str, Any]], left: Mapping[str, tuple[int, str | None]]
) -> list[Risk]:
    """Every leader's risk, most urgent first."""
    found = [assess(p, *left.get(p["student_number"], (0, None))) for p in progress]
    return sorted(found, key=lambda r: r.order)
