"""The server-rendered pages over HTTP (no browser): login cookie, the public sign-in page, the
authenticated sign-in POST, the kiosk and the leader's page."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlparse

from passhub_attendance.domain.qr import QrCodes
from tests.attendance.helpers import cancelled, given, given_session, now, settings
from tests.support import Harness


async def login(h: Harness, role: str, sub: str, next_url: str = "/login") -> None:
    r = await h.client.post("/login", data={"token": h.token(role, sub), "next": next_url})
    assert r.status_code == 303
    assert r.headers["location"] == next_url
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


async def code_from_qr_page(h: Harness) -> str:
    r = await h.client.get("/sessions/S1/qr")
    assert r.status_code == 200, r.text
    assert '<meta http-equiv="refresh" content="20">' in r.text
    assert "<svg" in r.text
    url = re.search(r'data-url="([^"]+)"', r.text)
    assert url is not None
    return parse_qs(urlparse(url.group(1).replace("&amp;", "&")).query)["t"][0]


async def test_the_leader_page_needs_a_rostered_leader(h: Harness) -> None:
    await given_session(h)
    anonymous = await h.client.get("/sessions/S1/qr")
    assert anonymous.status_code == 401 and 'name="token"' in anonymous.text
    await login(h, "leader", "L999")
    stranger = await h.client.get("/sessions/S1/qr")
    assert stranger.status_code == 403 and "rostered" in stranger.text
    bearer = await h.client.get("/sessions/S1/qr", headers=h.auth("leader", "L100"))
    assert bearer.status_code == 200 and "Sign me in as leader" in bearer.text
    # the reference to write on a paper sheet of the session, as GET /sessions gives it
    listed = await h.client.get("/sessions", headers=h.auth("coordinator"))
    reference = listed.json()[0]["reference"]
    assert reference.startswith("PHYS-") and f'<span id="reference">{reference}<' in bearer.text


async def test_a_bad_token_does_not_log_in(h: Harness) -> None:
    r = await h.client.post("/login", data={"token": "not-a-token", "next": "/sign-in"})
    assert r.status_code == 401 and "not valid" in r.text
    assert "set-cookie" not in r.headers


async def test_login_redirects_only_within_the_site(h: Harness) -> None:
    r = await h.client.post(
        "/login", data={"token": h.token("student", "1"), "next": "https://evil.example/"}
    )
    assert r.headers["location"] == "/login"
    r = await h.client.post("/login", data={"token": h.token("student", "1"), "next": "//evil"})
    assert r.headers["location"] == "/login"


async def test_the_scanned_page_is_public_and_the_post_needs_a_login(h: Harness) -> None:
    await given_session(h)
    await login(h, "leader", "L100")
    code = await code_from_qr_page(h)
    h.client.cookies.clear()

    page = await h.client.get("/sign-in", params={"t": code})
    assert page.status_code == 200  # public: shows the session and a login form
    assert "Physics PASS" in page.text and 'name="token"' in page.text
    anonymous_post = await h.client.post("/sign-in", data={"t": code})
    assert anonymous_post.status_code == 401

    await login(h, "student", "1234567", f"/sign-in?t={code}")
    page = await h.client.get("/sign-in", params={"t": code})
    assert page.status_code == 200 and "1234567" in page.text
    done = await h.client.post("/sign-in", data={"t": code})
    assert done.status_code == 201 and "signed in" in done.text
    again = await h.client.post("/sign-in", data={"t": code})
    assert again.status_code == 200 and "already signed in" in again.text
    count = await h.client.get("/sessions/S1/headcount", headers=h.auth("coordinator"))
    assert count.json()["students"] == 1


async def test_expired_and_tampered_codes_on_the_page(h: Harness) -> None:
    await given_session(h)
    s = settings(h)
    codes = QrCodes(s.qr_secret, timedelta(seconds=s.qr_validity_seconds))
    expired = codes.issue("S1", now() - timedelta(seconds=61))
    r = await h.client.get("/sign-in", params={"t": expired})
    assert r.status_code == 403 and "expired" in r.text
    r = await h.client.get("/sign-in", params={"t": expired.replace("S1", "S2")})
    assert r.status_code == 403 and "not a valid" in r.text
    await login(h, "student", "1234567")
    too_late = codes.issue("S1", now() - timedelta(seconds=s.qr_validity_seconds + 3))
    r = await h.client.post("/sign-in", data={"t": too_late})
    assert r.status_code == 403 and "expired" in r.text
    r = await h.client.get("/sign-in", params={"t": too_late})
    assert r.status_code == 403 and "expired" in r.text
    assert await students_signed_in(h) == 0


def receipt_of(login_page: str) -> str:
    """The scan receipt the login form returns to (`next=/sign-in?s=...`)."""
    found = re.search(r'name="next" value="([^"]+)"', login_page)
    assert found is not None, login_page
    return parse_qs(urlparse(unescape(found.group(1))).query)["s"][0]


async def test_the_time_to_log_in_runs_from_the_scan_not_from_the_code(h: Harness) -> None:
    """Opening the page with a code valid for 3 more seconds gives a scan receipt that signs in
    after the code has expired, up to `qr_grace_seconds` from the scan and no longer."""
    await given_session(h)
    s = settings(h, qr_validity_seconds=60, qr_grace_seconds=120)
    codes = QrCodes(s.qr_secret, timedelta(seconds=60), timedelta(seconds=120))
    page = await h.client.get("/sign-in", params={"t": codes.issue("S1", now() - ago(57))})
    assert page.status_code == 200  # not logged in: the login form, back to the receipt
    receipt = receipt_of(page.text)
    assert codes.redeem(receipt, now()) == "S1"

    await login(h, "student", "1234567")
    page = await h.client.get("/sign-in", params={"s": receipt})
    assert page.status_code == 200 and f'name="s" value="{receipt}"' in page.text

    scanned_too_long_ago = codes.receipt(codes.issue("S1", now() - ago(130)), now() - ago(123))
    r = await h.client.post("/sign-in", data={"s": scanned_too_long_ago})
    assert r.status_code == 403 and "run out" in r.text
    assert await students_signed_in(h) == 0

    scanned_a_while_ago = codes.receipt(codes.issue("S1", now() - ago(175)), now() - ago(117))
    r = await h.client.post("/sign-in", data={"s": scanned_a_while_ago})
    assert r.status_code == 201


async def students_signed_in(h: Harness) -> int:
    count = await h.client.get("/sessions/S1/headcount", headers=h.auth("coordinator"))
    students: int = count.json()["students"]
    return students


def ago(seconds: int) -> timedelta:
    return timedelta(seconds=seconds)


async def test_the_kiosk_page(h: Harness) -> None:
    await given_session(h, room="P/T/005")
    r = await h.client.get("/kiosk", params={"room": "P/T/005"})
    assert r.status_code == 401
    await login(h, "student", "1234567")
    r = await h.client.get("/kiosk", params={"room": "P/T/005"})
    assert r.status_code == 403  # a student cannot run a kiosk
    assert 'action="/logout"' in r.text
    await login(h, "integration", "kiosk-P005")
    r = await h.client.get("/kiosk", params={"room": "P/T/005"})
    assert r.status_code == 200 and 'name="student_number"' in r.text
    form = {"room": "P/T/005", "session_id": "S1", "student_number": " 7654321 "}
    r = await h.client.post("/kiosk", data=form)
    assert r.status_code == 201 and "7654321 is signed in" in r.text
    r = await h.client.post("/kiosk", data=form)
    assert r.status_code == 200 and "already signed in" in r.text
    r = await h.client.post("/kiosk", data=form | {"student_number": "<script>"})
    assert r.status_code == 422 and "&lt;script&gt;" in r.text
    empty = await h.client.get("/kiosk", params={"room": "Nowhere"})
    assert "No session in this room" in empty.text


async def test_the_kiosk_without_a_room_offers_the_rooms_with_sessions_today(h: Harness) -> None:
    r = await h.client.get("/kiosk")
    assert r.status_code == 401 and 'name="token"' in r.text  # a login page, not JSON
    await login(h, "integration", "kiosk-new")
    r = await h.client.get("/kiosk")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "No session is scheduled in any room today" in r.text
    assert 'action="/kiosk"' in r.text and 'name="room"' in r.text

    await given_session(h, "S1", room="P/T/005")
    await given_session(h, "GONE", room="Closed Room")
    await given(h, cancelled("GONE"))
    await given_session(h, "LATER", room="Tomorrow Room", starts_at=now() + timedelta(days=1))
    for url in ("/kiosk", "/kiosk?room=", "/kiosk?room=%20"):
        r = await h.client.get(url)
        assert r.status_code == 200, url
        assert 'href="/kiosk?room=P%2FT%2F005"' in r.text and "Physics PASS" in r.text
        assert "Closed Room" not in r.text and "Tomorrow Room" not in r.text
    # the link opens that room's kiosk
    r = await h.client.get("/kiosk", params={"room": "P/T/005"})
    assert r.status_code == 200 and 'name="student_number"' in r.text


async def test_a_leader_signs_in_from_the_qr_page(h: Harness) -> None:
    await given_session(h)
    await login(h, "leader", "L100")
    r = await h.client.post("/sessions/S1/qr/leader-sign-in")
    assert r.status_code == 303
    page = await h.client.get("/sessions/S1/qr")
    assert "You are signed in as a leader" in page.text


async def test_the_feedback_form(h: Harness) -> None:
    await given_session(h)
    await login(h, "student", "1234567")
    ratings = {"session_id": "S1", "understanding": "4", "enjoyable": "4", "recommend": "5"}
    not_attended = await h.client.post("/sign-in/feedback", data=ratings)
    assert not_attended.status_code == 422
    await h.client.post(
        "/sessions/S1/kiosk",
        json={"student_number": "1234567"},
        headers=h.auth("integration", "kiosk"),
    )
    page = await h.client.get("/sign-in/feedback", params={"session_id": "S1"})
    assert page.status_code == 200 and 'name="understanding"' in page.text
    sent = await h.client.post("/sign-in/feedback", data=ratings | {"anonymous": "1"})
    assert sent.status_code == 201
    twice = await h.client.post("/sign-in/feedback", data=ratings)
    assert twice.status_code == 409
    bad = await h.client.post("/sign-in/feedback", data=ratings | {"recommend": "9"})
    assert bad.status_code == 422


async def test_a_refused_page_shows_who_is_logged_in_and_logs_out(h: Harness) -> None:
    await given_session(h)
    await login(h, "leader", "L999")
    refused = await h.client.get("/sessions/S1/qr")
    assert refused.status_code == 403
    assert "L999" in refused.text and 'action="/logout"' in refused.text
    assert 'name="next" value="/sessions/S1/qr"' in refused.text
    out = await h.client.post("/logout", data={"next": "/sessions/S1/qr"})
    assert out.status_code == 303 and out.headers["location"] == "/sessions/S1/qr"
    assert (
        'passhub_token=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    )
    # logged out, the page asks for a login: someone else can log in here
    again = await h.client.get("/sessions/S1/qr")
    assert again.status_code == 401 and 'name="token"' in again.text
    await login(h, "leader", "L100", "/sessions/S1/qr")
    assert (await h.client.get("/sessions/S1/qr")).status_code == 200


async def test_pages_refuse_the_wrong_role_with_a_log_out(h: Harness) -> None:
    await given_session(h)
    await login(h, "coordinator", "c1")
    for method, url, data in (
        ("GET", "/sign-in/feedback?session_id=S1", None),
        (
            "POST",
            "/sign-in/feedback",
            {"session_id": "S1", "understanding": "4", "enjoyable": "4", "recommend": "4"},
        ),
        ("POST", "/sessions/S1/qr/leader-sign-in", None),
        ("GET", "/kiosk?room=P/T/005", None),
        ("POST", "/kiosk", {"room": "P/T/005", "session_id": "S1", "student_number": "1234567"}),
    ):
        r = await h.client.request(method, url, data=data)
        assert r.status_code == 403, (method, url, r.text)
        assert 'action="/logout"' in r.text and "c1" in r.text
