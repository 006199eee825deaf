"""A student on a phone: scans a session's code, logs in through the university's login (a real
OIDC provider), signs in with one tap, sees it in My PASS and gives feedback."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from passhub_attendance.domain.qr import QrCodes
from passhub_attendance.settings import AttendanceSettings
from passhub_shared.web.auth import make_token
from tests.portal.conftest import PHONE
from tests.portal.stack import LEADER, ROOM_A, STUDENTS, Stack

pytestmark = pytest.mark.browser


def current_code(stack: Stack, session_id: str, leader: str = LEADER) -> str:
    """The code the leader's screen shows now (asked of attendance as the leader's app would)."""
    token = make_token(stack.kit, leader, ["leader"])
    r = httpx.get(
        f"{stack.attendance}/sessions/{session_id}/qr-code",
        headers={"Authorization": f"Bearer {token}"},
    )
    r.raise_for_status()
    code = str(r.json()["code"])
    assert r.json()["url"] == f"{stack.portal}/s/{code}"  # the QR code opens the portal
    return code


def log_in_at_provider(page: Any, user: str) -> None:
    """The provider's own login form: type who you are, press Authorize."""
    page.wait_for_url(re.compile(r".*/oauth2/authorize.*"))
    page.fill("input[name=sub]", user)
    page.get_by_role("button", name="Authorize").click()


def test_a_student_scans_logs_in_signs_in_and_gives_feedback(
    stack: Stack, browser: Any, shoot: Any
) -> None:
    number, name = STUDENTS["ada"]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    try:
        page.goto(f"{stack.portal}/s/{current_code(stack, stack.session_a)}")
        log_in_at_provider(page, "ada")

        # back at the scanned session, one tap from signing in
        page.wait_for_selector("#sign-in")
        assert page.text_content("#heading") == "Physics PASS"
        assert page.text_content("#session-room") == f"Room {ROOM_A}"
        assert stack.session_a_times in (page.text_content("#session-when") or "")
        body = page.inner_text("body")
        assert stack.session_a not in body and name in body
        shoot(page, "student-sign-in")
        cookie = next(c for c in context.cookies() if c["name"] == "passhub_portal")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

        # keyboard only: the first Tab reaches the skip link, then the page's own controls
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        for _ in range(10):
            if page.evaluate("document.activeElement.id") == "sign-in":
                break
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "sign-in"
        page.keyboard.press("Enter")
        page.wait_for_selector("#feedback-link")
        assert page.text_content("#heading") == "You're signed in"
        assert "Physics PASS" in (page.text_content("#session-title") or "")
        assert stack.session_a not in page.inner_text("body")
        shoot(page, "student-signed-in")
        [attended] = stack.attendances(stack.session_a)
        assert (attended["student_number"], attended["method"]) == (number, "qr")

        # My PASS: the session attended, and tomorrow's in the same scheme
        page.click("#my-pass")
        page.wait_for_selector("#attended")
        assert "Physics PASS: 1 session" in (page.text_content("#totals") or "")
        assert "Physics PASS" in (page.text_content("#upcoming") or "")
        feed = page.get_attribute("a.calendar", "href") or ""
        calendar = httpx.get(feed)
        assert calendar.status_code == 200 and "BEGIN:VCALENDAR" in calendar.text
        shoot(page, "student-my-pass")

        # feedback on the session attended
        page.get_by_role("link", name=re.compile("Give feedback")).first.click()
        page.wait_for_selector("#send-feedback")
        for question in ("understanding", "enjoyable", "recommend"):
            page.check(f"input[name={question}][value='5']")
        page.fill("#comment", "The past-paper questions helped a lot")
        shoot(page, "student-feedback")
        page.click("#send-feedback")
        page.wait_for_selector("#flash")
        assert "Thank you" in (page.text_content("#flash") or "")
        # feedback I gave: the named sheet, and why anonymous ones are not listed
        given = page.text_content("#given") or ""
        assert "Physics PASS" in given and "The past-paper questions helped a lot" in given
        assert "5 of 5" in given
        assert "without any link to you" in (page.text_content("#anonymous-note") or "")
        assert page.text_content("#attended") and "Feedback sent" in (
            page.text_content("#attended") or ""
        )
        shoot(page, "student-my-pass-after-feedback")
        sheets = httpx.get(
            f"{stack.attendance}/sessions/{stack.session_a}/feedback", headers=stack.staff()
        ).json()["feedback"]
        assert [(f["student_number"], f["recommend"]) for f in sheets] == [(number, 5)]

        # the same sheet again is a clear page and records nothing more
        page.goto(f"{stack.portal}/feedback/{stack.session_a}")
        for question in ("understanding", "enjoyable", "recommend"):
            page.check(f"input[name={question}][value='4']")
        page.click("#send-feedback")
        page.wait_for_selector("#heading")
        assert page.text_content("#heading") == "You already gave feedback"
        sheets = httpx.get(
            f"{stack.attendance}/sessions/{stack.session_a}/feedback", headers=stack.staff()
        ).json()["feedback"]
        assert len(sheets) == 1

        # scanning again when already logged in: one tap, and already signed in
        page.goto(f"{stack.portal}/s/{current_code(stack, stack.session_a)}")
        page.click("#sign-in")
        page.wait_for_selector("#feedback-link")
        assert len(stack.attendances(stack.session_a)) == 1

        # log out: the passhub session ends; the provider's end-session is offered
        page.click("#logout")
        page.wait_for_selector("#end-session")
        assert page.text_content("#heading") == "You are logged out of passhub"
        assert "/oauth2/end_session" in (page.get_attribute("#end-session", "href") or "")
        shoot(page, "logged-out")
        page.goto(f"{stack.portal}/me")
        page.wait_for_url(re.compile(r".*/oauth2/authorize.*"))
    finally:
        context.close()


