"""Server-side sorting and paging of the console's lists (frame.listing): pure."""

from __future__ import annotations

from passhub_portal.console.frame import Column, listing

COLUMNS = [
    Column("name", "Name", lambda r: r["name"]),
    Column("score", "Score", lambda r: r["score"]),
]
ROWS = [{"name": f"n{i:02d}", "score": (i * 7) % 10 if i % 5 else None} for i in range(60)]


def test_given_a_sort_key_when_listed_then_rows_are_in_that_order_with_blanks_last() -> None:
    page = listing(ROWS, COLUMNS, base="/x", sort="score", per_page=100)
    scores = [r["score"] for r in page.rows]
    present = [s for s in scores if s is not None]
    assert present == sorted(present) and scores[-12:] == [None] * 12
    down = listing(ROWS, COLUMNS, base="/x", sort="-score", per_page=100)
    assert [r["score"] for r in down.rows][:3] == [9, 9, 9] and down.rows[-1]["score"] is None
    assert down.descending and down.aria_sort("score") == "descending"


def test_given_an_unknown_sort_when_listed_then_the_default_applies() -> None:
    page = listing(ROWS, COLUMNS, base="/x", sort="drop table", default_sort="-name")
    assert page.sort == "name" and page.descending and page.rows[0]["name"] == "n59"


def test_given_a_page_when_listed_then_only_its_rows_and_the_pager_links_keep_the_filters() -> None:
    page = listing(ROWS, COLUMNS, base="/x", page="3", params={"school": "Physics", "q": ""})
    assert (page.total, page.pages, page.page) == (60, 3, 3)
    assert len(page.rows) == 10 and (page.first, page.last) == (51, 60)
    assert page.href(page=2) == "/x?school=Physics&sort=name&page=2"
    assert page.sort_href("name") == "/x?school=Physics&sort=-name"
    assert page.sort_href("score") == "/x?school=Physics&sort=score"


def test_given_a_page_out_of_range_or_not_a_number_when_listed_then_the_nearest_page() -> None:
    assert listing(ROWS, COLUMNS, base="/x", page="99").page == 3
    assert listing(ROWS, COLUMNS, base="/x", page="-1").page == 1
    assert listing(ROWS, COLUMNS, base="/x", page="two").page == 1
    empty = listing([], COLUMNS, base="/x")
    assert (empty.total, empty.pages, empty.first, empty.last) == (0, 1, 0, 0)


def test_given_a_column_of_tuples_when_sorted_then_they_compare_as_tuples_not_text() -> None:
    rows = [{"t": (0, -6)}, {"t": (0, -7)}, {"t": (1, 0)}]
    page = listing(rows, [Column("t", "T", lambda r: r["t"])], base="/x")
    assert [r["t"] for r in page.rows] == [(0, -7), (0, -6), (1, 0)]
