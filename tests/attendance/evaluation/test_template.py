"""The International Center for SI's data template and the UK equivalent, for the hand-made
cohort of `cohort.py`, against figures worked out by hand; and module titles."""

from __future__ import annotations

import csv
import io

import pytest

from passhub_attendance.evaluation import render
from passhub_attendance.evaluation.report import (
    ModuleData,
    build_outcome_report,
    build_template,
    build_trend_report,
)
from passhub_attendance.evaluation.settings import EvaluationSettings
from passhub_attendance.evaluation.stats import Cohort, RawResult
from passhub_attendance.service import service
from tests.attendance.evaluation.cohort import M1_ROWS, M2_ROWS
from tests.attendance.evaluation.test_api import MATHS, build_hand_made_cohort, import_cohort
from tests.support import running_service

CSV = {"Content-Type": "text/csv"}


def hand_made(settings: EvaluationSettings) -> dict[str, ModuleData]:
    rules = settings.rules()
    m1 = Cohort.build(
        [n for _, n, _, _ in M1_ROWS],
        [RawResult(withdrawn=True) if m is None else RawResult(mark=m) for _, _, m, _ in M1_ROWS],
        [p for _, _, _, p in M1_ROWS],
        rules,
    )
    m2 = Cohort.build(
        [n for _, n, _ in M2_ROWS], [RawResult(grade=g) for _, _, g in M2_ROWS], [None] * 10, rules
    )
    return {"M1": ModuleData("M1", m1), "M2": ModuleData("M2", m2)}


def test_icsi_template_worked_by_hand():
    # given the hand-made cohort, every group shown (minimum group size 1)
    settings = EvaluationSettings(min_group_size=1)
    report = build_outcome_report("2026-27", hand_made(settings), [], settings)
    # when put in the ICSI template
    template = build_template(report, "icsi")
    m1, m2 = template.rows
    # then M1: 20 enrolled, 14 came (s07-s20)
    assert (m1["course"], m1["term"], m1["grade_measure"]) == ("M1", "2026-27", "mark")
    assert (m1["total_enrolment"], m1["si_enrolment"]) == (20, 14)
    assert m1["si_participation_rate"] == 14 / 20
    expected = {
        # group: n, mean final grade, D/F/W count (fails under 40 and the withdrawal)
        "non_participants": (6, (40 + 50 + 60 + 35 + 55 + 30) / 6, 2),  # 35, 30 fail
        "participants": (14, 793 / 13, 2),  # s10's 38 and s20 withdrawn; 13 marks
        "sessions_1_4": (8, (45 + 50 + 52 + 38 + 61 + 58 + 62 + 70) / 8, 1),
        "sessions_5_9": (3, (64 + 66 + 72) / 3, 0),
        "sessions_10_plus": (3, (75 + 80) / 2, 1),  # s20 withdrew: in n and D/F/W, no mark
    }
    for key, (n, mean, dfw) in expected.items():
        assert m1[f"{key}_suppressed"] is False
        assert m1[f"{key}_n"] == n, key
        assert m1[f"{key}_mean_final_grade"] == pytest.approx(mean), key
        assert m1[f"{key}_dfw"] == dfw, key
        assert m1[f"{key}_dfw_rate"] == pytest.approx(dfw / n), key
    # M2 has letter grades: the mean on the grade-point scale (A 4 ... F 0)
    assert (m2["total_enrolment"], m2["si_enrolment"], m2["grade_measure"]) == (
        10,
        5,
        "grade_points",
    )
    assert m2["non_participants_mean_final_grade"] == pytest.approx((4 + 3 + 2 + 1 + 0) / 5)
    assert m2["non_participants_dfw"] == 2  # D and F
    assert m2["sessions_5_9_mean_final_grade"] == pytest.approx((4 + 4 + 3 + 3 + 2) / 5)
    assert m2["sessions_5_9_dfw"] == 0
    assert m2["sessions_1_4_suppressed"] is True and m2["sessions_1_4_n"] is None  # nobody
    assert template.columns[:7] == [
        "course",
        "title",
        "term",
        "total_enrolment",
        "si_enrolment",
        "si_participation_rate",
        "grade_measure",
    ]


def test_uk_template_worked_by_hand():
    settings = EvaluationSettings(min_group_size=1)
    report = build_outcome_report("2026-27", hand_made(settings), [], settings)
    m1 = build_template(report, "uk").rows[0]
    assert (m1["module"], m1["enrolled"], m1["participants"]) == ("M1", 20, 14)
    expected = {
        # group: n, mean mark, passed, D/F/W
        "non_participants": (6, 45.0, 4, 2),
        "participants": (14, 793 / 13, 12, 2),
        "occasional": (5, (45 + 50 + 52 + 38 + 61) / 5, 4, 1),
        "regular": (9, 547 / 8, 8, 1),
    }
    for key, (n, mean, passed, dfw) in expected.items():
        assert m1[f"{key}_n"] == n, key
        assert m1[f"{key}_mean_mark"] == pytest.approx(mean), key
        assert m1[f"{key}_passed"] == passed, key
        assert m1[f"{key}_pass_rate"] == pytest.approx(passed / n), key
        assert m1[f"{key}_dfw"] == dfw, key


