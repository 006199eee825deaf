"""Who reads what of the annual report, and a bad graduate outcomes file: a clear 422 by line,
and nothing imported."""

from __future__ import annotations

from sqlalchemy import text

from passhub_attendance.service import service
from tests.attendance.annual import year as y
from tests.attendance.annual.test_report import CSV, given_the_year, report
from tests.support import running_service


async def test_organisers_read_their_schemes_academics_no_comments(database_url, nats_url):
    async with running_service(service, database_url, nats_url) as h:
        await given_the_year(h)

        # the organiser of MATHS: MATHS (by code or id), not CHEM, not every scheme
        for scheme in ("MATHS", y.MATHS):
            r = await report(h, "organiser", y.ORGANISER, scheme=scheme)
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["scheme"]["id"] == y.MATHS and body["scheme"]["mode"] == "opt_out"
            assert "comments" not in body
            assert body["participants"]["unique"] == 30  # s001-s030; s001-s005 also at CHEM
            assert body["sessions"]["run"] == 6 and body["sessions"]["cancelled"] == 1
        assert (await report(h, "organiser", y.ORGANISER, scheme="CHEM")).status_code == 403
        assert (await report(h, "organiser", y.ORGANISER)).status_code == 403
        assert (await report(h, "organiser", "ORG2", scheme="MATHS")).status_code == 403
        pdf = await report(h, "organiser", y.ORGANISER, scheme="MATHS", format="pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

        # academics: every scheme, no comments, in none of the formats
        r = await report(h, "academic")
        assert r.status_code == 200 and "comments" not in r.json()
        assert r.json()["audience"] == "academic"
        for fmt in ("csv", "pdf"):
            r = await report(h, "academic", format=fmt)
            assert r.status_code == 200
            assert b"worked examples" not in r.content

        # everything is a count: no student number of the year appears in any format
        for fmt in ("json", "csv"):
            body = (await report(h, format=fmt)).text
            for number in ("s001", "c001", "L01", "G01", "N000", "H001"):
                assert number not in body, (fmt, number)

        # the page's charts, as data URIs
        r = await report(h, "academic", charts="true")
        charts = r.json()["charts"]
        assert set(charts) == {"participants", "weekly", "survey", "modes", "graduates"}
        assert charts["survey"]["src"].startswith("data:image/png;base64,")

        assert (await report(h, "student")).status_code == 403
        no_token = await h.client.get("/annual/report", params={"year": y.YEAR})
        assert no_token.status_code == 401
        assert (await report(h, year="2025")).status_code == 422
        assert (await report(h, scheme="NOPE")).status_code == 404


async def test_a_bad_graduate_outcomes_file_is_rejected_by_line(database_url, nats_url):
    async with running_service(service, database_url, nats_url) as h:
        coordinator = h.auth("coordinator")
        bad = (
            b"student_number,academic_year,outcome\n"
            b"N1,2025-26,Full-time employment\n"
            b"N2,2025,Unemployed\n"
            b"N3,2025-26,\n"
            b"N1,2025-26,Other\n"
        )
        r = await h.client.post("/annual/graduate-outcomes", content=bad, headers=coordinator | CSV)
        assert r.status_code == 422
        body = r.json()
        assert body["code"] == "invalid_file" and body["error_count"] == 3
        assert [(e["line"], e["column"]) for e in body["errors"]] == [
            (3, "academic_year"),
            (4, "outcome"),
            (5, "student_number"),
        ]
        missing = b"student,outcome\nN1,Unemployed\n"
        r = await h.client.post(
            "/annual/graduate-outcomes", content=missing, headers=coordinator | CSV
        )
        assert r.status_code == 422 and "academic_year" in r.json()["detail"]
        async with h.runtime.engine.connect() as conn:
            events = await conn.execute(
                text("SELECT count(*) FROM events WHERE stream_id LIKE 'annual-graduate-%'")
            )
            assert events.scalar_one() == 0
        r = await h.client.post(
            "/annual/graduate-outcomes", content=bad, headers=h.auth("academic") | CSV
        )
        assert r.status_code == 403

        good = b"Student ID,Graduation Year,Category\nN1,2025/26,Full-time employment\n"
        r = await h.client.post(
            "/annual/graduate-outcomes", content=good, headers=coordinator | CSV
        )
        assert r.status_code == 201, r.text
        assert r.json()["categories"] == {"full_time_employment": 1}
        assert r.json()["academic_years"] == ["2025-26"]
