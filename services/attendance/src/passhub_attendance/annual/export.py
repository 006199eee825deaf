"""The annual report as CSV: one row per figure (`section`, `academic_year`, `item`, `metric`,
`value`), so that a spreadsheet can filter and pivot any of them; suppressed figures are blank
with a `suppressed` row beside them. Cells go through the kit's `write_csv` (text a spreadsheet
would take for a formula is written as text)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from passhub_shared.web.csvsafe import write_csv

COLUMNS = ["section", "academic_year", "item", "metric", "value"]


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


def _figures(
    section: str, year: str, item: str, values: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    for metric, value in values.items():
        if isinstance(value, dict):
            continue
        yield {
            "section": section,
            "academic_year": year,
            "item": item,
            "metric": metric,
            "value": value,
        }


def _rows(r: dict[str, Any]) -> Iterator[dict[str, Any]]:
    y = r["academic_year"]
    scope = r["scheme"]["id"] if r["scheme"] else "all schemes"
    yield from _figures(
        "report",
        y,
        scope,
        {
            "scope": r["scope"],
            "generated_at": r["generated_at"],
            "min_group_size": r["settings"]["min_group_size"],
        },
    )
    yield from _figures("participants", y, scope, r["participants"])
    ss = r["sessions"]
    yield from _figures(
        "sessions", y, scope, {k: v for k, v in ss.items() if k not in ("per_week", "per_session")}
    )
    for w in ss["per_week"]:
        yield from _figures("week", y, w["week"], {k: v for k, v in w.items() if k != "week"})
    for s in ss["per_session"]:
        yield from _figures(
            "session", y, s["session_id"], {k: v for k, v in s.items() if k != "session_id"}
        )
    for s in r["schemes"]:
        yield from _figures(
            "scheme", y, s["scheme_id"], {k: v for k, v in s.items() if k != "scheme_id"}
        )
    yield from _figures("survey", y, scope, {"responses": r["survey"]["responses"]})
    for i in r["survey"]["items"]:
        yield from _figures("survey", y, i["item"], {k: v for k, v in i.items() if k != "item"})
    for o in r["outcomes"]:
        yield from _figures(
            "outcomes", y, o["module"], {k: v for k, v in o.items() if k != "module"}
        )
    lf = r["leaders"]
    yield from _figures("leaders", y, scope, lf)
    for kind, counts in sorted(lf["awards"].items()):
        yield from _figures("awards", y, kind, counts)
    for m in r["modes"]["by_year"]:
        yield from _figures(
            "modes",
            m["academic_year"],
            m["mode"],
            {k: v for k, v in m.items() if k not in ("academic_year", "mode")},
        )
    g = r["graduate_outcomes"]
    if g is not None:
        for group in ("leaders", "non_leaders", "cohort"):
            yield from _figures("graduate_outcomes", g["academic_year"], group, g[group])
        if g["leaders_minus_non_leaders"]:
            yield from _figures(
                "graduate_outcomes",
                g["academic_year"],
                "leaders_minus_non_leaders",
                g["leaders_minus_non_leaders"],
            )
        for category, n in g["categories"].items():
            yield from _figures("graduate_categories", g["academic_year"], category, {"count": n})
    for t in r["trend"]:
        yield from _figures(
            "trend", t["academic_year"], scope, {k: v for k, v in t.items() if k != "academic_year"}
        )
    for n, sentence in enumerate(r["commentary"], start=1):
        yield from _figures("commentary", y, str(n), {"text": sentence})


def annual_csv(report: dict[str, Any]) -> bytes:
    return write_csv(COLUMNS, _rows(report), fmt=_fmt).encode("utf-8")
