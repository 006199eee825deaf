"""The JSON API against a real PostgreSQL: sign-in four ways, corrections, feedback, queries,
and the role checks and bad input of each."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from passhub_attendance.domain.attendance import Presence, SignIn, attendance, stream_id
from passhub_attendance.domain.feedback import guard_of, guard_stream
from passhub_attendance.domain.qr import QrCodes
from passhub_attendance.queries import sessions_to_write
from passhub_attendance.settings import AttendanceSettings
from passhub_attendance.tables import scheduled_sessions
from passhub_shared.contracts.attendance import StudentSignedIn
from passhub_shared.operations.secretkeys import generate_secret
from passhub_shared.storage.schema import events
from tests.attendance.helpers import SCHEME, cancelled, given, given_session, now, settings
from tests.support import Harness


async def own_events(h: Harness) -> list[Any]:
    """The service's own events as the store reads them (sealed fields opened)."""
    async with h.runtime.engine.connect() as conn:
        return [
            e
            async for batch in h.runtime.store.read_all(conn)
            for e in batch
            if e.origin == "attendance"
        ]


async def pseudonym(h: Harness, student_number: str) -> str:
    async with h.runtime.transaction() as conn:
        return await h.runtime.store.pseudonym(conn, student_number)


async def event_count(h: Harness) -> int:
    async with h.runtime.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(events))).scalar_one())


async def code_for(h: Harness, session_id: str = "S1", leader: str = "L100") -> str:
    r = await h.client.get(f"/sessions/{session_id}/qr-code", headers=h.auth("leader", leader))
    assert r.status_code == 200, r.text
    # the portal's sign-in page (PASSHUB_ATTENDANCE_PUBLIC_URL is the portal's address)
    assert r.json()["url"] == f"http://test/s/{r.json()['code']}"
    return str(r.json()["code"])


async def headcount(h: Harness, session_id: str = "S1") -> dict[str, Any]:
    r = await h.client.get(f"/sessions/{session_id}/headcount", headers=h.auth("coordinator"))
    assert r.status_code == 200, r.text
    return dict(r.json())


# -- QR ----------------------------------------------------------------------------------------


async def test_qr_sign_in_twice_is_one_attendance(h: Harness) -> None:
    await given_session(h)
    code = await code_for(h)
    first = await h.client.post(
        "/sessions/S1/sign-in", json={"code": code}, headers=h.auth("student", "1234567")
    )
    assert first.status_code == 201, first.text
    assert first.json() | {"signed_in_at": None} == {
        "session_id": "S1",
        "scheme_id": SCHEME,
        "student_number": "1234567",
        "role": "student",
        "method": "qr",
        "signed_in_at": None,
        "created": True,
    }
    again = await h.client.post(
        "/sessions/S1/sign-in", json={"code": code}, headers=h.auth("student", "1234567")
    )
    assert again.status_code == 200
    assert again.json() == first.json() | {"created": False}
    mine = await own_events(h)
    assert [e.type for e in mine] == [StudentSignedIn.type_name()]
    assert mine[0].data["modules"] == ["PHYS101", "PHYS102"]
    assert mine[0].actor == "1234567"
    assert mine[0].stream_id == f"attendance-S1/{await pseudonym(h, '1234567')}"
    assert await headcount(h) == {"session_id": "S1", "students": 1, "leaders": 0}


async def test_sign_in_needs_a_token_and_a_student(h: Harness) -> None:
    await given_session(h)
    code = await code_for(h)
    no_token = await h.client.post("/sessions/S1/sign-in", json={"code": code})
    assert no_token.status_code == 401
    staff = await h.client.post(
        "/sessions/S1/sign-in", json={"code": code}, headers=h.auth("coordinator", "c1")
    )
    assert staff.status_code == 403
    assert await own_events(h) == []


async def test_a_student_cannot_sign_in_as_someone_else(h: Harness) -> None:
    await given_session(h)
    code = await code_for(h)
    r = await h.client.post(
        "/sessions/S1/sign-in",
        json={"code": code, "student_number": "7654321"},
        headers=h.auth("student", "1234567"),
    )
    assert r.status_code == 403
    assert "cannot sign in 7654321" in r.json()["detail"]
    assert await own_events(h) == []


