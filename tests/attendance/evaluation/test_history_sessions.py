"""Past attendance imported as session rows (one row per session attended): events of their own,
a preview that saves nothing, the same per-year counts as the counts import gives (and so the
same reports and trend table), the same file twice changing nothing, errors by line, student
numbers sealed in the log, an erased student counted anonymously, and `passhub replay
attendance` giving back every report."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from passhub_attendance.service import service
from passhub_shared.operations import replay
from tests.attendance.evaluation.test_history import (
    MODULES,
    YEARS,
    count_events,
    every_report,
    files,
    generate,
)
from tests.support import Harness, running_service

CSV = {"Content-Type": "text/csv"}
SESSIONS_TYPE = "passhub.attendance.historical_sessions_imported.v1"


def session_rows(df: pd.DataFrame) -> list[tuple[str, str, str, str, str]]:
    """One row per session each student attended: weekly from the year's first Monday of
    October; every third student's records name the session, and the records of HX2 in the
    last year list every student's fifth session twice, on the same day: once as group A,
    once as group B (two sessions that day)."""
    rows = []
    for _, r in df.iterrows():
        first = date(int(r["academic_year"][:4]), 10, 7)
        named = int(r["student_number"][-3:]) % 3 == 0
        for week in range(int(r["sessions"])):
            day = (first + timedelta(weeks=week)).isoformat()
            ref = f"week {week + 1}" if named else ""
            rows.append((r["student_number"], r["module"], r["academic_year"], day, ref))
    return rows


def write(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


HEADER = ("student_number", "module", "academic_year", "session_date", "session_ref")


async def post(h: Harness, path: str, body: bytes, role: str = "coordinator", **params):
    return await h.client.post(
        path, content=body, params=params, headers=h.auth(role) | CSV, timeout=60
    )


async def history_types(h: Harness) -> dict[str, int]:
    async with h.runtime.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT type, count(*) FROM events"
                " WHERE stream_id LIKE 'evaluation-history-%' GROUP BY type"
            )
        )
        return dict(rows.all())


async def test_session_rows_give_the_counts_reports_and_trends_of_the_counts_import(
    database_url: str, nats_url: str
) -> None:
    df = generate()
    data = files(df)
    rows = session_rows(df)
    # attended three sessions, never enrolled (as in the counts file)
    rows += [("VISITOR", "HX1", YEARS[0], f"2023-10-{day:02d}", "") for day in (9, 16, 23)]
    body = write(rows, HEADER)
    async with running_service(service, database_url, nats_url) as h:
        for kind in ("enrolments", "results"):
            r = await post(h, f"/evaluation/{kind}", data[kind])
            assert r.status_code == 201, r.text
        empty = await every_report(h)
        events = await count_events(h)

        # a preview: the file checked and counted, nothing saved
        r = await post(h, "/evaluation/history/sessions", body, dry_run="true")
        assert r.status_code == 200, r.text
        preview = r.json()
        assert preview["dry_run"] is True and preview["kind"] == "history_sessions"
        assert preview["rows"] == preview["new_rows"] == len(rows)
        assert preview["academic_years"] == YEARS and preview["modules"] == MODULES
        assert await count_events(h) == events
        assert await every_report(h) == empty

        r = await post(h, "/evaluation/history/sessions", body)
        assert r.status_code == 201, r.text
        done = r.json()
        assert {k: v for k, v in done.items() if k != "import_id"} == {
            k: v for k, v in preview.items() if k != "import_id"
        } | {"dry_run": False}
        assert done["events"] >= 3 and done["unchanged_years"] == []

        # events of their own, never sign-ins, and no student number readable in the log
        assert await history_types(h) == {SESSIONS_TYPE: done["events"]}
        async with h.runtime.engine.connect() as conn:
            signed_in = await conn.execute(
                text("SELECT count(*) FROM events WHERE type LIKE '%signed_in%'")
            )
            assert signed_in.scalar_one() == 0
            logged = (
                await conn.execute(
                    text("SELECT string_agg(data::text, '') FROM events WHERE type = :t"),
                    {"t": SESSIONS_TYPE},
                )
            ).scalar_one()
        assert "2024HX1001" not in logged and "VISITOR" not in logged and "pii:" in logged

        # the same counts as the counts import: importing those now changes no report
        by_rows = await every_report(h)
        assert by_rows != empty
        r = await post(h, "/evaluation/history", data["history"])
        assert r.status_code == 201, r.text
        assert await every_report(h) == by_rows

        # and the reports are the generated cohort's
        report = (
            await h.client.get(
                "/evaluation/outcomes", params={"year": "2024-25"}, headers=h.auth("academic")
            )
        ).json()
        hx1 = next(m for m in report["modules"] if m["id"] == "HX1")
        part = df[(df["academic_year"] == "2024-25") & (df["module"] == "HX1")]
        assert hx1["participants"] == int((part["sessions"] > 0).sum())
        regular = next(g for g in hx1["groups"] if g["key"] == "regular")
        assert regular["count"] == int((part["sessions"] >= 4).sum())
        trends = (await h.client.get("/evaluation/trends", headers=h.auth("organiser"))).json()
        for row in trends["rows"]:
            scope = df[df["academic_year"] == row["academic_year"]]
            if row["scope"] == "module":
                scope = scope[scope["module"] == row["module"]]
            assert row["participation_rate"] == pytest.approx((scope["sessions"] > 0).mean())

        # the same file twice changes nothing
        events = await count_events(h)
        r = await post(h, "/evaluation/history/sessions", body)
        assert r.status_code == 201, r.text
        again = r.json()
        assert again["events"] == 0 and again["new_rows"] == 0
        assert again["unchanged_years"] == YEARS
        assert await count_events(h) == events
        assert await every_report(h) == by_rows

        # a file adding sessions adds only those: a student of 2025-26 who never came (the
        # counts file says 0) came to five
        student = next(
            r["student_number"]
            for _, r in df.iterrows()
            if r["academic_year"] == "2025-26"
            and r["module"] == "HX2"
            and r["sessions"] == 0
            and r["student_number"].endswith("0")
        )
        extra = [(student, "HX2", "2025-26", f"2026-01-{day:02d}", "") for day in (5, 12, 19, 26)]
        # ...listed twice, and the same day twice as another session, and two rows of before
        added = write([*rows[:2], *extra, *extra, (*extra[0][:4], "group B")], HEADER)
        r = await post(h, "/evaluation/history/sessions", added)
        assert r.status_code == 201, r.text
        grown = r.json()
        assert grown["rows"] == 2 + 4 + 1 and grown["duplicate_rows"] == 4
        assert grown["new_rows"] == 5 and grown["events"] == 1
        assert grown["unchanged_years"] == ["2023-24"]
        assert grown["academic_years"] == ["2023-24", "2025-26"]
        after = await every_report(h)
        assert after != by_rows
        uk = (
            await h.client.get(
                "/evaluation/outcomes",
                params={"year": "2025-26", "module": "HX2"},
                headers=h.auth("coordinator"),
            )
        ).json()["modules"][0]
        part = df[(df["academic_year"] == "2025-26") & (df["module"] == "HX2")]
        assert uk["participants"] == int((part["sessions"] > 0).sum()) + 1
        regular = next(g for g in uk["groups"] if g["key"] == "regular")
        assert regular["count"] == int((part["sessions"] >= 4).sum()) + 1  # 5 sessions now
        async with h.runtime.engine.connect() as conn:
            held = (
                await conn.execute(
                    text(
                        "SELECT sessions, counted, listed FROM evaluation_historical_attendance"
                        " WHERE student_number = :s AND module = 'HX2'"
                        " AND academic_year = '2025-26'"
                    ),
                    {"s": student},
                )
            ).one()
        # the count imported before (0) and the five session rows: the larger, never added
        assert tuple(held) == (5, 0, 5)

        # bad files: every error by line, nothing written; coordinators only
        events = await count_events(h)
        bad = (
            b"student_number,module,academic_year,session_date\n"
            b"a,HX1,2024-25,2024-02-30\n"  # no such day
            b"b,HX1,2024-25,2023-10-09\n"  # a day of the year before
            b"c,HX1,2024-25,2024-10-14\n"  # fine
            b"d,H\x00X1,2024-25,2024-10-14\n"  # a NUL
        )
        r = await post(h, "/evaluation/history/sessions", bad)
        assert r.status_code == 422 and r.json()["code"] == "invalid_file"
        assert [(e["line"], e["column"]) for e in r.json()["errors"]] == [
            (2, "session_date"),
            (3, "session_date"),
            (5, None),
        ]
        r = await post(h, "/evaluation/history/sessions", bad, dry_run="true")
        assert r.status_code == 422
        assert await count_events(h) == events
        r = await post(h, "/evaluation/history/sessions", body, role="academic")
        assert r.status_code == 403
        r = await post(h, "/evaluation/history/sessions", body, role="organiser")
        assert r.status_code == 403

        # a replay from the log alone rebuilds the same tables; so does the command
        rebuilt = await replay.rebuild(h.runtime.engine, h.runtime.store, commit=False)
        assert rebuilt.identical, rebuilt.differing_tables
        assert rebuilt.after["evaluation_historical_sessions"].split(":")[0] == str(
            len(set(rows)) + 5
        )
        env = {**os.environ, "PASSHUB_ATTENDANCE_DATABASE_URL": h.runtime.settings.database_url}
        done_ = await asyncio.to_thread(
            subprocess.run,
            [str(Path(sys.executable).parent / "passhub"), "replay", "attendance"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert done_.returncode == 0, done_.stdout + done_.stderr
        assert "committed" in done_.stdout
        assert await every_report(h) == after

        # an erased student's sessions still count, as an anonymous participant's
        r = await h.client.post(
            "/privacy/erasures",
            json={"student_numbers": [student], "reason": "erasure request"},
            headers=h.auth("coordinator", "dpo-1"),
        )
        assert r.status_code == 200, r.text
        async with h.runtime.engine.connect() as conn:
            held = (
                await conn.execute(
                    text(
                        "SELECT student_number, sessions, counted, listed"
                        " FROM evaluation_historical_attendance"
                        " WHERE module = 'HX2' AND academic_year = '2025-26'"
                        " AND student_number NOT LIKE '2025HX2%'"
                    )
                )
            ).one()
            assert held.student_number.startswith("erased-")
            assert tuple(held)[1:] == (5, 0, 5)
            for table in ("evaluation_historical_sessions", "evaluation_historical_attendance"):
                found = await conn.execute(
                    text(f"SELECT count(*) FROM {table} WHERE student_number = :s"),
                    {"s": student},
                )
                assert found.scalar_one() == 0, table
        anonymous = (
            await h.client.get(
                "/evaluation/outcomes",
                params={"year": "2025-26", "module": "HX2"},
                headers=h.auth("coordinator"),
            )
        ).json()["modules"][0]
        assert anonymous["participants"] == uk["participants"]
        assert anonymous["enrolled"] == uk["enrolled"]
