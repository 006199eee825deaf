"""The shortlist ranks by essentials met, then desirables met."""

from __future__ import annotations

from passhub_recruitment.domain.shortlist import Candidate, rank


def candidate(name: str, essentials: int, desirables: int, position: int) -> Candidate:
    return Candidate(name, name, essentials, desirables, essentials == 9, position)


def test_essentials_first_then_desirables_then_the_earlier_application() -> None:
    ranked = rank(
        [
            candidate("a", 8, 3, 1),
            candidate("b", 9, 0, 2),
            candidate("c", 9, 2, 3),
            candidate("d", 9, 2, 4),
            candidate("e", 7, 3, 5),
        ]
    )
    assert [(r.rank, r.candidate.application_id) for r in ranked] == [
        (1, "c"),
        (1, "d"),
        (3, "b"),
        (4, "a"),
        (5, "e"),
    ]


def test_an_empty_shortlist() -> None:
    assert rank([]) == []
