"""The outcome chart of the hand-made cohort: its words, its size, nothing cut off, and the same
report drawn once."""

from __future__ import annotations

import struct

from passhub_attendance.evaluation import render
from passhub_attendance.evaluation.report import OutcomeReport, build_outcome_report
from passhub_attendance.evaluation.settings import EvaluationSettings
from tests.attendance.evaluation.test_template import hand_made

#: the chart is 13 inches wide, at 110 dots per inch
CHART_WIDTH_PX = 1430


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def report_with_titles(titles: dict[str, str]) -> OutcomeReport:
    settings = EvaluationSettings()
    return build_outcome_report("2026-27", hand_made(settings), [], settings, titles=titles)


def test_the_chart_writes_each_group_and_each_note():
    report = report_with_titles({"M1": "Calculus I", "M2": "Linear Algebra"})
    svg = render.outcomes_chart_uncached(report, "svg").decode()
    m1 = {g.key: g for g in report.modules[0].groups}
    assert m1["non_participants"].mean_mark is not None
    assert f"{m1['non_participants'].mean_mark:.1f}  n = {m1['non_participants'].count}" in svg
    assert f"{100 * m1['non_participants'].pass_rate:.0f}%  n = 6" in svg
    # M2 is graded with letters only: its bars are grade points, drawn scaled beside M1's marks
    m2 = {g.key: g for g in report.modules[1].groups}
    assert f"{m2['regular'].mean_grade_points:.2f} GP  n = {m2['regular'].count}" in svg
    assert "drawn scaled to 100" in svg
    # M2 has no occasional participants: a group too small to show, noted in both panels
    assert m2["occasional"].suppressed
    assert svg.count("fewer than 5: not shown") == 2
    assert "M1 Calculus I" in svg and "M2 Linear Algebra" in svg
    assert "not an experiment" in svg


def test_the_chart_is_drawn_at_its_own_size_and_grows_for_a_long_title():
    short = render.outcomes_chart_uncached(report_with_titles({"M1": "Calculus I"}), "png")
    assert png_size(short)[0] == CHART_WIDTH_PX
    # a title far longer than the room left of the bars: the image widens to show all of it
    long_title = "Calculus I for students of engineering, physics and the natural sciences " * 2
    long = render.outcomes_chart_uncached(report_with_titles({"M1": long_title}), "png")
    width, height = png_size(long)
    assert width > CHART_WIDTH_PX + 200
    assert height == png_size(short)[1]


def test_the_same_report_is_drawn_once():
    report = report_with_titles({"M1": "Calculus I"})
    first = render.outcomes_chart(report, "png")
    again = render.outcomes_chart(report.model_copy(deep=True), "png")
    assert again is first
    assert render.outcomes_chart(report, "png", "bands") is not first
    assert render.outcomes_chart(report, "svg")[:5] != first[:5]
    retitled = render.outcomes_chart(report_with_titles({"M1": "Analysis I"}), "png")
    assert retitled != first