async def test_a_code_is_refused_just_after_its_documented_lifetime(h: Harness) -> None:
    """A code works for `qr_validity_seconds` after it was shown, and the grace to log in after
    a scan does not extend it (it once worked 170 s after it was issued)."""
    await given_session(h)
    s = settings(h, qr_validity_seconds=60, qr_grace_seconds=120)
    codes = QrCodes(s.qr_secret, timedelta(seconds=60))
    for age in (63, 170):
        old = codes.issue("S1", now() - timedelta(seconds=age))
        r = await h.client.post(
            "/sessions/S1/sign-in", json={"code": old}, headers=h.auth("student", "1234567")
        )
        assert r.status_code == 403, (age, r.text)
        assert r.json()["code"] == "code_expired"
    assert await own_events(h) == []


async def test_a_code_just_within_its_lifetime_is_accepted(h: Harness) -> None:
    await given_session(h)
    s = settings(h, qr_validity_seconds=60, qr_grace_seconds=120)
    fresh = QrCodes(s.qr_secret, timedelta(seconds=60)).issue("S1", now() - timedelta(seconds=57))
    r = await h.client.post(
        "/sessions/S1/sign-in", json={"code": fresh}, headers=h.auth("student", "1234567")
    )
    assert r.status_code == 201


async def test_the_time_to_log_in_runs_from_the_scan_not_from_the_code(h: Harness) -> None:
    """A code scanned 50 s after it was shown is exchanged for a scan receipt (by the portal's
    own account, before the student logs in); the receipt signs in within the grace after the
    scan, when the code itself has expired; a code already expired gets no receipt."""
    await given_session(h, "S1")
    await given_session(h, "S2")
    s = settings(h, qr_validity_seconds=60, qr_grace_seconds=120)
    codes = QrCodes(s.qr_secret, timedelta(seconds=60), timedelta(seconds=120))
    portal = h.auth("integration", "passhub-portal")
    shown = codes.issue("S1", now() - timedelta(seconds=50))
    given = await h.client.post("/sessions/S1/scan-receipt", json={"code": shown}, headers=portal)
    assert given.status_code == 200, given.text
    receipt = given.json()["receipt"]
    # the code alone is refused from 60 s on; the receipt is what the portal sends
    student = h.auth("student", "1234567")
    for session, status in (("S2", 403), ("S1", 201)):
        r = await h.client.post(
            f"/sessions/{session}/sign-in", json={"receipt": receipt}, headers=student
        )
        assert r.status_code == status, r.text
    both = await h.client.post(
        "/sessions/S1/sign-in", json={"receipt": receipt, "code": shown}, headers=student
    )
    assert both.status_code == 422 and both.json()["code"] == "code_or_receipt"
    # an expired code, another session's code, and a receipt from after the grace
    expired = codes.issue("S1", now() - timedelta(seconds=61))
    r = await h.client.post("/sessions/S1/scan-receipt", json={"code": expired}, headers=portal)
    assert r.status_code == 403 and r.json()["code"] == "code_expired"
    r = await h.client.post("/sessions/S2/scan-receipt", json={"code": shown}, headers=portal)
    assert r.status_code == 403 and r.json()["code"] == "code_invalid"
    late = codes.receipt(
        codes.issue("S2", now() - timedelta(seconds=130)), now() - timedelta(seconds=125)
    )
    r = await h.client.post("/sessions/S2/sign-in", json={"receipt": late}, headers=student)
    assert r.status_code == 403 and r.json()["code"] == "code_expired"


async def test_a_tampered_or_foreign_code_is_refused(h: Harness) -> None:
    await given_session(h, "S1")
    await given_session(h, "S2")
    code = await code_for(h, "S1")
    forged = "S2" + code[2:]
    for body, session in (({"code": forged}, "S2"), ({"code": code}, "S2")):
        r = await h.client.post(
            f"/sessions/{session}/sign-in", json=body, headers=h.auth("student", "1234567")
        )
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "code_invalid"
    other_key = QrCodes("n" * 43, timedelta(seconds=60)).issue("S1", now())
    r = await h.client.post(
        "/sessions/S1/sign-in", json={"code": other_key}, headers=h.auth("student", "1234567")
    )
    assert r.status_code == 403
    assert await own_events(h) == []


async def test_bad_input_is_a_clear_422(h: Harness) -> None:
    await given_session(h)
    r = await h.client.post(
        "/sessions/S1/sign-in", json={"qr": "x"}, headers=h.auth("student", "1234567")
    )
    assert r.status_code == 422
    assert r.json()["code"] == "code_or_receipt"
    r = await h.client.post(
        "/sessions/S1/attendances",
        json={"student_number": "12 34; drop"},
        headers=h.auth("leader", "L100"),
    )
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_student_number"
    assert await own_events(h) == []


# -- the window and the session ----------------------------------------------------------------


