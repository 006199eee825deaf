"""The shortlist: open applications ranked by essentials met, then desirables met."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    application_id: str
    student_number: str
    essentials_met: int
    desirables_met: int
    appointable: bool
    #: log position of the submission: among equals, the earlier application is listed first
    submitted_position: int


@dataclass(frozen=True)
class Ranked:
    #: competition ranking: equal scores share a rank (1, 2, 2, 4)
    rank: int
    candidate: Candidate


def rank(candidates: Iterable[Candidate]) -> list[Ranked]:
    """Most essentials met first, then most desirables met."""
    ordered = sorted(
        candidates, key=lambda c: (-c.essentials_met, -c.desirables_met, c.submitted_position)
    )
    ranked: list[Ranked] = []
    for i, candidate in enumerate(ordered, start=1):
        previous = ranked[-1] if ranked else None
        same = previous is not None and (
            previous.candidate.essentials_met,
            previous.candidate.desirables_met,
        ) == (candidate.essentials_met, candidate.desirables_met)
        ranked.append(Ranked(previous.rank if same and previous else i, candidate))
    return ranked
