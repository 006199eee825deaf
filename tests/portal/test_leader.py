"""A leader on the room's screen: logs in, opens today's session, signs in as leader and
watches the headcount rise by itself as students sign in on their phones; adds a student who
cannot scan. A kiosk signs students in by number. A leader stood down loses the leader pages at
the next request."""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Any

import httpx
import pytest

from passhub_shared.web.auth import make_token
from tests.portal.conftest import DESKTOP, PHONE
from tests.portal.stack import (
    CAMPUS,
    KIOSK_ROOM,
    LEADER,
    LEADER_2,
    RECORDS_HEADER,
    ROAMING_KIOSK,
    ROOM_A,
    STUDENTS,
    Stack,
    wait_until,
)
from tests.portal.test_student import log_in_at_provider

pytestmark = pytest.mark.browser


def decode_qr(png: bytes) -> str:
    import zxingcpp
    from PIL import Image

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert found, "no QR code in the screenshot"
    return str(found[0].text)


def wait_text(page: Any, selector: str, text: str, timeout: float = 15.0) -> None:
    page.wait_for_function(
        "([s, t]) => document.querySelector(s) && document.querySelector(s).textContent === t",
        arg=[selector, text],
        timeout=timeout * 1000,
    )


def student_signs_in(browser: Any, stack: Stack, url: str, user: str) -> None:
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.goto(url)
        log_in_at_provider(page, user)
        page.click("#sign-in")
        page.wait_for_selector("#feedback-link")
    finally:
        context.close()


def test_a_leader_runs_todays_session_and_watches_the_headcount_rise(
    stack: Stack, browser: Any, shoot: Any
) -> None:
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    try:
        page.goto(stack.portal)
        shoot(page, "welcome")
        page.click("#login")
        log_in_at_provider(page, "lee")
        page.wait_for_selector("#today")
        assert page.text_content("#heading") == "Hello Lee Leader"
        today = page.text_content("#today") or ""
        assert "Physics PASS" in today and stack.session_a_times in today and ROOM_A in today
        assert "Physics PASS" in (page.text_content("#later") or "")
        assert stack.session_a not in page.inner_text("body")
        rota = httpx.get(page.get_attribute("#rota-calendar", "href") or "")
        assert rota.status_code == 200 and rota.text.count("BEGIN:VEVENT") == 2
        shoot(page, "leader-home")

        page.get_by_role("link", name=re.compile("Open sign-in")).click()
        page.wait_for_selector("#qr svg")
        assert page.text_content("#headcount") == "0"
        url = decode_qr(page.locator("#qr").screenshot())
        assert url.startswith(f"{stack.portal}/s/")
        assert url == page.get_attribute("#qr", "data-url")

        page.click("#leader-sign-in")
        page.wait_for_selector("#leader-signed-in")
        assert "signed in as a leader" in (page.text_content("#flash") or "")
        assert page.text_content("#leaders") == "1"
        shoot(page, "leader-qr")

        # the code on screen is replaced by a fresh one before it expires, by itself
        first = page.get_attribute("#qr", "data-url")
        page.wait_for_function(
            "u => document.querySelector('#qr').getAttribute('data-url') !== u",
            arg=first,
            timeout=15000,
        )
        fresh = decode_qr(page.locator("#qr").screenshot())
        assert fresh != url and fresh.startswith(f"{stack.portal}/s/")

        # two students scan on their phones; the headcount rises without a reload
        student_signs_in(browser, stack, url, "bo")
        wait_text(page, "#headcount", "1")
        student_signs_in(browser, stack, fresh, "cy")
        wait_text(page, "#headcount", "2")
        shoot(page, "leader-qr-headcount")

        # a student who cannot scan, added by number
        ada = STUDENTS["ada"][0]
        page.fill("#student-number", ada)
        page.click("#add-student")
        page.wait_for_selector("#flash")
        assert page.text_content("#flash") == f"{ada} is signed in."
        wait_text(page, "#headcount", "3")
        page.fill("#student-number", "not a number!")
        page.click("#add-student")
        page.wait_for_selector("#flash.bad")
        assert "is not a student number" in (page.text_content("#flash") or "")
        shoot(page, "leader-add-refused")
        signed = {(a["student_number"], a["method"]) for a in stack.attendances(stack.session_a)}
        assert signed == {
            (LEADER, "leader"),
            (STUDENTS["bo"][0], "qr"),
            (STUDENTS["cy"][0], "qr"),
            (ada, "leader"),
        }
    finally:
        context.close()