async def test_sign_in_is_refused_before_the_window_opens(h: Harness) -> None:
    await given_session(h, starts_at=now() + timedelta(minutes=30))
    code = await code_for(h)
    r = await h.client.post(
        "/sessions/S1/sign-in", json={"code": code}, headers=h.auth("student", "1234567")
    )
    assert r.status_code == 422
    assert r.json()["code"] == "sign_in_not_open"
    assert await own_events(h) == []


async def test_late_sign_in_follows_the_setting(h: Harness) -> None:
    await given_session(h, starts_at=now() - timedelta(minutes=65), minutes=60)
    code = await code_for(h)
    r = await h.client.post(
        "/sessions/S1/sign-in", json={"code": code}, headers=h.auth("student", "1234567")
    )
    assert r.status_code == 422 and r.json()["code"] == "sign_in_closed"
    settings(h, late_minutes=10)
    r = await h.client.post(
        "/sessions/S1/sign-in", json={"code": code}, headers=h.auth("student", "1234567")
    )
    assert r.status_code == 201


async def test_a_cancelled_session_takes_no_sign_in(h: Harness) -> None:
    await given_session(h)
    code = await code_for(h)
    await given(h, cancelled("S1"))
    r = await h.client.post(
        "/sessions/S1/sign-in", json={"code": code}, headers=h.auth("student", "1234567")
    )
    assert r.status_code == 422 and r.json()["code"] == "session_cancelled"


async def test_a_sign_in_behind_a_cancellation_in_progress_waits_and_is_refused(
    h: Harness,
) -> None:
    """The cancellation's update of the session row is uncommitted while the sign-in arrives:
    the sign-in waits for it rather than reading the session as it was, then is refused."""
    await given_session(h)
    code = await code_for(h)
    async with h.runtime.engine.connect() as cancelling:
        await cancelling.execute(
            update(scheduled_sessions)
            .where(scheduled_sessions.c.session_id == "S1")
            .values(cancelled=True, cancel_reason="leader ill")
        )
        signing_in = asyncio.create_task(
            h.client.post(
                "/sessions/S1/sign-in", json={"code": code}, headers=h.auth("student", "1234567")
            )
        )
        await asyncio.sleep(0.5)
        assert not signing_in.done(), "the sign-in read the session past an open cancellation"
        await cancelling.commit()
    r = await signing_in
    assert r.status_code == 422 and r.json()["code"] == "session_cancelled"
    assert await headcount(h) == {"session_id": "S1", "students": 0, "leaders": 0}


async def test_a_cancellation_waits_for_a_sign_in_in_progress_and_revokes_it(
    h: Harness,
) -> None:
    """A writer holds the session row `FOR SHARE` until it commits: the cancellation's update
    waits, so its revocations see the attendance the writer committed."""
    await given_session(h)
    async with h.runtime.engine.connect() as writer:
        view = (await sessions_to_write(writer, ["S1"]))["S1"]
        signed_in = attendance.decide(
            SignIn("S1", view, "1234567", "kiosk", at=now(), now=now()), Presence()
        )
        person = await h.runtime.store.pseudonym(writer, "1234567")
        await h.runtime.store.append(writer, stream_id("S1", person), 0, signed_in)
        cancelling = asyncio.create_task(given(h, cancelled("S1")))
        await asyncio.sleep(0.5)
        assert not cancelling.done(), "the cancellation did not wait for the writer"
        await writer.commit()
    await cancelling
    assert await headcount(h) == {"session_id": "S1", "students": 0, "leaders": 0}
    revoked = [e for e in await own_events(h) if e.type.endswith("attendance_revoked.v1")]
    assert [(e.data["student_number"], e.data["reason"]) for e in revoked] == [
        ("1234567", "session cancelled: leader ill")
    ]


async def test_an_unknown_session_is_404(h: Harness) -> None:
    r = await h.client.post(
        "/sessions/nope/kiosk",
        json={"student_number": "1234567"},
        headers=h.auth("integration", "kiosk"),
    )
    assert r.status_code == 404


