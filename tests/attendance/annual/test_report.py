"""The annual report of a generated year states exactly the figures the year was made with, in
its JSON, its CSV and the text of its PDF (read back with pypdf); a page is rendered to PNG for
a person to look at; who may read what; and a replay of the log gives back the same report."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from pypdf import PdfReader
from sqlalchemy import text
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from passhub_attendance.annual.api import render_pdf
from passhub_attendance.service import service
from tests.attendance.annual import year as y
from tests.support import Harness, running_service

OUTPUT = Path(__file__).resolve().parents[2] / "output" / "annual"
CSV = {"Content-Type": "text/csv"}


async def given_the_year(h: Harness) -> None:
    coordinator = h.auth("coordinator")
    await y.sessions_service(h.runtime)
    await y.attendance(h.runtime)
    await y.recruitment_and_recognition(h.runtime)
    for path, body in (
        ("/evaluation/enrolments", y.enrolments()),
        ("/evaluation/results", y.results()),
        ("/evaluation/history", y.history()),
        ("/annual/graduate-outcomes", y.graduate_outcomes()),
    ):
        r = await h.client.post(path, content=body, headers=coordinator | CSV)
        assert r.status_code == 201, r.text


async def report(h: Harness, role: str = "coordinator", sub: str = "user-1", **params: str):
    return await h.client.get(
        "/annual/report", params={"year": y.YEAR, **params}, headers=h.auth(role, sub)
    )


def pdf_text(body: bytes) -> str:
    reader = PdfReader(io.BytesIO(body))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def without_time(body: bytes, generated_at: str) -> bytes:
    stamp = generated_at.replace("T", " ").encode()
    return body.replace(generated_at.encode(), b"<t>").replace(stamp, b"<t>")


async def test_the_report_states_the_year_as_it_was_made(database_url, nats_url):
    async with running_service(service, database_url, nats_url) as h:
        await given_the_year(h)
        r = await report(h)
        assert r.status_code == 200, r.text
        body = r.json()
        e = y.EXPECTED

        assert body["participants"] == e["participants"] | {"regular_min": 4}
        sessions = body["sessions"]
        for key, value in e["sessions"].items():
            assert sessions[key] == value, key
        assert [w["attendances"] for w in sessions["per_week"]] == e["per_week"]
        assert sessions["per_week"][0]["week"] == "w/c 2025-10-06"
        assert {i["item"]: i["percent_agree"] for i in body["survey"]["items"]} == e["survey"]
        assert [i["responses"] for i in body["survey"]["items"]] == [100, 100, 100]

        modes = {m["mode"]: m for m in body["modes"]["by_year"] if m["academic_year"] == y.YEAR}
        for mode, (enrolled, came, rate, per) in e["modes"].items():
            m = modes[mode]
            assert (m["enrolled"], m["participants"]) == (enrolled, came)
            assert m["participation_rate"] == pytest.approx(rate)
            assert m["attendances_per_enrolled"] == pytest.approx(per)
        assert "differ in more than their mode" in body["modes"]["note"]

        leaders = body["leaders"]
        for key, value in e["leaders"].items():
            assert leaders[key] == value, key
        assert leaders["stood_down"] is None  # one leader: too few to show
        assert leaders["awards"] == {"certificate": {"granted": 7, "withheld": 5, "withdrawn": 0}}

        g = body["graduate_outcomes"]
        for group, (n, positive) in e["graduates"].items():
            assert (g[group]["n"], g[group]["positive"]) == (n, positive), group
            low, high = proportion_confint(positive, n, method="wilson")
            assert (g[group]["ci_low"], g[group]["ci_high"]) == (
                pytest.approx(low, abs=1e-6),
                pytest.approx(high, abs=1e-6),
            )
        low, high = confint_proportions_2indep(23, 25, 147, 175, method="newcomb")
        d = g["leaders_minus_non_leaders"]
        assert d["difference"] == pytest.approx(23 / 25 - 147 / 175, abs=1e-6)
        assert (d["ci_low"], d["ci_high"]) == (
            pytest.approx(low, abs=1e-6),
            pytest.approx(high, abs=1e-6),
        )

        # participation against outcomes: the evaluation's figures, raw and adjusted
        outcomes = (
            await h.client.get(
                "/evaluation/trends",
                params={"since": y.YEAR, "until": y.YEAR},
                headers=h.auth("coordinator"),
            )
        ).json()["rows"]
        m1 = next(o for o in body["outcomes"] if o["module"] == "M1")
        same = next(o for o in outcomes if o["module"] == "M1")
        assert m1["raw_difference"] == pytest.approx(same["raw_difference"])
        assert m1["adjusted_difference"] == pytest.approx(same["adjusted_difference"])
        assert m1["adjusted_status"] == "estimated"

        # year on year: last year from the imported counts, this year from sign-ins
        trend = {t["academic_year"]: t for t in body["trend"]}
        assert (trend[y.LAST]["participants"], trend[y.LAST]["new_participants"]) == (35, 35)
        assert trend[y.LAST]["leaders_appointed"] == 13
        assert trend[y.YEAR]["cumulative_participants"] == 65
        assert trend[y.YEAR]["understanding_percent_agree"] == 93.0
        assert trend[y.YEAR]["leaders_positive_rate"] == pytest.approx(0.92)

        words = " ".join(body["commentary"])
        for phrase in (
            "40 students attended PASS in 2025-26 (30 for the first time)",
            "65 students have attended since 2024-25",
            "10 sessions ran and 2 were cancelled",
            "93% agreed that attending improved their understanding of subject content",
            "89% found it enjoyable",
            "100% would recommend it",
            "Opt-in schemes reached 20% of their enrolled students with 0.40 attendances",
            "opt-out (timetabled) schemes reached 75% of their enrolled students with 2.25",
            "92% of PASS leaders graduating in 2025-26",
            "against 85% of all graduates (n = 200)",
            "observational",
        ):
            assert phrase in words, phrase
        assert body["comments"][0]["comment"] == "The worked examples helped."

        # the CSV holds the same figures
        r = await report(h, format="csv")
        assert r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        figure = {(x["section"], x["item"], x["metric"]): x["value"] for x in rows}
        assert figure[("participants", "all schemes", "cumulative")] == "65"
        assert figure[("survey", "understanding", "percent_agree")] == "93"
        assert figure[("graduate_outcomes", "leaders", "rate")] == "0.92"

        # the PDF says the same in its text, and a page of it is looked at
        r = await report(h, format="pdf")
        assert r.headers["content-type"] == "application/pdf"
        pdf = r.content
        words_in_pdf = pdf_text(pdf)
        for phrase in (
            "PASS annual report 2025-26",
            "40 students attended PASS in 2025-26 (30 for the first time)",
            "93% agreed that attending improved",
            "89% found it enjoyable",
            "100% would recommend it",
            "92% of PASS leaders",
            "75%",
            "The worked examples helped.",
        ):
            assert phrase in words_in_pdf, phrase
        OUTPUT.mkdir(parents=True, exist_ok=True)
        (OUTPUT / "annual-report-2025-26.pdf").write_bytes(pdf)
        assert shutil.which("pdftoppm"), "pdftoppm (poppler-utils) renders the PDF's pages"
        await asyncio.to_thread(
            subprocess.run,
            [
                "pdftoppm",
                "-png",
                "-r",
                "70",
                "-f",
                "1",
                "-l",
                "3",
                str(OUTPUT / "annual-report-2025-26.pdf"),
                str(OUTPUT / "annual-report-2025-26"),
            ],
            check=True,
        )
        assert (OUTPUT / "annual-report-2025-26-1.png").stat().st_size > 10_000

        # `passhub replay attendance` gives back the same report, apart from when it was made
        json_before, pdf_before = (await report(h)).content, pdf
        env = {**os.environ, "PASSHUB_ATTENDANCE_DATABASE_URL": h.runtime.settings.database_url}
        done = await cli(env, "replay", "attendance")
        assert done.returncode == 0, done.stdout + done.stderr
        assert b"committed" in done.stdout
        async with h.runtime.engine.connect() as conn:
            held = await conn.execute(text("SELECT count(*) FROM annual_graduate_outcomes"))
            assert held.scalar_one() == 200
        after = await report(h)
        assert without_time(after.content, after.json()["generated_at"]) == without_time(
            json_before, _generated(json_before)
        )
        # the PDF is drawn from the report alone: the same report, the same bytes
        before, now = orjson.loads(json_before), after.json()
        assert render_pdf(now | {"generated_at": before["generated_at"]}) == render_pdf(before)
        pdf_after = (await report(h, format="pdf")).content
        assert _masked(pdf_text(pdf_after)) == _masked(pdf_text(pdf_before))

        # and from the command line, given the time it was first made: the very same bytes
        at = ["--year", y.YEAR, "--generated-at", before["generated_at"]]
        done = await cli(env, "report", "annual", *at, "--format", "json")
        assert done.returncode == 0, done.stderr
        assert done.stdout == json_before
        done = await cli(env, "report", "annual", *at, "--format", "pdf", "--output", "-")
        assert done.returncode == 0, done.stderr
        assert done.stdout == render_pdf(before)
        done = await cli(env, "report", "annual", "--year", "2025", "--format", "pdf")
        assert done.returncode == 2


async def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    return await asyncio.to_thread(
        subprocess.run,
        [str(Path(sys.executable).parent / "passhub"), *args],
        capture_output=True,
        env=env,
        timeout=300,
    )


def _masked(words: str) -> str:
    return re.sub(r"Generated \S+ \S+", "Generated <t>", words)


def _generated(body: bytes) -> str:
    return str(orjson.loads(body)["generated_at"])