def test_a_leader_keeps_their_rota_availability_progress_feedback_and_certificates(
    stack: Stack, browser: Any, shoot: Any
) -> None:
    """After running today's session (the test above): the rota with its calendar link and a
    swap an organiser made, availability changed on the page, the anonymised feedback of the
    session, progress ("1 of 1 session delivered") and, after the awards run, the certificate
    and the Open Badges credential to download."""
    staff = stack.staff()
    bo = make_token(stack.kit, STUDENTS["bo"][0], ["student"])
    sent = httpx.post(
        f"{stack.attendance}/sessions/{stack.session_a}/feedback",
        json={"understanding": 4, "enjoyable": 5, "recommend": 5, "comment": "Great examples"},
        headers={"Authorization": f"Bearer {bo}"},
    )
    assert sent.status_code == 201, sent.text
    swapped = httpx.post(
        f"{stack.sessions}/sessions/{stack.session_later}/swap",
        json={"out": LEADER, "incoming": LEADER_2, "reason": "Lee has a lab"},
        headers=staff,
    )
    assert swapped.status_code == 200, swapped.text
    context = browser.new_context(**PHONE)
    page = context.new_page()
    try:
        page.goto(f"{stack.portal}/leader")
        log_in_at_provider(page, "lee")
        page.wait_for_selector("#leader-links")
        page.get_by_role("link", name="My rota and swaps").click()
        page.wait_for_selector("#taken-off")
        assert "Physics PASS" in (page.text_content("#taken-off") or "")
        rota = httpx.get(page.get_attribute("#rota-calendar", "href") or "")
        assert rota.status_code == 200 and "BEGIN:VCALENDAR" in rota.text
        shoot(page, "leader-rota")

        page.goto(f"{stack.portal}/leader/availability")
        assert page.input_value("#monday-starts") == "00:00"
        page.fill("#monday-starts", "13:00")
        page.fill("#monday-ends", "17:00")
        page.fill("#sunday-starts", "")
        page.fill("#sunday-ends", "")
        page.fill("#unavailable", "2027-01-12")
        shoot(page, "leader-availability")
        page.click("#save-availability")
        page.wait_for_selector("#flash")
        assert page.input_value("#monday-starts") == "13:00"
        assert page.input_value("#sunday-starts") == ""
        stated = httpx.get(
            f"{stack.sessions}/leaders/{LEADER}/availability/{stack.year}", headers=staff
        ).json()
        days = {s["weekday"]: (s["starts"][:5], s["ends"][:5]) for s in stated["slots"]}
        assert days["monday"] == ("13:00", "17:00") and "sunday" not in days
        assert stated["unavailable_dates"] == ["2027-01-12"]
        page.fill("#tuesday-starts", "18:00")
        page.fill("#tuesday-ends", "09:00")
        page.click("#save-availability")
        page.wait_for_selector("#heading")
        assert page.text_content("#heading") == "Please check your availability"

        page.goto(f"{stack.portal}/leader/feedback")
        feedback = page.text_content("main") or ""
        assert "Great examples" in feedback and STUDENTS["bo"][0] not in feedback
        assert "1 response" in feedback
        shoot(page, "leader-feedback")

        # recognition counts the session delivered; a policy of one session, and the run
        current = httpx.get(f"{stack.recognition}/policies/{stack.year}", headers=staff).json()
        certificate = current["policy"]["awards"]["certificate"]
        certificate["requirements"]["min_sessions"] = 1
        policy = httpx.put(
            f"{stack.recognition}/policies/{stack.year}",
            json={"awards": {"certificate": certificate}},
            headers=staff,
        )
        assert policy.status_code == 200, policy.text
        me = {"Authorization": f"Bearer {make_token(stack.kit, LEADER, ['leader'])}"}
        wait_until(
            lambda: (
                httpx.get(f"{stack.recognition}/progress/{stack.year}/me", headers=me).json()[
                    "sessions_delivered"
                ]
                == 1
            )
        )
        page.goto(f"{stack.portal}/leader/progress")
        assert page.text_content("#delivered") == "1 session delivered"
        assert "1 of 1 session delivered" in (page.text_content("main") or "")
        assert "1 of 8 sessions delivered" in (page.text_content("main") or "")
        assert page.locator("#no-awards").count() == 1
        ran = httpx.post(
            f"{stack.recognition}/awards/runs", json={"academic_year": stack.year}, headers=staff
        )
        assert ran.status_code == 202, ran.text
        run_state = f"{stack.recognition}{ran.headers['location']}"
        wait_until(lambda: httpx.get(run_state, headers=staff).json()["state"] == "done")
        page.reload()
        page.wait_for_selector("#awards")
        shoot(page, "leader-progress")
        with page.expect_download() as pdf:
            page.get_by_role("link", name=re.compile("Certificate \\(PDF\\)")).click()
        assert pdf.value.path().read_bytes().startswith(b"%PDF")
        with page.expect_download() as badge:
            page.get_by_role("link", name=re.compile("Open Badge")).click()
        assert badge.value.path().read_text().count(".") == 2  # a compact JWS
    finally:
        context.close()