async def test_a_cancellation_after_sign_in_revokes_the_attendances(h: Harness) -> None:
    await given_session(h)
    await h.client.post("/sessions/S1/leader-sign-in", headers=h.auth("leader", "L100"))
    await h.client.post(
        "/sessions/S1/kiosk",
        json={"student_number": "1234567"},
        headers=h.auth("integration", "kiosk-1"),
    )
    assert await headcount(h) == {"session_id": "S1", "students": 1, "leaders": 1}
    await given(h, cancelled("S1"))
    assert await headcount(h) == {"session_id": "S1", "students": 0, "leaders": 0}
    revoked = [e for e in await own_events(h) if e.type.endswith("attendance_revoked.v1")]
    assert {e.data["reason"] for e in revoked} == {"session cancelled: leader ill"}
    assert {e.actor for e in revoked} == {None}
    delivered = await h.client.get(
        "/leaders/L100/sessions-delivered", headers=h.auth("leader", "L100")
    )
    assert delivered.json()["sessions_delivered"] == 0


# -- leaders, kiosks, by hand ------------------------------------------------------------------


async def test_a_rostered_leader_adds_a_student_by_hand(h: Harness) -> None:
    await given_session(h)
    r = await h.client.post(
        "/sessions/S1/attendances",
        json={"student_number": " 1234567 "},
        headers=h.auth("leader", "L100"),
    )
    assert r.status_code == 201
    assert r.json()["method"] == "leader" and r.json()["student_number"] == "1234567"
    for headers in (h.auth("leader", "L999"), h.auth("student", "1234567")):
        r = await h.client.post(
            "/sessions/S1/attendances", json={"student_number": "7654321"}, headers=headers
        )
        assert r.status_code == 403
    assert len(await own_events(h)) == 1


async def test_kiosk_sign_in(h: Harness) -> None:
    await given_session(h)
    ok = await h.client.post(
        "/sessions/S1/kiosk",
        json={"student_number": "1234567"},
        headers=h.auth("integration", "kiosk-P005"),
    )
    assert ok.status_code == 201 and ok.json()["method"] == "kiosk"
    again = await h.client.post(
        "/sessions/S1/kiosk", json={"student_number": "1234567"}, headers=h.auth("leader", "L200")
    )
    assert again.status_code == 200 and again.json()["method"] == "kiosk"
    for headers in (h.auth("leader", "L999"), h.auth("student", "1234567")):
        r = await h.client.post(
            "/sessions/S1/kiosk", json={"student_number": "7654321"}, headers=headers
        )
        assert r.status_code == 403
    assert len(await own_events(h)) == 1


async def test_leaders_sign_in_only_where_rostered(h: Harness) -> None:
    await given_session(h)
    ok = await h.client.post("/sessions/S1/leader-sign-in", headers=h.auth("leader", "L100"))
    assert ok.status_code == 201 and ok.json()["role"] == "leader"
    again = await h.client.post("/sessions/S1/leader-sign-in", headers=h.auth("leader", "L100"))
    assert again.status_code == 200
    stranger = await h.client.post("/sessions/S1/leader-sign-in", headers=h.auth("leader", "L9"))
    assert stranger.status_code == 403
    assert "not rostered" in stranger.json()["detail"]
    student = await h.client.post("/sessions/S1/leader-sign-in", headers=h.auth("student", "1"))
    assert student.status_code == 403
    mine = await own_events(h)
    assert [e.type for e in mine] == ["passhub.attendance.leader_signed_in.v1"]
    delivered = await h.client.get(
        "/leaders/L100/sessions-delivered", headers=h.auth("leader", "L100")
    )
    assert delivered.json()["sessions_delivered"] == 1
    assert delivered.json()["by_scheme"] == {SCHEME: 1}
    other = await h.client.get("/leaders/L100/sessions-delivered", headers=h.auth("leader", "L2"))
    assert other.status_code == 403


# -- corrections -------------------------------------------------------------------------------


