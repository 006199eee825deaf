"""Jisc UDD `event` and `student_event` exports: the UDD's columns and codes, EVENT_ID equal
to the xAPI bridge's activity id, the expected students from the enrolments, and cells a
spreadsheet would run as formulas escaped."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from tests.attendance.helpers import cancelled, given, given_session, settings
from tests.support import Harness

BASE = "https://pass.example.ac.uk/xapi"
CSV = {"content-type": "text/csv"}


def rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode())))


async def test_event_and_student_event_files(h: Harness) -> None:
    settings(h, xapi_activity_base=BASE, local_timezone="Europe/London")
    start = datetime(2026, 10, 5, 13, 0, tzinfo=UTC)  # 14:00 BST
    await given_session(h, "S1", starts_at=start, room='=HYPERLINK("x")')
    await given_session(h, "S2", starts_at=start.replace(day=12), room="P/T/005")
    await given_session(h, "S3", starts_at=start.replace(day=19))
    await given(h, cancelled("S3"))
    enrolled = (
        "student_number,module,academic_year\n"
        "1001,PHYS101,2026-27\n"
        "1001,PHYS102,2026-27\n"
        "1002,PHYS102,2026-27\n"
        "1003,CHEM101,2026-27\n"  # not a module of the scheme
    )
    r = await h.client.post(
        "/evaluation/enrolments", content=enrolled.encode(), headers=h.auth("coordinator") | CSV
    )
    assert r.status_code == 201, r.text

    r = await h.client.get(
        "/exports/udd/event.csv?year=2026-27", headers=h.auth("integration", "data-hub")
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    header = r.content.decode().splitlines()[0]
    assert header == (
        "EVENT_ID,EVENT_NAME,EVENT_DATA_SOURCE,EVENT_DESCRIPTION,EVENT_START,EVENT_END,"
        "EVENT_LOCATION,ROOM_ID,EVENT_TYPE,EVENT_TYPE_RAW,MOD_INSTANCE_ID,COURSE_INSTANCE_ID,"
        "PROVIDED_AT"
    )
    events = rows(r.content)
    assert [e["EVENT_ID"] for e in events] == [f"{BASE}/sessions/S1", f"{BASE}/sessions/S2"]
    first = events[0]
    assert first["EVENT_NAME"] == "Physics PASS PHYS-2026-10-05-14:00"
    assert first["EVENT_START"] == "2026-10-05T13:00:00.000Z"
    assert first["EVENT_END"] == "2026-10-05T14:00:00.000Z"
    assert first["ROOM_ID"] == '\'=HYPERLINK("x")'  # a formula, escaped
    assert first["EVENT_TYPE"] == "21" and first["EVENT_TYPE_RAW"] == "PASS session"
    assert first["MOD_INSTANCE_ID"] == "PHYS101"
    assert first["EVENT_DATA_SOURCE"] == "passhub"

    r = await h.client.get(
        "/exports/udd/student_event.csv?year=2026-27&scheme=PHYS", headers=h.auth("coordinator")
    )
    assert r.status_code == 200, r.text
    assert r.content.decode().splitlines()[0] == (
        "STUDENT_EVENT_ID,EVENT_ID,STUDENT_ID,MOD_INSTANCE_ID,COURSE_INSTANCE_ID,PROVIDED_AT"
    )
    assert [(e["EVENT_ID"], e["STUDENT_ID"], e["MOD_INSTANCE_ID"]) for e in rows(r.content)] == [
        (f"{BASE}/sessions/S1", "1001", "PHYS101"),
        (f"{BASE}/sessions/S1", "1002", "PHYS102"),
        (f"{BASE}/sessions/S2", "1001", "PHYS101"),
        (f"{BASE}/sessions/S2", "1002", "PHYS102"),
    ]


async def test_udd_exports_are_for_coordinators_and_integrations_and_need_the_base(
    h: Harness,
) -> None:
    url = "/exports/udd/event.csv?year=2026-27"
    assert (await h.client.get(url)).status_code == 401
    for role in ("student", "leader", "organiser", "academic"):
        assert (await h.client.get(url, headers=h.auth(role))).status_code == 403, role
    r = await h.client.get(url, headers=h.auth("coordinator"))
    assert r.status_code == 422 and r.json()["code"] == "udd_not_configured"
    settings(h, xapi_activity_base=BASE)
    r = await h.client.get("/exports/udd/event.csv?year=next", headers=h.auth("coordinator"))
    assert r.status_code == 422 and r.json()["code"] == "invalid_year"
