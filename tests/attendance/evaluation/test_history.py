"""Past years' attendance imported as counts: the years join the reports, a trend table and chart
across them, importing the same file twice changes nothing, and `passhub replay attendance`
gives back every report."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from passhub_attendance.service import service
from passhub_shared.operations import replay
from tests.support import Harness, running_service

OUTPUT = Path(__file__).resolve().parents[2] / "output"
YEARS = ["2023-24", "2024-25", "2025-26"]
MODULES = ["HX1", "HX2"]
CSV = {"Content-Type": "text/csv"}


def generate() -> pd.DataFrame:
    """200 students per module and year; more of them come each year, the stronger more often;
    attending 4 or more sessions adds 5 marks."""
    rng = np.random.default_rng(31)
    rows = []
    for y, year in enumerate(YEARS):
        for module in MODULES:
            prior = rng.normal(120, 20, 200).round()
            p_regular = 1 / (1 + np.exp(-(prior - 135 + 8 * y) / 8))
            regular = rng.random(200) < p_regular
            occasional = rng.random(200) < 0.3
            sessions = np.where(
                regular, rng.integers(4, 15, 200), occasional * rng.integers(1, 4, 200)
            )
            mark = np.clip(15 + 0.3 * prior + 5 * regular + rng.normal(0, 8, 200), 0, 100)
            for i in range(200):
                rows.append(
                    {
                        "student_number": f"{year[:4]}{module}{i:03d}",
                        "module": module,
                        "academic_year": year,
                        "prior": prior[i],
                        "sessions": int(sessions[i]),
                        "mark": round(float(mark[i]), 1),
                    }
                )
    return pd.DataFrame(rows)


def files(df: pd.DataFrame) -> dict[str, bytes]:
    def write(columns: list[str], rows) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows(rows)
        return out.getvalue().encode()

    keys = ["student_number", "module", "academic_year"]
    history = [
        (*r[keys], r["sessions"])
        for _, r in df.iterrows()
        if r["sessions"] or r["student_number"].endswith("0")  # some zero rows, most left out
    ]
    history.append(("VISITOR", "HX1", YEARS[0], 3))  # attended, never enrolled
    return {
        "enrolments": write([*keys, "prior_attainment"], df[[*keys, "prior"]].values.tolist()),
        "results": write([*keys, "mark"], df[[*keys, "mark"]].values.tolist()),
        "history": write([*keys, "sessions_attended"], history),
    }


async def count_events(h: Harness) -> int:
    async with h.runtime.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM events"))).scalar_one())


async def every_report(h: Harness) -> dict[str, bytes]:
    """Each report of each year, in each format whose bytes are deterministic."""
    headers = h.auth("coordinator")
    out: dict[str, bytes] = {}
    for fmt in ("json", "csv"):
        r = await h.client.get("/evaluation/trends", params={"format": fmt}, headers=headers)
        out[f"trends.{fmt}"] = r.content
        for year in YEARS:
            for path, params in (
                ("outcomes", {}),
                ("template", {"template": "icsi"}),
                ("template", {"template": "uk"}),
                ("feedback", {}),
            ):
                r = await h.client.get(
                    f"/evaluation/{path}",
                    params={"year": year, "format": fmt, **params},
                    headers=headers,
                )
                assert r.status_code == 200, r.text
                out[f"{path}-{params}-{year}.{fmt}"] = r.content
    return out


async def test_past_years_join_the_reports_and_the_trends(database_url, nats_url):
    df = generate()
    data = files(df)
    async with running_service(service, database_url, nats_url) as h:
        coordinator = h.auth("coordinator")
        for kind in ("enrolments", "results"):
            r = await h.client.post(
                f"/evaluation/{kind}", content=data[kind], headers=coordinator | CSV
            )
            assert r.status_code == 201, r.text
        r = await h.client.post(
            "/evaluation/history", content=data["history"], headers=coordinator | CSV
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["kind"] == "history" and body["academic_years"] == YEARS
        assert body["events"] == 3 and body["unchanged_years"] == []

        # the counts are events of their own, never sign-ins
        async with h.runtime.engine.connect() as conn:
            types = dict(
                (
                    await conn.execute(
                        text(
                            "SELECT type, count(*) FROM events"
                            " WHERE stream_id LIKE 'evaluation-history-%' GROUP BY type"
                        )
                    )
                ).all()
            )
        assert types == {"passhub.attendance.historical_attendance_imported.v1": 3}
        async with h.runtime.engine.connect() as conn:
            sign_ins = await conn.execute(
                text("SELECT count(*) FROM events WHERE type LIKE '%student_signed_in%'")
            )
            assert sign_ins.scalar_one() == 0

        # a past year's report counts them as sessions attended
        r = await h.client.get(
            "/evaluation/outcomes", params={"year": "2024-25"}, headers=h.auth("academic")
        )
        report = r.json()
        hx1 = next(m for m in report["modules"] if m["id"] == "HX1")
        part = df[(df["academic_year"] == "2024-25") & (df["module"] == "HX1")]
        assert hx1["enrolled"] == 200
        assert hx1["participants"] == int((part["sessions"] > 0).sum())
        regular = next(g for g in hx1["groups"] if g["key"] == "regular")
        assert regular["count"] == int((part["sessions"] >= 4).sum())
        assert regular["mean_mark"] == pytest.approx(part[part["sessions"] >= 4]["mark"].mean())

        # the trend table: every module in every year, then all modules per year
        r = await h.client.get("/evaluation/trends", headers=h.auth("organiser"))
        assert r.status_code == 200, r.text
        trends = r.json()
        assert trends["years"] == YEARS
        keys = [(row["module"], row["academic_year"]) for row in trends["rows"]]
        assert keys == [(m, y) for m in [*MODULES, "overall"] for y in YEARS]
        for row in trends["rows"]:
            part = df[df["academic_year"] == row["academic_year"]]
            if row["scope"] == "module":
                part = part[part["module"] == row["module"]]
            assert row["participation_rate"] == pytest.approx((part["sessions"] > 0).mean())
            raw = (
                part[part["sessions"] >= 4]["mark"].mean()
                - part[part["sessions"] == 0]["mark"].mean()
            )
            assert row["raw_difference"] == pytest.approx(raw, rel=1e-9)
            assert row["adjusted_status"] == "estimated"
            assert row["adjusted_ci_low"] < row["adjusted_difference"] < row["adjusted_ci_high"]
            assert row["matched_difference"] is not None
        rates = [r["participation_rate"] for r in trends["rows"] if r["module"] == "overall"]
        assert rates == sorted(rates)  # more came each year
        visitor = next(m for m in report["modules"] if m["id"] == "HX1")
        assert visitor["participants_not_enrolled"] == 0  # the visitor came in 2023-24
        first = (
            await h.client.get(
                "/evaluation/outcomes",
                params={"year": YEARS[0], "module": "HX1"},
                headers=coordinator,
            )
        ).json()
        assert first["modules"][0]["participants_not_enrolled"] == 1

        r = await h.client.get(
            "/evaluation/trends", params={"format": "csv", "module": "HX2"}, headers=coordinator
        )
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert [(x["module"], x["academic_year"]) for x in rows] == [
            *(("HX2", y) for y in YEARS),
            *(("overall", y) for y in YEARS),
        ]
        assert "adjusted_difference" in rows[0] and "matched_difference" in rows[0]
        r = await h.client.get("/evaluation/trends", params={"format": "png"}, headers=coordinator)
        assert r.status_code == 200 and r.content[:4] == b"\x89PNG"
        OUTPUT.mkdir(exist_ok=True)
        (OUTPUT / "evaluation-trends.png").write_bytes(r.content)
        r = await h.client.get(
            "/evaluation/trends",
            params={"since": "2024-25", "until": "2024-25"},
            headers=coordinator,
        )
        assert r.json()["years"] == ["2024-25"]
        r = await h.client.get("/evaluation/trends", params={"since": "2024"}, headers=coordinator)
        assert r.status_code == 422 and r.json()["code"] == "invalid_year"

        before = await every_report(h)
        events = await count_events(h)

        # the same file again changes nothing
        r = await h.client.post(
            "/evaluation/history", content=data["history"], headers=coordinator | CSV
        )
        assert r.status_code == 201
        assert r.json()["events"] == 0 and r.json()["unchanged_years"] == YEARS
        assert await count_events(h) == events
        assert await every_report(h) == before

        # one count corrected: one event, for that year only; the original again restores it
        changed = data["history"].replace(b"2024HX1000,HX1,2024-25,", b"2024HX1000,HX1,2024-25,1")
        assert changed != data["history"]
        r = await h.client.post("/evaluation/history", content=changed, headers=coordinator | CSV)
        assert r.json()["events"] == 1 and r.json()["unchanged_years"] == ["2023-24", "2025-26"]
        assert await every_report(h) != before
        r = await h.client.post(
            "/evaluation/history", content=data["history"], headers=coordinator | CSV
        )
        assert r.json()["events"] == 1
        assert await every_report(h) == before

        # a preview of the correction: what it would append, nothing saved
        events = await count_events(h)
        r = await h.client.post(
            "/evaluation/history",
            content=changed,
            params={"dry_run": "true"},
            headers=coordinator | CSV,
        )
        assert r.status_code == 200, r.text
        assert r.json()["dry_run"] is True and r.json()["events"] == 1
        assert await count_events(h) == events
        assert await every_report(h) == before

        # bad files: by line, nothing written
        events = await count_events(h)
        r = await h.client.post(
            "/evaluation/history",
            content=b"student_number,module,academic_year,sessions_attended\n"
            b"a,HX1,2024-25,two\nb,HX1,2024-25,-1\nc,HX1,24,3\n",
            headers=coordinator | CSV,
        )
        assert r.status_code == 422 and r.json()["code"] == "invalid_file"
        assert [e["line"] for e in r.json()["errors"]] == [2, 3, 4]
        assert await count_events(h) == events
        r = await h.client.post(
            "/evaluation/history", content=data["history"], headers=h.auth("academic") | CSV
        )
        assert r.status_code == 403

        # a replay from the log alone rebuilds the same tables, and every report with them
        rebuilt = await replay.rebuild(h.runtime.engine, h.runtime.store, commit=False)
        assert rebuilt.identical, rebuilt.differing_tables
        assert rebuilt.after["evaluation_historical_attendance"].split(":")[0] == str(
            len(data["history"].splitlines()) - 1
        )
        env = {**os.environ, "PASSHUB_ATTENDANCE_DATABASE_URL": h.runtime.settings.database_url}
        done = await asyncio.to_thread(
            subprocess.run,
            [str(Path(sys.executable).parent / "passhub"), "replay", "attendance"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "committed" in done.stdout
        assert await every_report(h) == before

        # the same reports from the command line
        async def report(*args: str) -> subprocess.CompletedProcess[bytes]:
            return await asyncio.to_thread(
                subprocess.run,
                [str(Path(sys.executable).parent / "passhub"), "report", *args],
                capture_output=True,
                env=env,
                timeout=120,
            )

        done = await report("trends", "--format", "csv")
        assert done.returncode == 0, done.stderr
        assert done.stdout == before["trends.csv"]
        done = await report("template", "--year", "2024-25", "--template", "uk", "-f", "csv")
        assert done.returncode == 0, done.stderr
        assert done.stdout == before["template-{'template': 'uk'}-2024-25.csv"]
        done = await report("template", "--year", "2024-25", "--template", "xx")
        assert done.returncode == 2