async def test_revocation_with_a_reason_and_its_audit(h: Harness) -> None:
    await given_session(h)
    await h.client.post(
        "/sessions/S1/attendances",
        json={"student_number": "1234567"},
        headers=h.auth("leader", "L100"),
    )
    no_reason = await h.client.post(
        "/sessions/S1/attendances/1234567/revoke",
        json={"reason": ""},
        headers=h.auth("coordinator", "c1"),
    )
    assert no_reason.status_code == 422
    blank = await h.client.post(
        "/sessions/S1/attendances/1234567/revoke",
        json={"reason": "   "},
        headers=h.auth("coordinator", "c1"),
    )
    assert blank.status_code == 422 and blank.json()["code"] == "reason_required"
    student = await h.client.post(
        "/sessions/S1/attendances/1234567/revoke",
        json={"reason": "mine"},
        headers=h.auth("student", "1234567"),
    )
    assert student.status_code == 403
    stranger = await h.client.post(
        "/sessions/S1/attendances/1234567/revoke",
        json={"reason": "x"},
        headers=h.auth("leader", "L9"),
    )
    assert stranger.status_code == 403
    missing = await h.client.post(
        "/sessions/S1/attendances/555/revoke",
        json={"reason": "x"},
        headers=h.auth("coordinator", "c1"),
    )
    assert missing.status_code == 404
    ok = await h.client.post(
        "/sessions/S1/attendances/1234567/revoke",
        json={"reason": "signed in for a friend"},
        headers=h.auth("organiser", "o1"),
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["reason"] == "signed in for a friend"
    assert await headcount(h) == {"session_id": "S1", "students": 0, "leaders": 0}
    listing = await h.client.get("/sessions/S1/attendances", headers=h.auth("leader", "L100"))
    [row] = listing.json()["attendances"]
    assert row["active"] is False and row["revoked_reason"] == "signed in for a friend"

    audit = await h.client.get("/sessions/S1/audit", headers=h.auth("coordinator", "c1"))
    assert [(a["type"].split(".")[2], a["actor"]) for a in audit.json()] == [
        ("student_signed_in", "L100"),
        ("attendance_revoked", "o1"),
    ]
    by_actor = await h.client.get(
        "/audit", params={"actor": "o1"}, headers=h.auth("organiser", "o1")
    )
    assert [a["data"]["reason"] for a in by_actor.json()] == ["signed in for a friend"]
    assert (
        await h.client.get("/sessions/S1/audit", headers=h.auth("leader", "L100"))
    ).status_code == 403
    assert (await h.client.get("/sessions/S1/audit")).status_code == 401


# -- paper sheets ------------------------------------------------------------------------------


async def test_a_sheet_imports_all_or_nothing(h: Harness) -> None:
    start = now() - timedelta(hours=3)
    await given_session(h, "S1", starts_at=start)
    await given_session(h, "S2", starts_at=start)
    await given(h, cancelled("S2"))
    before = await event_count(h)
    bad = (
        "session_id,student_number,signed_in_at\n"
        "S1,1001,\n"
        "S1,1002,\n"
        "S2,1003,\n"
        "S1,10 04,\n"
        "S3,1005,\n"
    )
    r = await h.client.post(
        "/imports",
        content=bad.encode(),
        headers=h.auth("coordinator", "c1") | {"content-type": "text/csv"},
    )
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "import_rejected" and body["error_count"] == 3
    # every error at once: a format error does not hide the rule errors of other lines
    assert [(e["line"], e["column"]) for e in body["errors"]] == [
        (4, None),
        (5, "student_number"),
        (6, None),
    ]
    assert "cancelled" in body["errors"][0]["message"]
    assert body["errors"][2]["message"] == "no session 'S3' is scheduled"
    assert await event_count(h) == before  # nothing half-imported

    good = "session_id,student_number,name\nS1,1001,Ann\nS1,1002,Bob\nS1,L100,Lee\n"
    ok = await h.client.post("/imports", content=good.encode(), headers=h.auth("organiser", "o1"))
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"imported": 3, "already_recorded": 0, "sessions": ["S1"]}
    again = await h.client.post(
        "/imports", content=good.encode(), headers=h.auth("organiser", "o1")
    )
    assert again.json() == {"imported": 0, "already_recorded": 3, "sessions": []}
    assert await headcount(h) == {"session_id": "S1", "students": 2, "leaders": 1}
    mine = await own_events(h)
    assert {e.data["method"] for e in mine} == {"import"}
    assert {e.actor for e in mine} == {"o1"}