def test_leaders_swap_a_session_between_them_and_find_a_student_by_name(
    stack: Stack, browser: Any, shoot: Any
) -> None:
    """After the tests above (Max has tomorrow's session, an organiser having swapped it): Max
    asks Lee to take it back, Lee sees the request on his rota and accepts, then asks Max for it
    again and withdraws; on today's session Lee finds a student by name and signs them in."""
    staff = stack.staff()
    days = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    everyday = {"slots": [{"weekday": d, "starts": "00:00", "ends": "23:59"} for d in days]}
    for number in (LEADER, LEADER_2):
        put = httpx.put(
            f"{stack.sessions}/leaders/{number}/availability/{stack.year}",
            json=everyday,
            headers=staff,
        )
        assert put.status_code == 200, put.text
    rows = "".join(
        f"{number},{name},{number}@example.ac.uk,Physics,BSc Physics,UG,1,,\n"
        for number, name in STUDENTS.values()
    )
    imported = httpx.post(
        f"{stack.recruitment}/records/imports",
        content=(RECORDS_HEADER + rows).encode(),
        headers={**staff, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 201, imported.text

    max_context, lee_context = browser.new_context(**PHONE), browser.new_context(**DESKTOP)
    try:
        mx = max_context.new_page()
        mx.goto(f"{stack.portal}/leader/rota")
        log_in_at_provider(mx, "max")
        mx.wait_for_selector("#coming")
        assert mx.locator("#no-open-swaps").count() == 1
        later = mx.locator("#coming li").filter(has=mx.locator(f"a[href$='{stack.session_later}']"))
        later.locator("summary").click()
        later.locator("select").select_option(LEADER)
        later.locator("input[name=reason]").fill("Lab moved to Friday")
        later.get_by_role("button", name=re.compile("^Ask")).click()
        mx.wait_for_selector("#flash")
        assert "stays yours until they accept" in (mx.text_content("#flash") or "")
        asked = mx.text_content("#swaps-open") or ""
        assert "You asked Lee Leader to take" in asked and "Lab moved to Friday" in asked
        shoot(mx, "leader-swap-asked")

        lee = lee_context.new_page()
        lee.goto(f"{stack.portal}/leader/rota")
        log_in_at_provider(lee, "lee")
        lee.wait_for_selector("#swaps-open")
        assert "Max Mentor asks you to take" in (lee.text_content("#swaps-open") or "")
        assert stack.session_later not in (lee.inner_html("#coming") or "")
        shoot(lee, "leader-swap-to-answer")
        lee.click("#accept-1")
        lee.wait_for_selector("#flash")
        assert "on your rota now" in (lee.text_content("#flash") or "")
        assert stack.session_later in lee.inner_html("#coming")
        assert "Max Mentor asked you" in (lee.text_content("#swaps-done") or "")
        assert "accepted" in (lee.text_content("#swaps-done") or "")
        rostered = httpx.get(f"{stack.sessions}/sessions/{stack.session_later}", headers=staff)
        assert [x["student_number"] for x in rostered.json()["leaders"]] == [LEADER]

        # asked of Max again, then withdrawn: the session stays Lee's
        mine = lee.locator("#coming li").filter(
            has=lee.locator(f"a[href$='{stack.session_later}']")
        )
        mine.locator("summary").click()
        mine.get_by_role("button", name=re.compile("^Ask")).click()
        lee.wait_for_selector("#withdraw-1")
        lee.click("#withdraw-1")
        lee.wait_for_selector("#flash")
        assert "you stay on the session" in (lee.text_content("#flash") or "")
        assert "withdrawn" in (lee.text_content("#swaps-done") or "")
        mx.reload()
        assert mx.locator("#no-open-swaps").count() == 1
        assert "accepted" in (mx.text_content("#swaps-done") or "")

        # a student who cannot scan and does not know their number, found by name
        lee.goto(f"{stack.portal}/leader/sessions/{stack.session_a}")
        lee.click("#find-by-name")
        lee.wait_for_selector("#name")
        lee.fill("#name", "zz")
        lee.click("#find")
        lee.wait_for_selector("#none-found")
        lee.fill("#name", "byr")
        lee.click("#find")
        lee.wait_for_selector("#found")
        found = lee.text_content("#found") or ""
        assert "Ada Byron" in found and "Bo Chen" not in found
        shoot(lee, "leader-find-by-name")
        lee.get_by_role("button", name="Sign in Ada Byron").click()
        lee.wait_for_selector("#flash")
        ada = STUDENTS["ada"][0]
        assert lee.text_content("#flash") == f"{ada} was already signed in."
        assert lee.text_content("#heading") == "Add a student by name"
        # a session that is not Lee's: closed to him
        lee.goto(f"{stack.portal}/leader/sessions/{stack.session_b}/find?name=ada")
        assert lee.text_content("#heading") == "This is not one of your sessions"
    finally:
        max_context.close()
        lee_context.close()


def test_a_kiosk_signs_students_in_by_number(stack: Stack, browser: Any, shoot: Any) -> None:
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    try:
        page.goto(f"{stack.portal}/kiosk")
        log_in_at_provider(page, "kiosk-library")
        page.wait_for_selector("#kiosk-sign-in")
        assert page.text_content("#heading") == "Physics PASS"
        shoot(page, "kiosk")
        # keyboard only, as with a card reader: the field has the focus, Enter sends it
        number = STUDENTS["cy"][0]
        assert page.evaluate("document.activeElement.id") == "student-number"
        page.keyboard.type(number)
        page.keyboard.press("Enter")
        page.wait_for_selector("#flash")
        assert page.text_content("#flash") == f"{number}: you're signed in."
        shoot(page, "kiosk-signed-in")
        page.keyboard.type("?!")
        page.keyboard.press("Enter")
        page.wait_for_selector("#flash.bad")
        shoot(page, "kiosk-refused")
        [signed] = stack.attendances(stack.session_kiosk)
        assert (signed["student_number"], signed["method"]) == (number, "kiosk")
    finally:
        context.close()


def test_a_kiosk_with_no_room_of_its_own_chooses_one(
    stack: Stack, browser: Any, shoot: Any
) -> None:
    """A kiosk account configured with no room: the rooms with sessions today to choose from
    (or type), then that room's kiosk, and a way back to the choice."""
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    try:
        page.goto(f"{stack.portal}/kiosk")
        log_in_at_provider(page, ROAMING_KIOSK[0])
        page.wait_for_selector("#rooms")
        assert page.text_content("#heading") == "Choose this kiosk's room"
        rooms = page.text_content("#rooms") or ""
        for room in (ROOM_A, "Maths 2.10", KIOSK_ROOM):
            assert room in rooms
        assert "Physics PASS" in rooms
        shoot(page, "kiosk-rooms")
        page.get_by_role("link", name=KIOSK_ROOM).click()
        page.wait_for_selector("#kiosk-sign-in")
        assert page.text_content("#heading") == "Physics PASS"
        assert f"Room {KIOSK_ROOM}" in page.inner_text("main")
        page.click("#change-room")
        page.wait_for_selector("#rooms")
        page.fill("#room", "Nowhere 9.99")
        page.click("#use-room")
        page.wait_for_selector("#no-session")
        assert "Room Nowhere 9.99" in page.inner_text("main")
    finally:
        context.close()


def test_a_stood_down_leader_loses_the_leader_pages_at_the_next_request(
    stack: Stack, browser: Any, shoot: Any
) -> None:
    context = browser.new_context(**PHONE)
    page = context.new_page()
    try:
        page.goto(f"{stack.portal}/leader")
        log_in_at_provider(page, "max")
        page.wait_for_selector("#today")
        assert "Maths 2.10" in (page.text_content("#today") or "")
        page.get_by_role("link", name=re.compile("Open sign-in")).click()
        page.wait_for_selector("#qr svg")

        stood = httpx.post(
            f"{stack.recruitment}/applications/{stack.applications[LEADER_2]}/stand-down",
            json={
                "effective_from": datetime.now(CAMPUS).date().isoformat(),
                "reason": "placement abroad",
            },
            headers=stack.staff(),
        )
        assert stood.status_code == 200, stood.text

        page.reload()
        page.wait_for_selector("#heading")
        assert page.text_content("#heading") == "This page is for PASS Leaders"
        shoot(page, "leader-stood-down")
        page.goto(f"{stack.portal}/leader")
        assert page.text_content("#heading") == "This page is for PASS Leaders"
        # still a student: My PASS opens
        page.goto(f"{stack.portal}/me")
        assert page.text_content("#heading") == "My PASS"
        assert KIOSK_ROOM not in page.inner_text("body")
    finally:
        context.close()