def test_the_time_to_log_in_runs_from_the_scan_not_from_the_code(
    stack: Stack, browser: Any
) -> None:
    """A code scanned 55 s after the screen showed it, and a login that takes longer than the
    code's last 5 s: the scan receipt the portal took at the scan still signs the student in."""
    number, _ = STUDENTS["cy"]
    codes = QrCodes(AttendanceSettings().qr_secret, timedelta(seconds=60))
    shown = codes.issue(stack.session_b, datetime.now(UTC) - timedelta(seconds=55))
    context = browser.new_context(**PHONE)
    page = context.new_page()
    try:
        page.goto(f"{stack.portal}/s/{shown}")
        page.wait_for_url(re.compile(r".*/oauth2/authorize.*"))
        page.wait_for_timeout(7000)  # the code expires while the student logs in
        log_in_at_provider(page, "cy")
        page.click("#sign-in")
        page.wait_for_selector("#feedback-link")
        [signed] = stack.attendances(stack.session_b)
        assert signed["student_number"] == number
    finally:
        context.close()


def test_a_student_reads_what_it_takes_applies_and_follows_the_outcome(
    stack: Stack, browser: Any, shoot: Any
) -> None:
    number, name = STUDENTS["bo"]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    try:
        page.goto(f"{stack.portal}/me")
        log_in_at_provider(page, "bo")
        page.click("#apply-link")
        page.wait_for_selector("#essential")
        assert page.text_content("#heading") == "Become a PASS Leader"
        essential = page.text_content("#essential") or ""
        assert "How we know" in essential and "student record" in essential
        assert page.input_value("#name") == name
        shoot(page, "student-apply")
        page.fill("#email", f"{number}@example.ac.uk")
        page.fill("#statement", "I loved my Physics PASS sessions and want to run them.")
        page.click("#send-application")
        page.wait_for_selector("#mine")
        assert "your application was sent" in (page.text_content("#flash") or "")
        assert page.text_content("#status-1") == "Received"
        assert page.locator("#send-application").count() == 0  # one application per campaign
        shoot(page, "student-application-received")

        # the coordinators reject it with reasons, which the student reads
        mine = httpx.get(
            f"{stack.recruitment}/me/applications",
            headers={"Authorization": f"Bearer {make_token(stack.kit, number, ['student'])}"},
        ).json()
        [application] = mine
        reasons = ["We need leaders who have completed the first year's module"]
        rejected = httpx.post(
            f"{stack.recruitment}/applications/{application['application_id']}/reject",
            json={"reasons": reasons},
            headers=stack.staff(),
        )
        assert rejected.status_code == 200, rejected.text
        page.reload()
        assert page.text_content("#status-1") == "Not successful this time"
        assert reasons[0] in (page.text_content("#reasons-1") or "")
        shoot(page, "student-application-rejected")
    finally:
        context.close()


