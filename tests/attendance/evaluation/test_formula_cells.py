"""Every CSV the evaluation writes is opened in a spreadsheet: a comment, a scheme title or a
module code that a spreadsheet would take for a formula comes out as text (a leading '),
and figures, negative ones included, stay numbers."""

from __future__ import annotations

import csv
import io

from passhub_attendance.service import service
from tests.attendance.evaluation.helpers import (
    give_feedback,
    launched,
    record_sessions_events,
    scheduled,
    sign_in,
)
from tests.support import Harness, running_service

SCHEME = "2026-27-EVIL"
TITLE = "@SUM(1+1)*cmd|' /C calc'!A0"
MODULES = ["-M1", "+M2"]
COMMENTS = ['=HYPERLINK("http://x")', "=cmd|' /C calc'!A0", "-2+3", "+SUM(A1:A2)", "@A1", "fine"]
CSV = {"Content-Type": "text/csv"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cells(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def no_formula_in(rows: list[dict[str, str]]) -> None:
    for row in rows:
        for column, value in row.items():
            if value.startswith(FORMULA_STARTS):
                float(value)  # only a number may start so (a negative figure)
                assert column not in ("title", "id", "module", "comment", "scheme_title")


async def test_evaluation_csvs_write_formulas_as_text(database_url: str, nats_url: str) -> None:
    async with running_service(service, database_url, nats_url) as h:
        await cohort_with_hostile_names(h)
        coordinator = h.auth("coordinator")

        r = await h.client.get(
            "/evaluation/outcomes",
            params={"year": "2026-27", "scheme": SCHEME, "format": "csv"},
            headers=coordinator,
        )
        assert r.status_code == 200, r.text
        outcomes = cells(r.text)
        no_formula_in(outcomes)
        assert {x["title"] for x in outcomes if x["scope"] == "scheme"} == {"'" + TITLE}
        assert {x["id"] for x in outcomes if x["scope"] == "module"} == {"'-M1", "'+M2"}
        assert any(x["difference"].startswith("-") for x in outcomes)  # figures stay numbers

        r = await h.client.get(
            "/evaluation/feedback/comments",
            params={"year": "2026-27", "format": "csv"},
            headers=coordinator,
        )
        assert r.status_code == 200, r.text
        comments = cells(r.text)
        no_formula_in(comments)
        assert sorted(x["comment"] for x in comments) == sorted(
            c if c == "fine" else "'" + c for c in COMMENTS
        )

        r = await h.client.get(
            "/evaluation/feedback",
            params={"year": "2026-27", "format": "csv"},
            headers=coordinator,
        )
        assert r.status_code == 200, r.text
        feedback = cells(r.text)
        no_formula_in(feedback)
        assert "'" + TITLE in {x.get("title") or x.get("scheme_title") for x in feedback}


async def cohort_with_hostile_names(h: Harness) -> None:
    rt = h.runtime
    sessions = [f"evil-{i}" for i in range(1, 7)]
    await record_sessions_events(
        rt,
        [
            launched(SCHEME, MODULES, TITLE),
            *(scheduled(s, SCHEME, i) for i, s in enumerate(sessions)),
        ],
    )
    students = [f"s{n:02d}" for n in range(1, 31)]
    attenders = students[:20]
    for i, session in enumerate(sessions, start=1):
        await sign_in(rt, session, SCHEME, attenders[: 4 * i], MODULES)
    enrolments = ["student_number,module,academic_year"]
    results = ["student_number,module,academic_year,mark"]
    for n, student in enumerate(students):
        for module in MODULES:
            enrolments.append(f"{student},{module},2026-27")
            results.append(f"{student},{module},2026-27,{40 + (n * 7) % 55}")
    coordinator = h.auth("coordinator")
    for path, lines in (("/evaluation/enrolments", enrolments), ("/evaluation/results", results)):
        r = await h.client.post(
            path, content=("\n".join(lines) + "\n").encode(), headers=coordinator | CSV
        )
        assert r.status_code == 201, r.text
    for i, comment in enumerate(COMMENTS):
        await give_feedback(rt, sessions[i], SCHEME, 4, 4, 4, comment)
