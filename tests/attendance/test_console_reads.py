"""What the coordinators' console reads and corrects: the live headcounts of today's sessions,
students who stopped coming, a staff addition with its reason, a sheet checked without being
imported, and the printable sign-in sheet."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from pypdf import PdfReader
from sqlalchemy import func, select

from passhub_shared.storage.schema import events
from tests.attendance.helpers import SCHEME, given, now, scheme_launched, session_events
from tests.support import Harness


async def event_count(h: Harness) -> int:
    async with h.runtime.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(events))).scalar_one())


async def add(h: Harness, session_id: str, number: str, reason: str = "was there") -> Any:
    return await h.client.post(
        f"/sessions/{session_id}/attendances",
        json={"student_number": number, "reason": reason},
        headers=h.auth("coordinator", "c1"),
    )


async def test_live_headcounts_of_the_sessions_on_now_and_next(h: Harness) -> None:
    await given(
        h,
        scheme_launched(),
        session_events("NOW", leaders=("L100", "L200")),
        session_events("NEXT", starts_at=now() + timedelta(minutes=55), room="P/T/006"),
        session_events("DONE", starts_at=now() - timedelta(hours=3)),
        scheme_launched("2026-27-CHEM", organisers=("o9",)),
        session_events("CHEM", scheme_id="2026-27-CHEM", room="C/1"),
    )
    leader = h.auth("leader", "L100")
    assert (await h.client.post("/sessions/NOW/leader-sign-in", headers=leader)).status_code == 201
    for n in ("1001", "1002"):
        assert (await add(h, "NOW", n)).status_code == 201

    r = await h.client.get(
        "/headcounts", params={"start": now().isoformat()}, headers=h.auth("coordinator")
    )
    assert r.status_code == 200, r.text
    page = r.json()
    ids = [s["session_id"] for s in page["sessions"]]
    assert "DONE" not in ids and ids.index("NOW") < ids.index("NEXT")
    live = {s["session_id"]: s for s in page["sessions"]}
    assert (live["NOW"]["state"], live["NOW"]["students"]) == ("now", 2)
    assert live["NOW"]["leaders_signed_in"] == ["L100"]
    assert live["NOW"]["rostered_leaders"] == ["L100", "L200"]
    assert live["NEXT"]["state"] == "next" and live["NEXT"]["students"] == 0
    assert live["NOW"]["reference"].startswith("PHYS-")

    # paged: one at a time, with the total
    r = await h.client.get("/headcounts", params={"limit": 1}, headers=h.auth("coordinator"))
    assert r.json()["total"] == page["total"] and len(r.json()["sessions"]) == 1

    # an organiser sees their schemes only
    r = await h.client.get("/headcounts", headers=h.auth("organiser", "o9"))
    assert [s["session_id"] for s in r.json()["sessions"]] == ["CHEM"]
    bad = await h.client.get(
        "/headcounts",
        params={"start": now().isoformat(), "end": (now() - timedelta(hours=1)).isoformat()},
        headers=h.auth("coordinator"),
    )
    assert bad.status_code == 422


async def test_staff_add_a_student_after_the_fact_only_with_a_reason(h: Harness) -> None:
    await given(h, scheme_launched(), session_events("S1", starts_at=now() - timedelta(hours=3)))
    before = await event_count(h)
    r = await add(h, "S1", "1001", reason="  ")
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    assert await event_count(h) == before

    r = await add(h, "S1", "1001", reason="signed the paper sheet, missed by the typist")
    assert r.status_code == 201, r.text
    assert r.json()["method"] == "import"
    audit = (await h.client.get("/sessions/S1/audit", headers=h.auth("coordinator"))).json()
    signed = [e for e in audit if e["type"].endswith("student_signed_in.v1")]
    assert signed[-1]["data"]["reason"] == "signed the paper sheet, missed by the typist"
    assert signed[-1]["actor"] == "c1"

    # an organiser of another scheme may not
    other = await h.client.post(
        "/sessions/S1/attendances",
        json={"student_number": "1002", "reason": "x"},
        headers=h.auth("organiser", "o2"),
    )
    assert other.status_code == 403


async def test_a_sheet_checked_without_importing_it(h: Harness) -> None:
    await given(h, scheme_launched(), session_events("S1", starts_at=now() - timedelta(hours=2)))
    sheet = b"session_id,student_number,role\nS1,1001,\nS1,1002,\nS1,L100,leader\n"
    before = await event_count(h)
    r = await h.client.post(
        "/imports",
        params={"dry_run": "true"},
        content=sheet,
        headers={**h.auth("coordinator"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["dry_run"] is True and preview["imported"] == 3
    assert sorted((x["student_number"], x["role"]) for x in preview["lines"]) == [
        ("1001", "student"),
        ("1002", "student"),
        ("L100", "leader"),
    ]
    assert await event_count(h) == before

    bad = b"session_id,student_number\nS1,10 01\nNOPE,1002\n"
    r = await h.client.post(
        "/imports",
        params={"dry_run": "true"},
        content=bad,
        headers={**h.auth("coordinator"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 422 and r.json()["error_count"] == 2

    r = await h.client.post(
        "/imports", content=sheet, headers={**h.auth("coordinator"), "Content-Type": "text/csv"}
    )
    assert r.status_code == 200 and r.json()["imported"] == 3 and "dry_run" not in r.json()


async def test_engagement_lists_who_stopped_and_lapsed_regulars(h: Harness) -> None:
    weeks = [now() - timedelta(weeks=w, hours=1) for w in (8, 7, 6, 5, 4, 1)]
    await given(
        h,
        scheme_launched(),
        *[session_events(f"W{i}", starts_at=t) for i, t in enumerate(weeks)],
    )
    # 2001 came twice early on; 2002 came four times then stopped; 2003 still comes
    for session, numbers in {
        "W0": ["2001", "2002", "2003"],
        "W1": ["2001", "2002"],
        "W2": ["2002"],
        "W3": ["2002", "2003"],
        "W5": ["2003"],
    }.items():
        for n in numbers:
            assert (await add(h, session, n)).status_code == 201
    staff = h.auth("coordinator")
    r = await h.client.get(f"/schemes/{SCHEME}/engagement", headers=staff)
    assert r.status_code == 200, r.text
    body = r.json()
    found = {s["student_number"]: s for s in body["students"]}
    assert set(found) == {"2001", "2002"} and body["total"] == 2
    assert (found["2001"]["kind"], found["2001"]["sessions"], found["2001"]["missed"]) == (
        "stopped",
        2,
        4,
    )
    assert (found["2002"]["kind"], found["2002"]["sessions"]) == ("lapsed", 4)

    r = await h.client.get(
        f"/schemes/{SCHEME}/engagement",
        params={"kind": "lapsed", "sort": "sessions", "order": "desc"},
        headers=staff,
    )
    assert [s["student_number"] for s in r.json()["students"]] == ["2002"]
    r = await h.client.get(
        f"/schemes/{SCHEME}/engagement", params={"limit": 1, "offset": 1}, headers=staff
    )
    assert r.json()["total"] == 2 and len(r.json()["students"]) == 1

    csv = await h.client.get(
        f"/schemes/{SCHEME}/engagement", params={"format": "csv"}, headers=staff
    )
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0] == "student_number,kind,sessions,first_attended,last_attended,missed"
    assert len(lines) == 3

    other = await h.client.get(f"/schemes/{SCHEME}/engagement", headers=h.auth("organiser", "o2"))
    assert other.status_code == 403


async def test_the_printable_sign_in_sheet(h: Harness) -> None:
    await given(h, scheme_launched(), session_events("S1", leaders=("L100",)))
    r = await h.client.get("/sessions/S1/sign-in-sheet.pdf", headers=h.auth("leader", "L100"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "Session reference: PHYS-" in text
    for column in ("Name", "Student number", "Time", "Role", "Signature"):
        assert column in text
    stranger = h.auth("leader", "L999")
    assert (
        await h.client.get("/sessions/S1/sign-in-sheet.pdf", headers=stranger)
    ).status_code == 403
    assert (
        await h.client.get("/sessions/NOPE/sign-in-sheet.pdf", headers=h.auth("coordinator"))
    ).status_code == 404


async def test_enrolments_and_results_checked_without_importing_them(h: Harness) -> None:
    csv = {**h.auth("coordinator"), "Content-Type": "text/csv"}
    enrolments = (
        b"student_number,module,academic_year\n1001,PHYS101,2026-27\n1002,PHYS101,2026-27\n"
    )
    before = await event_count(h)
    r = await h.client.post(
        "/evaluation/enrolments", params={"dry_run": "true"}, content=enrolments, headers=csv
    )
    assert r.status_code == 200, r.text
    assert r.json()["dry_run"] is True and r.json()["rows"] == 2
    assert r.json()["modules"] == ["PHYS101"]
    assert await event_count(h) == before

    bad = b"student_number,module,academic_year,mark\n1001,PHYS101,2026-27,105\n"
    r = await h.client.post(
        "/evaluation/results", params={"dry_run": "true"}, content=bad, headers=csv
    )
    assert r.status_code == 422 and r.json()["error_count"] == 1

    r = await h.client.post("/evaluation/enrolments", content=enrolments, headers=csv)
    assert r.status_code == 201 and r.json()["dry_run"] is False
    assert await event_count(h) > before