def count(stack: Stack, *session_ids: str) -> int:
    return sum(len(stack.attendances(s)) for s in session_ids)


def test_a_login_without_a_student_number_gets_a_clear_page(
    stack: Stack, browser: Any, shoot: Any
) -> None:
    context = browser.new_context(**PHONE)
    page = context.new_page()
    try:
        page.goto(f"{stack.portal}/s/{current_code(stack, stack.session_a)}")
        log_in_at_provider(page, "visitor")
        page.wait_for_selector("#heading")
        assert page.text_content("#heading") == "Your login has no student or staff number"
        shoot(page, "no-student-number")
        page.goto(f"{stack.portal}/me")
        page.wait_for_url(re.compile(r".*/oauth2/authorize.*"))
    finally:
        context.close()


def test_tampered_cookie_csrf_less_post_and_another_sessions_code_change_nothing(
    stack: Stack, browser: Any, shoot: Any
) -> None:
    number, _ = STUDENTS["bo"]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    sessions = (stack.session_a, stack.session_b)
    try:
        code_a = current_code(stack, stack.session_a)
        page.goto(f"{stack.portal}/s/{code_a}")
        log_in_at_provider(page, "bo")
        page.wait_for_selector("#sign-in")
        before = count(stack, *sessions)

        # a form posted without its CSRF token
        page.evaluate("document.querySelector('form[action^=\"/s/\"] input[name=csrf]').remove()")
        page.click("#sign-in")
        page.wait_for_selector("#heading")
        assert page.text_content("#heading") == "This form could not be accepted"
        shoot(page, "csrf-refused")
        assert count(stack, *sessions) == before

        # a code from session A sent for session B
        page.goto(f"{stack.portal}/s/{code_a}")
        page.evaluate(
            f"document.querySelector('input[name=session_id]').value = '{stack.session_b}'"
        )
        page.click("#sign-in")
        page.wait_for_selector("#heading")
        assert page.text_content("#heading") == "This code does not work here"
        assert "Scan the code on the screen again" in (page.text_content("#message") or "")
        shoot(page, "code-from-another-session")
        assert count(stack, *sessions) == before

        # a code whose signature was changed (told at the scan), and something that is not a
        # code at all
        forged = code_a[:-3] + ("AAA" if not code_a.endswith("AAA") else "BBB")
        page.goto(f"{stack.portal}/s/{forged}")
        assert page.text_content("#heading") == "This code does not work here"
        page.goto(f"{stack.portal}/s/not-a-code")
        assert page.text_content("#heading") == "This is not a sign-in code"
        assert count(stack, *sessions) == before

        # a photo of the code taken ten minutes ago: expired, scan again
        codes = QrCodes(AttendanceSettings().qr_secret, timedelta(seconds=60))
        old = codes.issue(stack.session_a, datetime.now(UTC) - timedelta(minutes=10))
        page.goto(f"{stack.portal}/s/{old}")
        assert page.text_content("#heading") == "This code has expired"
        assert "Scan the code on the screen again" in (page.text_content("#message") or "")
        shoot(page, "code-expired")
        assert count(stack, *sessions) == before

        # a session cookie someone changed: logged out, told so, nothing signed in
        cookie = next(c for c in context.cookies() if c["name"] == "passhub_portal")
        value = cookie["value"]
        cookie["value"] = value[:-4] + ("abcd" if not value.endswith("abcd") else "wxyz")
        context.add_cookies([cookie])
        page.goto(f"{stack.portal}/s/{current_code(stack, stack.session_a)}")
        page.wait_for_selector("#heading")
        assert page.text_content("#heading") == "Please log in again"
        shoot(page, "tampered-cookie")
        page.goto(f"{stack.portal}/me")
        page.wait_for_url(re.compile(r".*/oauth2/authorize.*"))
        assert count(stack, *sessions) == before
        assert number not in {a["student_number"] for a in stack.attendances(stack.session_a)}
    finally:
        context.close()