async def test_a_sheet_names_sessions_as_people_read_them(h: Harness) -> None:
    """References from GET /sessions (`PHYS-<local date>-<local start>`), a room where two
    sessions start together, and every error of every line in one answer."""
    start = (now() - timedelta(days=1)).replace(second=0, microsecond=0)
    await given_session(h, "S1", starts_at=start, room="P/T/005")
    await given_session(h, "S2", starts_at=start, room="P/T/006", leaders=["L300"])
    r = await h.client.get("/sessions", headers=h.auth("coordinator"))
    listed = {s["session_id"]: s["reference"] for s in r.json()}
    local = start.astimezone(ZoneInfo("Europe/London"))
    reference = f"PHYS-{local:%Y-%m-%d}-{local:%H:%M}"
    assert listed == {"S1": reference, "S2": reference}
    coordinator = h.auth("coordinator", "c1") | {"content-type": "text/csv"}
    before = await event_count(h)

    bad = (
        "Session,Student Number,Room,Signed in at\n"
        f"{reference},1001,,\n"  # two sessions start then: which?
        f"{reference},10 02,P/T/006,\n"  # a bad number (its session is found and checked)
        f"{reference},1003,p/t/005,{(start + timedelta(hours=3)).isoformat()}\n"  # closed
        f"PHYS-{local:%Y-%m-%d}-23:59,1004,,\n"  # no such session
    )
    r = await h.client.post("/imports", content=bad.encode(), headers=coordinator)
    assert r.status_code == 422, r.text
    errors = [(e["line"], e["column"], e["message"]) for e in r.json()["errors"]]
    assert [e[:2] for e in errors] == [
        (2, "session"),
        (3, "student_number"),
        (4, None),
        (5, "session"),
    ]
    assert "names 2 sessions (rooms P/T/005, P/T/006)" in errors[0][2]
    closes = (start + timedelta(hours=1)).astimezone(ZoneInfo("Europe/London"))
    assert errors[2][2].endswith(f"closed at {closes:%Y-%m-%d %H:%M %Z}")
    assert await event_count(h) == before

    good = (
        "session,student_number,room\n"
        f"{reference},1001,P/T/005\n"
        f"{reference},1002,P/T/006\n"
        f"{reference.lower()},L300,p/t/006\n"
    )
    r = await h.client.post("/imports", content=good.encode(), headers=coordinator)
    assert r.status_code == 200, r.text
    assert r.json() == {"imported": 3, "already_recorded": 0, "sessions": ["S1", "S2"]}
    assert await headcount(h, "S2") == {"session_id": "S2", "students": 1, "leaders": 1}


async def test_messages_speak_local_time_either_side_of_the_clock_change(h: Harness) -> None:
    """Two sessions from 13:00 to 14:00 UTC, on the Saturday before the clocks go back and the
    Monday after: their windows close at 15:00 BST and at 14:00 GMT, and the errors say so."""
    summer = datetime(2026, 10, 24, 13, 0, tzinfo=UTC)
    winter = datetime(2026, 10, 26, 13, 0, tzinfo=UTC)
    await given_session(h, "SUMMER", starts_at=summer)
    await given_session(h, "WINTER", starts_at=winter)
    sheet = (
        "session_id,student_number,signed_in_at\n"
        "SUMMER,1001,2026-10-24 18:00\n"
        "WINTER,1001,2026-10-26 18:00\n"
        "WINTER,1002,2026-10-26T12:00:00+00:00\n"
    )
    r = await h.client.post("/imports", content=sheet.encode(), headers=h.auth("coordinator"))
    assert r.status_code == 422
    assert [e["message"] for e in r.json()["errors"]] == [
        "sign-in to session SUMMER closed at 2026-10-24 15:00 BST",
        "sign-in to session WINTER closed at 2026-10-26 14:00 GMT",
        "sign-in to session WINTER opens at 2026-10-26 12:45 GMT",
    ]
    # JSON carries instants with their offset
    r = await h.client.get("/sessions", headers=h.auth("coordinator"))
    starts = {s["session_id"]: datetime.fromisoformat(s["starts_at"]) for s in r.json()}
    assert starts == {"SUMMER": summer, "WINTER": winter}
    assert all(v.utcoffset() is not None for v in starts.values())
    assert {s["reference"] for s in r.json()} == {"PHYS-2026-10-24-14:00", "PHYS-2026-10-26-13:00"}


async def test_imports_are_for_staff(h: Harness) -> None:
    sheet = b"session_id,student_number\nS1,1001\n"
    assert (await h.client.post("/imports", content=sheet)).status_code == 401
    r = await h.client.post("/imports", content=sheet, headers=h.auth("leader", "L100"))
    assert r.status_code == 403
    r = await h.client.post("/imports", content=b"\xff\xfe", headers=h.auth("coordinator"))
    assert r.status_code == 422 and r.json()["code"] == "sheet_not_utf8"


# -- feedback ----------------------------------------------------------------------------------