async def test_templates_titles_and_charts_through_the_api(database_url, nats_url):
    async with running_service(service, database_url, nats_url) as h:
        await build_hand_made_cohort(h)
        await import_cohort(h)
        coordinator = h.auth("coordinator")
        # titles: set as JSON, and imported as CSV (a later title replaces the earlier)
        r = await h.client.post(
            "/evaluation/module-titles", json={"M1": "Calculus 1"}, headers=coordinator
        )
        assert r.status_code == 201, r.text
        r = await h.client.post(
            "/evaluation/module-titles",
            content=b"module,title\nM1,Calculus I\nM2,Linear Algebra\n",
            headers=coordinator | CSV,
        )
        assert r.status_code == 201 and r.json()["modules"] == ["M1", "M2"]
        for bad in ({"M1": ""}, {"M1": 3}, [], {}):
            r = await h.client.post("/evaluation/module-titles", json=bad, headers=coordinator)
            assert r.status_code == 422 and r.json()["code"] == "invalid_titles", bad
        r = await h.client.post(
            "/evaluation/module-titles",
            content=b"module,title\nM1,A\nM1,B\n",
            headers=coordinator | CSV,
        )
        assert r.status_code == 422 and r.json()["errors"][0]["line"] == 3
        r = await h.client.post(
            "/evaluation/module-titles", json={"M1": "x"}, headers=h.auth("academic")
        )
        assert r.status_code == 403

        r = await h.client.get(
            "/evaluation/template",
            params={"year": "2026-27", "scheme": "MATHS", "format": "csv"},
            headers=h.auth("academic"),
        )
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = {row["course"]: row for row in csv.DictReader(io.StringIO(r.text))}
        m1 = rows["M1"]
        assert (m1["title"], m1["total_enrolment"], m1["si_enrolment"]) == (
            "Calculus I",
            "20",
            "14",
        )
        assert (m1["non_participants_n"], m1["non_participants_dfw"]) == ("6", "2")
        assert float(m1["non_participants_mean_final_grade"]) == 45.0
        assert (m1["sessions_1_4_n"], m1["sessions_1_4_dfw"]) == ("8", "1")
        # groups under 5 are left blank, as in every report
        assert m1["sessions_5_9_suppressed"] == "yes" and m1["sessions_5_9_n"] == ""
        r = await h.client.get(
            "/evaluation/template",
            params={"year": "2026-27", "template": "uk"},
            headers=h.auth("organiser"),
        )
        uk = {row["module"]: row for row in r.json()["rows"]}
        assert sorted(uk) == ["M1", "M2"]  # C1 has no enrolments: no row
        assert uk["M1"]["regular_mean_mark"] == 68.375
        r = await h.client.get(
            "/evaluation/template", params={"year": "2026-27", "template": "x"}, headers=coordinator
        )
        assert r.status_code == 422

        # reports read "M1 Calculus I"; a module with no enrolments is left out of the chart
        report = (
            await h.client.get("/evaluation/outcomes?year=2026-27", headers=coordinator)
        ).json()
        assert {m["id"]: m["title"] for m in report["modules"]} == {
            "C1": None,
            "M1": "Calculus I",
            "M2": "Linear Algebra",
        }
        r = await h.client.get(
            "/evaluation/outcomes", params={"year": "2026-27", "format": "svg"}, headers=coordinator
        )
        svg = r.text
        assert "M1 Calculus I" in svg and "M2 Linear Algebra" in svg
        assert "C1" not in svg
        assert "not an experiment" in svg
        r = await h.client.get(
            "/evaluation/outcomes",
            params={"year": "2026-27", "scheme": MATHS, "format": "csv"},
            headers=coordinator,
        )
        rows = list(csv.DictReader(io.StringIO(r.text)))
        comparisons = [x for x in rows if x["row"] == "comparison" and x["id"] == "M1"]
        # M1's non-participants have prior attainment, its regular participants mostly not
        assert comparisons[0]["adjusted_status"] == "prior_missing"
        assert "regular participants" in comparisons[0]["adjusted_note"]


def test_reports_of_a_year_without_enrolments_still_render():
    settings = EvaluationSettings()
    report = build_outcome_report("2026-27", {}, [], settings)
    assert report.overall is not None and report.overall.enrolled == 0
    assert report.overall.adjusted[0].status == "suppressed"
    template = build_template(report, "icsi")
    assert template.rows == []
    assert render.template_csv(template).decode().startswith("course,title,term")
    trends = build_trend_report([report], settings)
    assert trends.years == ["2026-27"] and trends.rows == []
    assert render.trends_chart(trends, "png")[:4] == b"\x89PNG"
    assert render.trends_csv(trends).decode().startswith("scope,module,title")
    assert render.outcomes_chart(report, "png")[:4] == b"\x89PNG"
