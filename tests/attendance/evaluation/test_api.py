"""The evaluation through the attendance service's HTTP API, on real PostgreSQL and NATS."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import nats
from sqlalchemy import text
from typer.testing import CliRunner

from passhub_attendance.evaluation.cli import app as report_app
from passhub_attendance.evaluation.settings import EvaluationSettings
from passhub_attendance.service import service
from passhub_shared.messages import envelope
from passhub_shared.messaging.streams import ensure_stream
from passhub_shared.operations import replay
from tests.attendance.evaluation.cohort import M1_ROWS, M2_ROWS, enrolments_csv, results_csv
from tests.attendance.evaluation.helpers import (
    give_feedback,
    launched,
    record_sessions_events,
    revoke,
    scheduled,
    sessions_event,
    sign_in,
)
from tests.support import Harness, running_service, wait_for

OUTPUT = Path(__file__).resolve().parents[2] / "output"
MATHS = "2026-27-MATHS"
CSV = {"Content-Type": "text/csv"}


async def count_events(h: Harness) -> int:
    async with h.runtime.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM events"))).scalar_one())


async def import_cohort(h: Harness) -> None:
    coordinator = h.auth("coordinator", "coord-1")
    r = await h.client.post(
        "/evaluation/enrolments?prior_measure=entry%20tariff",
        content=enrolments_csv(),
        headers=coordinator | CSV,
    )
    assert r.status_code == 201, r.text
    assert r.json()["rows"] == 30 and r.json()["academic_years"] == ["2026-27"]
    r = await h.client.post(
        "/evaluation/results",
        files={"file": ("results.csv", results_csv(), "text/csv")},
        headers=coordinator,
    )
    assert r.status_code == 201, r.text
    assert r.json()["rows"] == 30 and r.json()["modules"] == ["M1", "M2"]


async def build_hand_made_cohort(h: Harness) -> None:
    """The cohort of `cohort.py`, with the traps a count must not fall into."""
    rt = h.runtime
    sessions = [f"maths-{i}" for i in range(1, 13)]
    await record_sessions_events(rt, [scheduled(s, MATHS, i) for i, s in enumerate(sessions)])
    # Half the sign-ins arrive before the scheme (with no modules on them): counted once the
    # scheme's modules are known.
    early = [(st, n) for st, n, _, _ in M1_ROWS if n and st <= "s10"]
    for i, session in enumerate(sessions, start=1):
        await sign_in(rt, session, MATHS, [st for st, n in early if n >= i])
    await record_sessions_events(
        rt,
        [
            launched(MATHS, ["M1", "M2"], "Mathematics PASS"),
            launched("2026-27-CHEM", ["C1"]),
            launched("2025-26-MATHS", ["M1"]),
            scheduled("chem-1", "2026-27-CHEM"),
            scheduled("old-1", "2025-26-MATHS"),
        ],
    )
    late = [(st, n) for st, n, _, _ in M1_ROWS if n and st > "s10"]
    late += [(st, n) for st, n, _ in M2_ROWS if n]
    for i, session in enumerate(sessions, start=1):
        await sign_in(rt, session, MATHS, [st for st, n in late if n >= i], ["M1", "M2"])
    await sign_in(rt, "maths-1", MATHS, ["s07"], ["M1", "M2"])  # twice: one attendance
    await sign_in(rt, "maths-5", MATHS, ["s12"], ["M1", "M2"])  # s12: a 5th, then revoked
    await revoke(rt, "maths-5", MATHS, "s12")
    await revoke(rt, "maths-1", MATHS, "s13", role="leader")  # a leader's revocation: not s13's
    await sign_in(rt, "chem-1", "2026-27-CHEM", ["s01"], ["C1"])  # another scheme's module
    await sign_in(rt, "old-1", "2025-26-MATHS", ["s02"], ["M1"])  # last year's M1
    await sign_in(rt, "maths-1", MATHS, ["x99"], ["M1", "M2"])  # attended, never enrolled


def by_key(summary: dict) -> dict[str, dict]:
    return {g["key"]: g for g in summary["groups"]}


async def test_outcomes_for_the_hand_made_cohort(database_url, nats_url):
    async with running_service(service, database_url, nats_url) as h:
        await build_hand_made_cohort(h)
        await import_cohort(h)
        r = await h.client.get(
            "/evaluation/outcomes",
            params={"year": "2026-27", "scheme": "MATHS"},
            headers=h.auth("academic", "prof-1"),
        )
        assert r.status_code == 200, r.text
        report = r.json()
        assert report["academic_year"] == "2026-27"
        modules = {m["id"]: m for m in report["modules"]}
        assert sorted(modules) == ["M1", "M2"]

        m1 = modules["M1"]
        assert (m1["enrolled"], m1["with_result"], m1["participants"]) == (20, 20, 14)
        assert m1["participation_rate"] == 14 / 20
        assert m1["participants_not_enrolled"] == 6  # t06-t10 (M2 students) and x99
        assert m1["measure"] == "mark" and m1["prior_measure"] == "entry tariff"
        assert m1["schemes"] == [MATHS]
        g = by_key(m1)
        assert g["non_participants"]["count"] == 6  # s01's CHEM and s02's 2025-26 sessions
        assert g["non_participants"]["mean_mark"] == 45.0  # (40+50+60+35+55+30) / 6
        assert g["non_participants"]["pass_rate"] == 4 / 6
        assert g["non_participants"]["dfw_rate"] == 2 / 6
        assert g["non_participants"]["mean_prior"] == 125.0
        assert g["occasional"]["count"] == 5  # s07 (once, though twice signed in), s08-s11
        assert g["occasional"]["mean_mark"] == 246 / 5
        assert g["regular"]["count"] == 9  # s12 stays at 4 (5th revoked); s13's 4 kept
        assert g["regular"]["mean_mark"] == 547 / 8
        assert g["regular"]["pass_rate"] == 8 / 9 and g["regular"]["dfw_rate"] == 1 / 9
        assert g["regular"]["mean_prior"] is None  # only 3 values
        assert g["sessions_1_4"]["count"] == 8 and g["sessions_1_4"]["mean_mark"] == 436 / 8
        assert g["sessions_5_9"] == {**g["sessions_5_9"], "suppressed": True, "count": None}
        assert g["sessions_10_plus"]["suppressed"] and g["sessions_10_plus"]["mean_mark"] is None
        comparison = m1["comparisons"][0]
        assert (comparison["group_a"], comparison["group_b"]) == ("regular", "non_participants")
        assert abs(comparison["outcome"]["difference"] - 23.375) < 1e-9
        assert comparison["outcome"]["p_value"] < 0.01
        assert comparison["outcome"]["cohens_d"] > 2
        assert comparison["prior"] is None

        m2 = modules["M2"]
        assert m2["measure"] == "grade_points"
        g2 = by_key(m2)
        assert g2["non_participants"]["mean_grade_points"] == 2.0
        assert g2["regular"]["mean_grade_points"] == 3.2
        assert g2["non_participants"]["dfw_rate"] == 2 / 5
        assert g2["occasional"]["suppressed"]  # nobody attended 1-3 times

        (scheme,) = report["schemes"]
        assert scheme["id"] == MATHS and scheme["title"] == "Mathematics PASS"
        assert scheme["modules"] == ["M1", "M2"]
        assert (scheme["enrolled"], scheme["participants"]) == (30, 19)
        gs = by_key(scheme)
        assert gs["non_participants"]["count"] == 11
        assert gs["non_participants"]["mean_mark"] == 45.0  # marks only where there are marks
        assert gs["regular"]["count"] == 14
        assert gs["regular"]["pass_rate"] == 13 / 14

        # the same figures as CSV
        r = await h.client.get(
            "/evaluation/outcomes",
            params={"year": "2026-27", "scheme": MATHS, "format": "csv"},
            headers=h.auth("organiser", "org-1"),
        )
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        regular = next(
            x for x in rows if x["id"] == "M1" and x["row"] == "group" and x["group"] == "regular"
        )
        assert float(regular["mean_mark"]) == 68.375 and regular["count"] == "9"
        small = next(x for x in rows if x["id"] == "M1" and x["group"] == "sessions_5_9")
        assert small["suppressed"] == "yes" and small["count"] == "" and small["mean_mark"] == ""

        # and as charts
        for fmt, magic in (("png", b"\x89PNG"), ("svg", b"<svg")):
            r = await h.client.get(
                "/evaluation/outcomes",
                params={"year": "2026-27", "scheme": MATHS, "format": fmt},
                headers=h.auth("coordinator"),
            )
            assert r.status_code == 200
            assert r.headers["content-type"].startswith(f"image/{fmt}")
            assert magic in r.content[:400]
        OUTPUT.mkdir(exist_ok=True)
        (OUTPUT / "evaluation-outcomes-hand-made.png").write_bytes(
            (
                await h.client.get(
                    "/evaluation/outcomes",
                    params={"year": "2026-27", "scheme": MATHS, "format": "png", "chart": "bands"},
                    headers=h.auth("coordinator"),
                )
            ).content
        )

        # the whole year: every module covered by a scheme of the year, every scheme
        r = await h.client.get(
            "/evaluation/outcomes", params={"year": "2026-27"}, headers=h.auth("coordinator")
        )
        whole = r.json()
        assert [m["id"] for m in whole["modules"]] == ["C1", "M1", "M2"]
        assert [s["id"] for s in whole["schemes"]] == ["2026-27-CHEM", MATHS]
        c1 = whole["modules"][0]
        assert (c1["enrolled"], c1["participants_not_enrolled"]) == (0, 1)

        # a replay from the log alone gives the same tables
        rebuilt = await replay.rebuild(h.runtime.engine, h.runtime.store, commit=False)
        assert "evaluation_module_attendance" in rebuilt.after
        # 20 MATHS attendees x (M1, M2), s01 on C1, s02 on last year's M1
        assert rebuilt.after["evaluation_module_attendance"].split(":")[0] == "42"
        assert rebuilt.identical, rebuilt.differing_tables


async def test_results_import_can_replace_a_module(database_url, nats_url):
    async with running_service(service, database_url, nats_url) as h:
        await import_cohort(h)
        coordinator = h.auth("coordinator")
        corrected = b"student_number,module,academic_year,mark\ns01,M1,2026-27,90\n"
        r = await h.client.post("/evaluation/results", content=corrected, headers=coordinator | CSV)
        assert r.status_code == 201
        report = (
            await h.client.get("/evaluation/outcomes?year=2026-27&module=M1", headers=coordinator)
        ).json()
        (m1,) = report["modules"]
        # nobody attended here: all 20 are non-participants, 19 with marks (s20 withdrew),
        # which add up to 1063 with s01's 40 now 90
        assert by_key(m1)["non_participants"]["mean_mark"] == (1063 - 40 + 90) / 19
        assert m1["with_result"] == 20

        r = await h.client.post(
            "/evaluation/results?replace=true", content=corrected, headers=coordinator | CSV
        )
        assert r.json()["replaced_modules"] == ["M1"]
        report = (
            await h.client.get("/evaluation/outcomes?year=2026-27&module=M1", headers=coordinator)
        ).json()
        assert report["modules"][0]["with_result"] == 1  # M1's earlier results are gone
        rebuilt = await replay.rebuild(h.runtime.engine, h.runtime.store, commit=False)
        assert rebuilt.identical, rebuilt.differing_tables


async def test_a_bad_file_is_rejected_by_line_and_nothing_is_written(database_url, nats_url):
    async with running_service(service, database_url, nats_url) as h:
        coordinator = h.auth("coordinator")
        before = await count_events(h)
        bad = (
            b"student_number,module,academic_year,mark,grade\n"
            b"s01,M1,2026-27,55,\n"
            b"s02,M1,2026-27,105,\n"
            b"s03,M1,2026-27,,Q\n"
        )
        r = await h.client.post("/evaluation/results", content=bad, headers=coordinator | CSV)
        assert r.status_code == 422
        body = r.json()
        assert body["code"] == "invalid_file" and body["error_count"] == 2
        assert [(e["line"], e["column"]) for e in body["errors"]] == [(3, "mark"), (4, "grade")]
        assert "nothing was imported" in body["detail"]

        r = await h.client.post(
            "/evaluation/enrolments", content=b"student_number,module\n", headers=coordinator | CSV
        )
        assert r.status_code == 422 and r.json()["errors"][0]["line"] == 1
        r = await h.client.post("/evaluation/enrolments", content=b"", headers=coordinator | CSV)
        assert r.status_code == 422 and r.json()["code"] == "no_file"
        r = await h.client.post(
            "/evaluation/enrolments", files={"other": ("x.csv", b"a")}, headers=coordinator
        )
        assert r.status_code == 422 and r.json()["code"] == "no_file"
        h.runtime.state["evaluation_settings"] = EvaluationSettings(max_import_bytes=100)
        r = await h.client.post(
            "/evaluation/enrolments", content=enrolments_csv(), headers=coordinator | CSV
        )
        assert r.status_code == 422 and r.json()["code"] == "too_large"
        assert await count_events(h) == before
        async with h.runtime.engine.connect() as conn:
            for table in ("evaluation_enrolments", "evaluation_results"):
                n = (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
                assert n == 0, table

        for params, status in (
            ({"year": "2026"}, 422),
            ({"year": "2026-28"}, 422),
            ({"year": "2026-27", "scheme": "NOPE"}, 404),
            ({"year": "2026-27", "format": "pdf"}, 422),
            ({"year": "2026-27", "chart": "pie"}, 422),
            ({}, 422),
        ):
            r = await h.client.get("/evaluation/outcomes", params=params, headers=coordinator)
            assert r.status_code == status, (params, r.text)
            assert "detail" in r.json()


async def test_roles(database_url, nats_url):
    async with running_service(service, database_url, nats_url) as h:
        q = "?year=2026-27"
        for method, path in (
            ("GET", "/evaluation/outcomes" + q),
            ("GET", "/evaluation/feedback" + q),
            ("GET", "/evaluation/feedback/comments" + q),
            ("POST", "/evaluation/enrolments"),
            ("POST", "/evaluation/results"),
        ):
            r = await h.client.request(method, path, content=b"a,b\n", headers=CSV)
            assert r.status_code == 401, path
        for role in ("student", "leader", "integration"):
            r = await h.client.get("/evaluation/outcomes" + q, headers=h.auth(role, "1234"))
            assert r.status_code == 403, role
        for role in ("organiser", "academic", "leader"):
            r = await h.client.post(
                "/evaluation/enrolments", content=enrolments_csv(), headers=h.auth(role) | CSV
            )
            assert r.status_code == 403, role
        for role in ("coordinator", "organiser", "academic"):
            r = await h.client.get("/evaluation/outcomes" + q, headers=h.auth(role))
            assert r.status_code == 200, role
        r = await h.client.get("/evaluation/feedback/comments" + q, headers=h.auth("organiser"))
        assert r.status_code == 403
        assert await count_events(h) == 0


async def test_survey_results_and_comments(database_url, nats_url):
    async with running_service(service, database_url, nats_url) as h:
        rt = h.runtime
        # the scheme arrives from the sessions service over NATS, as in production
        nc = await nats.connect(nats_url)
        try:
            js = nc.jetstream()
            await ensure_stream(js, "sessions", 1, 120.0)
            for i, event in enumerate(
                [
                    launched(MATHS, ["M1"], "Mathematics PASS"),
                    scheduled("maths-1", MATHS, 0),
                    scheduled("maths-2", MATHS, 1),
                ]
            ):
                recorded = sessions_event(event, f"nats-{i}")
                await js.publish(
                    recorded.subject,
                    envelope.encode(recorded),
                    headers={"Nats-Msg-Id": str(recorded.id)},
                )
        finally:
            await nc.close()

        async def scheme_known() -> bool:
            async with rt.engine.connect() as conn:
                n = await conn.execute(text("SELECT count(*) FROM evaluation_sessions"))
                return n.scalar_one() == 2

        await wait_for(scheme_known)
        for u, e, rec, comment in (
            (5, 4, 5, "Really helped with proofs"),
            (4, 3, 4, ""),
            (3, 5, 2, "Too fast"),
            (2, 2, 1, ""),
        ):
            await give_feedback(rt, "maths-1", MATHS, u, e, rec, comment)
        await give_feedback(rt, "maths-2", MATHS, 4, 4, 4, "Good", student="s01")
        await give_feedback(rt, "maths-2", MATHS, 5, 5, 5)
        await give_feedback(rt, "chem-1", "2026-27-CHEM", 1, 1, 1, "other scheme")
        await give_feedback(rt, "old-1", "2025-26-MATHS", 5, 5, 5, "last year")

        r = await h.client.get(
            "/evaluation/feedback",
            params={"year": "2026-27", "scheme": MATHS},
            headers=h.auth("coordinator"),
        )
        assert r.status_code == 200, r.text
        report = r.json()
        (scheme,) = report["schemes"]
        assert scheme["title"] == "Mathematics PASS" and scheme["responses"] == 6
        items = {i["item"]: i for i in scheme["items"]}
        understanding = items["understanding"]
        assert understanding["agree"] == 4  # 5, 4, 4, 5 of 5, 4, 3, 2, 4, 5
        assert understanding["percent_agree"] == 400 / 6
        assert understanding["distribution"] == {"1": 0, "2": 1, "3": 1, "4": 2, "5": 2}
        assert understanding["headline"] == (
            "67% agreed that attending PASS improved their understanding (n = 6)"
        )
        assert items["recommend"]["agree"] == 4
        first, second = scheme["sessions"]
        assert (first["session_id"], first["responses"]) == ("maths-1", 4)
        assert first["starts_at"].startswith("2026-10-05")
        assert {i["item"]: i["percent_agree"] for i in first["items"]} == {
            "understanding": 50.0,
            "enjoyable": 50.0,
            "recommend": 50.0,
        }
        assert second["responses"] == 2
        comments = [c["comment"] for c in report["comments"]]
        assert comments == ["Really helped with proofs", "Too fast", "Good"]
        assert all("student_number" not in c for c in report["comments"])

        r = await h.client.get(
            "/evaluation/feedback", params={"year": "2026-27"}, headers=h.auth("organiser")
        )
        whole = r.json()
        assert whole["comments"] is None  # comments are for coordinators only
        assert [s["scheme_id"] for s in whole["schemes"]] == ["2026-27-CHEM", MATHS]
        assert whole["schemes"][0]["title"] is None  # known only from its feedback

        r = await h.client.get(
            "/evaluation/feedback/comments",
            params={"year": "2026-27", "format": "csv"},
            headers=h.auth("coordinator"),
        )
        assert [x["comment"] for x in csv.DictReader(io.StringIO(r.text))] == [
            "other scheme",
            "Really helped with proofs",
            "Too fast",
            "Good",
        ]
        r = await h.client.get(
            "/evaluation/feedback",
            params={"year": "2026-27", "format": "csv"},
            headers=h.auth("academic"),
        )
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert {(x["scheme_id"], x["session_id"], x["item"]): x["percent_agree"] for x in rows}[
            (MATHS, "", "understanding")
        ].startswith("66.66")
        for fmt in ("png", "svg"):
            r = await h.client.get(
                "/evaluation/feedback",
                params={"year": "2026-27", "scheme": MATHS, "format": fmt},
                headers=h.auth("coordinator"),
            )
            assert r.status_code == 200 and r.headers["content-type"].startswith(f"image/{fmt}")
            if fmt == "png":
                OUTPUT.mkdir(exist_ok=True)
                (OUTPUT / "evaluation-feedback.png").write_bytes(r.content)
            else:  # sessions labelled with their local start: 12:00 UTC in October is 13:00 BST
                assert b"05 Oct 2026 13:00 BST" in r.content
        rebuilt = await replay.rebuild(rt.engine, rt.store, commit=False)
        assert rebuilt.identical, rebuilt.differing_tables


async def test_the_report_command(database_url, nats_url, tmp_path, monkeypatch):
    async with running_service(service, database_url, nats_url) as h:
        await build_hand_made_cohort(h)
        await import_cohort(h)
    monkeypatch.setenv("PASSHUB_ATTENDANCE_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)

    # as an operator runs it: the `passhub` command finds `report` through its entry point
    done = await asyncio.to_thread(
        subprocess.run,
        [
            str(Path(sys.executable).parent / "passhub"),
            "report",
            "outcomes",
            "--year",
            "2026-27",
            "--scheme",
            "MATHS",
            "--format",
            "json",
        ],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    report = json.loads(done.stdout)
    m1 = next(m for m in report["modules"] if m["id"] == "M1")
    assert by_key(m1)["regular"]["mean_mark"] == 68.375

    runner = CliRunner()

    async def run(*args: str):
        # in a thread: the command runs its own event loop
        return await asyncio.to_thread(runner.invoke, report_app, list(args))

    done = await run("outcomes", "--year", "2026-27", "--format", "png")
    assert done.exit_code == 0, done.output
    assert (tmp_path / "outcomes-2026-27.png").read_bytes()[:4] == b"\x89PNG"
    done = await run("outcomes", "-y", "2026-27", "-s", MATHS, "-f", "svg", "-o", "chart.svg")
    assert done.exit_code == 0 and b"<svg" in (tmp_path / "chart.svg").read_bytes()[:400]
    done = await run("outcomes", "--year", "2026-27", "--format", "csv", "--module", "M2")
    assert done.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert {r["id"] for r in rows if r["scope"] == "module"} == {"M2"}
    done = await run("feedback", "--year", "2026-27", "--format", "csv", "-o", "feedback.csv")
    assert done.exit_code == 0
    assert (tmp_path / "feedback.csv").read_text().startswith("academic_year,scheme_id")
    done = await run("feedback", "--year", "2026-27", "--comments")
    assert done.exit_code == 0 and json.loads(done.stdout) == []
    done = await run("outcomes", "--year", "2026-27", "--scheme", "NOPE")
    assert done.exit_code == 1 and "no scheme" in done.output
    done = await run("outcomes", "--year", "27")
    assert done.exit_code == 2
    done = await run("outcomes", "--year", "2026-27", "--format", "pdf")
    assert done.exit_code == 2


def coded_results_csv(year: str = "2026-27") -> bytes:
    """The cohort's results as a records system exports them: an outcome code per row
    (P, F, W) instead of yes/no flags, and no `withdrawn` column."""
    lines = ["Student ID,Module Code,Academic Year,Final Mark,Grade,Outcome"]
    for student, _, mark, _ in M1_ROWS:
        if mark is None:
            lines.append(f"{student},M1,{year},,,W")
        else:
            lines.append(f"{student},M1,{year},{mark},,{'P' if mark >= 40 else 'F'}")
    for student, _, grade in M2_ROWS:
        lines.append(f"{student},M2,{year},,{grade},{'F' if grade == 'F' else 'P'}")
    return ("\n".join(lines) + "\n").encode()


async def test_results_coded_pass_fail_withdrawn_give_the_same_report(database_url, nats_url):
    async with running_service(service, database_url, nats_url) as h:
        await build_hand_made_cohort(h)
        coordinator = h.auth("coordinator", "coord-1")
        r = await h.client.post(
            "/evaluation/enrolments", content=enrolments_csv(), headers=coordinator | CSV
        )
        assert r.status_code == 201, r.text
        r = await h.client.post(
            "/evaluation/results", content=coded_results_csv(), headers=coordinator | CSV
        )
        assert r.status_code == 201, r.text
        assert r.json()["rows"] == 30
        r = await h.client.get(
            "/evaluation/outcomes",
            params={"year": "2026-27", "scheme": "MATHS"},
            headers=coordinator,
        )
        modules = {m["id"]: m for m in r.json()["modules"]}
        m1 = modules["M1"]
        assert m1["with_result"] == 20  # s20's W is a result
        g = by_key(m1)
        # s20 (12 sessions, W): in the regular group's n and its D/F/W, not in its mean mark
        assert g["regular"]["count"] == 9
        assert g["regular"]["mean_mark"] == 547 / 8
        assert g["regular"]["pass_rate"] == 8 / 9 and g["regular"]["dfw_rate"] == 1 / 9
        assert g["non_participants"]["pass_rate"] == 4 / 6
        assert g["non_participants"]["dfw_rate"] == 2 / 6
        g2 = by_key(modules["M2"])
        assert g2["non_participants"]["dfw_rate"] == 2 / 5  # D by the scale, F by its code
        assert r.json()["settings"]["outcome_codes"] == {"P": "pass", "F": "fail", "W": "withdrawn"}