async def test_a_student_lists_the_named_feedback_they_gave_and_only_their_own(
    h: Harness,
) -> None:
    await given_session(h)
    for student in ("1001", "1002"):
        await h.client.post(
            "/sessions/S1/kiosk",
            json={"student_number": student},
            headers=h.auth("integration", "kiosk"),
        )
    sheet = {"understanding": 5, "enjoyable": 4, "recommend": 3, "comment": "good pace"}
    for student, anonymous in (("1001", False), ("1002", True)):
        r = await h.client.post(
            "/sessions/S1/feedback",
            json=sheet | {"anonymous": anonymous},
            headers=h.auth("student", student),
        )
        assert r.status_code == 201, r.text
    mine = await h.client.get("/students/1001/feedback", headers=h.auth("student", "1001"))
    assert mine.status_code == 200, mine.text
    [given] = mine.json()["feedback"]
    assert (given["session_id"], given["recommend"], given["comment"]) == ("S1", 3, "good pace")
    assert given["starts_at"] is not None
    # anonymous feedback is not traceable to its author, so it is not listed
    theirs = await h.client.get("/students/1002/feedback", headers=h.auth("student", "1002"))
    assert theirs.json()["feedback"] == []
    for other in (h.auth("student", "1002"), h.auth("coordinator", "c1")):
        r = await h.client.get("/students/1001/feedback", headers=other)
        assert r.status_code == 403


async def test_feedback_named_and_anonymous(h: Harness) -> None:
    await given_session(h)
    for student in ("1001", "1002"):
        await h.client.post(
            "/sessions/S1/kiosk",
            json={"student_number": student},
            headers=h.auth("integration", "kiosk"),
        )
    sheet = {"understanding": 5, "enjoyable": 4, "recommend": 5, "comment": "great"}
    not_there = await h.client.post(
        "/sessions/S1/feedback", json=sheet, headers=h.auth("student", "1003")
    )
    assert not_there.status_code == 422 and not_there.json()["code"] == "not_attended"
    invalid = await h.client.post(
        "/sessions/S1/feedback", json=sheet | {"recommend": 6}, headers=h.auth("student", "1001")
    )
    assert invalid.status_code == 422
    named = await h.client.post(
        "/sessions/S1/feedback", json=sheet, headers=h.auth("student", "1001")
    )
    assert named.status_code == 201, named.text
    anonymous = await h.client.post(
        "/sessions/S1/feedback",
        json=sheet | {"anonymous": True, "comment": "too fast"},
        headers=h.auth("student", "1002"),
    )
    assert anonymous.status_code == 201
    twice = await h.client.post(
        "/sessions/S1/feedback",
        json=sheet | {"anonymous": True},
        headers=h.auth("student", "1002"),
    )
    assert twice.status_code == 409
    twice_named = await h.client.post(
        "/sessions/S1/feedback", json=sheet, headers=h.auth("student", "1002")
    )
    assert twice_named.status_code == 409

    listing = await h.client.get("/sessions/S1/feedback", headers=h.auth("coordinator", "c1"))
    body = listing.json()
    assert body["summary"]["responses"] == 2
    assert body["summary"]["recommend"] == {"mean": 5.0, "agreed": 2}
    by_comment = {f["comment"]: f["student_number"] for f in body["feedback"]}
    assert by_comment == {"great": "1001", "too fast": None}
    # the scheme's organiser and the session's leader: the sheets without student numbers
    for reader in (h.auth("organiser", "o1"), h.auth("leader", "L100")):
        anonymised = await h.client.get("/sessions/S1/feedback", headers=reader)
        assert anonymised.status_code == 200, anonymised.text
        assert anonymised.json()["summary"] == body["summary"]
        assert sorted(f["comment"] for f in anonymised.json()["feedback"]) == ["great", "too fast"]
        assert all("student_number" not in f for f in anonymised.json()["feedback"])
        assert "1001" not in anonymised.text
    # academics get the evaluation's reports without comments; others nothing
    for outsider in (
        h.auth("academic", "a1"),
        h.auth("student", "1001"),
        h.auth("organiser", "o2"),
        h.auth("leader", "L9"),
        h.auth("integration", "kiosk"),
    ):
        denied = await h.client.get("/sessions/S1/feedback", headers=outsider)
        assert denied.status_code == 403, outsider
    audit = await h.client.get("/sessions/S1/audit", headers=h.auth("organiser", "o1"))
    assert audit.status_code == 200
    sheets = [a for a in audit.json() if a["type"].endswith("feedback_submitted.v1")]
    assert len(sheets) == 2
    assert all(a["actor"] is None and "student_number" not in a["data"] for a in sheets)
    named = await h.client.get("/sessions/S1/audit", headers=h.auth("coordinator", "c1"))
    sheets = [a for a in named.json() if a["type"].endswith("feedback_submitted.v1")]
    assert {a["actor"] for a in sheets} == {"1001", None}
    # the feedback a student gave is not found through them either
    by_actor = await h.client.get(
        "/audit", params={"actor": "1001"}, headers=h.auth("organiser", "o1")
    )
    assert by_actor.status_code == 200 and by_actor.json() == []
    by_actor = await h.client.get(
        "/audit", params={"actor": "1001"}, headers=h.auth("coordinator", "c1")
    )
    assert [a["type"].split(".")[2] for a in by_actor.json()] == ["feedback_submitted"]

    feedback_events = [e for e in await own_events(h) if "feedback" in e.type]
    anonymous_event = next(e for e in feedback_events if e.data.get("comment") == "too fast")
    assert anonymous_event.data["student_number"] is None
    assert anonymous_event.actor is None
    assert "1002" not in anonymous_event.stream_id
    guards = [e for e in feedback_events if e.type.endswith("feedback_guard_taken.v1")]
    assert len(guards) == 2 and all("1002" not in str(g.data) for g in guards)
    assert all(g.actor != "1002" for g in guards)


