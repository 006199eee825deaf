"""Groups of a participation report: ranges of sessions attended per student per module."""

from __future__ import annotations

import re
from dataclasses import dataclass

_BAND = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)|(\+))?\s*$")


@dataclass(frozen=True)
class Group:
    """Enrolments whose student attended between `low` and `high` sessions (None: no limit)."""

    key: str
    label: str
    low: int
    high: int | None

    def contains(self, sessions: int) -> bool:
        return sessions >= self.low and (self.high is None or sessions <= self.high)

    @property
    def range_text(self) -> str:
        return range_text(self.low, self.high)


def range_text(low: int, high: int | None) -> str:
    """A range as a reader sees it: "1\u20133", "4+", "0"."""
    if high is None:
        return f"{low}+"
    if high == low:
        return str(low)
    return f"{low}\u2013{high}"


def parse_bands(spec: str) -> list[tuple[int, int | None]]:
    """`"1-4,5-9,10+"` -> [(1, 4), (5, 9), (10, None)]; a bare number is a band of one."""
    bands: list[tuple[int, int | None]] = []
    for part in spec.split(","):
        if not part.strip():
            continue
        match = _BAND.match(part)
        if match is None:
            raise ValueError(f"band {part.strip()!r} is not like 1-4, 7 or 10+")
        low = int(match.group(1))
        high: int | None = None if match.group(3) else int(match.group(2) or low)
        if low < 1:
            raise ValueError(
                f"band {part.strip()!r} must start at 1 or more (0 is non-participants)"
            )
        if high is not None and high < low:
            raise ValueError(f"band {part.strip()!r} ends before it starts")
        bands.append((low, high))
    if not bands:
        raise ValueError("at least one band is needed")
    return bands


def build_groups(regular_min: int, bands: str) -> list[Group]:
    """Non-participants (0), all participants (1+), occasional (1 to regular-1), regular
    (regular_min+), then the bands."""
    r = regular_min
    groups = [
        Group("non_participants", "Non-participants (0)", 0, 0),
        Group("participants", "All participants (1+)", 1, None),
    ]
    if r > 1:
        groups.append(Group("occasional", f"Occasional ({range_text(1, r - 1)})", 1, r - 1))
    groups.append(Group("regular", f"Regular ({r}+)", r, None))
    for low, high in parse_bands(bands):
        key = f"sessions_{low}_plus" if high is None else f"sessions_{low}_{high}"
        groups.append(Group(key, f"{range_text(low, high)} sessions", low, high))
    return groups


#: which groups a chart shows: the UK view (0 / occasional / regular) or the SI template's bands
CHART_VIEWS = ("regular", "bands")


def chart_groups(groups: list[Group], view: str) -> list[Group]:
    if view == "bands":
        return [g for g in groups if g.key == "non_participants" or g.key.startswith("sessions_")]
    return [g for g in groups if g.key in ("non_participants", "occasional", "regular")]


def find(groups: list[Group], key: str) -> Group:
    for group in groups:
        if group.key == key:
            return group
    raise KeyError(key)
