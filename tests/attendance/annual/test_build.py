"""Building the report from its facts, without a database: small groups suppressed, the
commentary's words, and the same facts giving the same bytes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import orjson

from passhub_attendance.annual.commentary import pct, signed
from passhub_attendance.annual.facts import (
    AwardCount,
    GraduateCount,
    LeaderFacts,
    ModeRow,
    SchemeFacts,
    SessionFacts,
    YearFacts,
    YearHeadline,
)
from passhub_attendance.annual.report import ITEMS, build_annual_report, small
from passhub_attendance.annual.settings import AnnualSettings, outcome_key
from passhub_attendance.evaluation.settings import EvaluationSettings

NOW = datetime(2026, 7, 1, 9, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


def facts(responses: int = 4, graduates_led: int = 4) -> YearFacts:
    scheme = SchemeFacts("2025-26-BIO", "BIO", "Biology PASS", "opt_out", ["B1"], 12, 3, 30)
    return YearFacts(
        academic_year="2025-26",
        scheme=None,
        schemes=[scheme],
        modules=["B1"],
        participants=12,
        regular=3,
        attendances=30,
        sessions=[
            SessionFacts(
                "s1", scheme.scheme_id, datetime(2025, 10, 7, 13, tzinfo=UTC), None, False, 18, 2
            ),
            SessionFacts(
                "s2", scheme.scheme_id, datetime(2025, 10, 14, 13, tzinfo=UTC), "S1W3", False, 12, 2
            ),
            SessionFacts(
                "s3", scheme.scheme_id, datetime(2026, 10, 1, 13, tzinfo=UTC), None, False, 0, 0
            ),
            SessionFacts("s4", scheme.scheme_id, None, None, True, 0, 0),
        ],
        outcomes=[],
        survey={scheme.scheme_id: {i: (responses, responses) for i in ITEMS}},
        comments=None,
        leaders=LeaderFacts(6, 1, 5, 1, 4, 2, 4, [AwardCount("certificate", "granted", 3)]),
        modes=[ModeRow("2025-26", scheme.scheme_id, "opt_out", 40, 12, 30)],
        headlines=[YearHeadline("2025-26", participants=12, new=12, cumulative=12, regular=3)],
        graduates=[
            GraduateCount("2025-26", "full_time_employment", True, graduates_led),
            GraduateCount("2025-26", "unemployed", False, 10),
            GraduateCount("2025-26", "full_time_employment", False, 30),
        ],
        now=NOW,
    )


def build(f: YearFacts) -> dict:
    return build_annual_report(f, EvaluationSettings(), AnnualSettings(), "academic", LONDON, NOW)


def test_small_counts_are_hidden_but_nobody_is_said() -> None:
    assert [small(n, 5) for n in (0, 1, 4, 5, 9)] == [0, None, None, 5, 9]


def test_small_groups_are_suppressed_everywhere() -> None:
    # given 4 feedback sheets, 4 leaders among the graduates, 3 awards and one stand-down
    r = build(facts(responses=4, graduates_led=4))
    # then no rate is shown for them, and the report says why
    assert all(i["percent_agree"] is None and i["suppressed"] for i in r["survey"]["items"])
    assert r["graduate_outcomes"]["leaders"] == {
        "n": None,
        "positive": None,
        "rate": None,
        "ci_low": None,
        "ci_high": None,
        "suppressed": True,
    }
    assert r["graduate_outcomes"]["leaders_minus_non_leaders"] is None
    assert r["leaders"]["awards"]["certificate"]["granted"] is None
    assert r["leaders"]["stood_down"] is None
    words = " ".join(r["commentary"])
    assert "too few answered" in words
    assert "fewer than 5 leaders among the graduates, so no rate is shown" in words


def test_enough_makes_them_visible() -> None:
    r = build(facts(responses=20, graduates_led=8))
    assert [i["percent_agree"] for i in r["survey"]["items"]] == [100.0, 100.0, 100.0]
    assert r["graduate_outcomes"]["leaders"]["rate"] == 1.0
    assert r["graduate_outcomes"]["cohort"]["n"] == 48


def test_sessions_run_to_come_and_weeks() -> None:
    s = build(facts())["sessions"]
    # s3 starts after the report was made: to come, not run; s4 was cancelled
    assert (s["scheduled"], s["run"], s["upcoming"], s["cancelled"]) == (4, 2, 1, 1)
    assert s["mean_per_session"] == 15.0 and s["median_per_session"] == 15.0
    assert [w["week"] for w in s["per_week"]] == ["w/c 2025-10-06", "S1W3"]


def test_the_same_facts_give_the_same_bytes() -> None:
    assert orjson.dumps(build(facts())) == orjson.dumps(build(facts()))


def test_percentages_and_categories_read_as_people_write_them() -> None:
    assert [pct(x) for x in (0.93, 0.916, 1.0, 0.0)] == ["93%", "91.6%", "100%", "0%"]
    assert [signed(x) for x in (4.24, -0.3, -0.04, 0.0)] == ["+4.2", "-0.3", "+0.0", "+0.0"]
    assert outcome_key(" Full-time  employment ") == "full_time_employment"
    assert outcome_key("Employment & further study") == "employment_further_study"