async def test_the_feedback_guard_key_rotates_without_letting_anyone_answer_twice(
    h: Harness,
) -> None:
    """Guards made under a previous key still count while that key is listed in
    `feedback_guard_previous_keys`; new guards are made under the new key."""
    await given_session(h)
    for student in ("1001", "1002"):
        await h.client.post(
            "/sessions/S1/kiosk",
            json={"student_number": student},
            headers=h.auth("integration", "kiosk"),
        )
    sheet = {"understanding": 5, "enjoyable": 4, "recommend": 5, "anonymous": True}
    before = settings(h)
    first = await h.client.post(
        "/sessions/S1/feedback", json=sheet, headers=h.auth("student", "1001")
    )
    assert first.status_code == 201

    rotated = settings(
        h,
        feedback_guard_key=generate_secret(),
        feedback_guard_previous_keys=[before.feedback_guard_key],
    )
    again = await h.client.post(
        "/sessions/S1/feedback", json=sheet, headers=h.auth("student", "1001")
    )
    assert again.status_code == 409
    other = await h.client.post(
        "/sessions/S1/feedback", json=sheet, headers=h.auth("student", "1002")
    )
    assert other.status_code == 201
    guards = {e.stream_id for e in await own_events(h) if e.type.endswith("guard_taken.v1")}
    assert guards == {
        guard_stream(guard_of(before.feedback_guard_key, "S1", "1001")),
        guard_stream(guard_of(rotated.feedback_guard_key, "S1", "1002")),
    }


# -- queries -----------------------------------------------------------------------------------


async def test_history_scheme_and_session_queries(h: Harness) -> None:
    await given_session(h, "S1")
    await given_session(h, "S2", room="P/T/006")
    for session in ("S1", "S2"):
        await h.client.post(
            f"/sessions/{session}/kiosk",
            json={"student_number": "1001"},
            headers=h.auth("integration", "kiosk"),
        )
    own = await h.client.get("/students/1001/attendance", headers=h.auth("student", "1001"))
    assert own.status_code == 200
    assert own.json()["sessions_attended"] == 2
    assert {a["room"] for a in own.json()["attendances"]} == {"P/T/005", "P/T/006"}
    other = await h.client.get("/students/1001/attendance", headers=h.auth("student", "1002"))
    assert other.status_code == 403
    assert (await h.client.get("/students/1001/attendance")).status_code == 401

    scheme = await h.client.get(f"/schemes/{SCHEME}/attendance", headers=h.auth("academic"))
    assert scheme.status_code == 200
    assert scheme.json()["total_attendances"] == 2
    assert scheme.json()["students"] == [{"student_number": "1001", "sessions": 2}]
    assert (
        await h.client.get(f"/schemes/{SCHEME}/attendance", headers=h.auth("student", "1001"))
    ).status_code == 403

    listing = await h.client.get(
        "/sessions", params={"room": "P/T/006"}, headers=h.auth("integration")
    )
    assert [s["session_id"] for s in listing.json()] == ["S2"]
    assert listing.json()[0]["leaders"] == ["L100", "L200"]

    not_rostered = await h.client.get("/sessions/S1/headcount", headers=h.auth("leader", "L9"))
    assert not_rostered.status_code == 403
    assert (
        await h.client.get("/sessions/S9/headcount", headers=h.auth("coordinator"))
    ).status_code == 404


async def test_the_settings_come_from_the_environment(monkeypatch: Any) -> None:
    monkeypatch.setenv("PASSHUB_ATTENDANCE_OPEN_BEFORE_MINUTES", "30")
    monkeypatch.setenv("PASSHUB_ATTENDANCE_LATE_MINUTES", "5")
    window = AttendanceSettings().window
    assert window.open_before == timedelta(minutes=30) and window.late == timedelta(minutes=5)
