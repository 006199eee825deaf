"""A whole PASS year through the portal only, in Chromium, on a stack with no data at all: the
coordinator opens the campaign and imports the student records (after their preview); two
students apply; the coordinator assesses a criterion for both at once, records their training
and appoints them; the leaders state when they are free; the organiser schedules a weekly series
and today's sessions, generates the rota and puts a leader on today's session by hand; a student
signs in by the QR code on the leader's screen, another at the library's kiosk, a third from a
typed-up paper sheet, which a correction then revokes with its reason; the results are imported
and the evaluation read; the recognition policy is set, the awards run, and the leader downloads
a certificate whose code the public verification page finds valid; a late correction (the
leader's own sign-in revoked) withdraws the award, as the leader's progress and the
verification page then say. Every console page visited is checked with axe-core and
photographed (tests/output/portal/year-*.png)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.portal.conftest import DESKTOP, PHONE
from tests.portal.console import log_in
from tests.portal.stack import (
    CAMPUS,
    KIOSK,
    KIOSK_ROOM,
    LEADER,
    LEADER_2,
    LEADERS,
    RECORDS_HEADER,
    ROOM_A,
    STUDENTS,
    Stack,
    academic_year,
    wait_until,
)
from tests.portal.test_console_sessions import ENROLMENTS, RESULTS, _settled
from tests.portal.test_student import log_in_at_provider

pytestmark = pytest.mark.browser

#: the stack starts empty: everything below is made through the portal's pages
SEEDED = False

ADA, BO, CY = STUDENTS["ada"][0], STUDENTS["bo"][0], STUDENTS["cy"][0]
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _visit(browser: Any, stack: Stack, user: str, path: str, options: dict[str, Any]) -> Any:
    """A new context logged in as `user` on `path` (a page outside the console)."""
    context = browser.new_context(**options)
    page = context.new_page()
    page.goto(f"{stack.portal}{path}")
    log_in_at_provider(page, user)
    page.wait_for_load_state()
    return page


def _flash(page: Any) -> str:
    page.wait_for_selector("#flash")
    return page.text_content("#flash") or ""


@dataclass
class Year:
    """What every part of the year uses: the stack, the browser, the coordinator's page."""

    stack: Stack
    browser: Any
    shoot: Any
    shoot_console: Any
    coord: Any
    now: datetime
    year: str
    scheme: str
    console: str


def _recruit(y: Year) -> None:
    stack = y.stack
    browser = y.browser
    coord = y.coord
    console = y.console
    year = y.year
    scheme = y.scheme
    shoot = y.shoot
    shoot_console = y.shoot_console
    # -- recruitment: the campaign, the records (previewed first), the applications -------
    coord.goto(f"{console}/recruitment")
    assert coord.locator("#no-campaigns").count() == 1
    coord.fill("#academic_year", year)
    coord.fill("#schools", "Physics")
    coord.click("#open-campaign")
    assert _flash(coord) == f"The {year} campaign is open."
    shoot_console(coord, "year-recruitment-campaign", (1280,))

    people = {**LEADERS, **STUDENTS}
    rows = "".join(
        f"{number},{name},{number}@example.ac.uk,Physics,BSc Physics,UG,2,68,\n"
        for number, name in people.values()
    )
    coord.goto(f"{console}/recruitment/records/import")
    coord.set_input_files(
        "#file",
        files=[
            {
                "name": "sits-export.csv",
                "mimeType": "text/csv",
                "buffer": (RECORDS_HEADER + rows).encode(),
            }
        ],
    )
    coord.click("#preview")
    coord.wait_for_selector("#summary")
    assert coord.locator("#sample tbody tr").count() == len(people)
    assert coord.text_content("#no-problems") is not None
    shoot_console(coord, "year-records-preview", (1280,))
    coord.click("#import")
    assert f"Imported {len(people)} student records" in _flash(coord)

    # the scheme, launched now so that its leaders can be appointed to it
    coord.goto(f"{console}/sessions")
    coord.click("#launch summary")
    coord.fill("#launch-code", "PHYS")
    coord.fill("#launch-title", "Physics PASS")
    coord.fill("#launch-school", "Physics")
    coord.fill("#launch-modules", "PHY1001")
    coord.fill("#launch-organisers", "E0000002")
    coord.click("#launch-button")
    assert f"Physics PASS is launched ({scheme})" in _flash(coord)

    # two students apply on their phones
    for user, (number, _) in (("lee", LEADERS["lee"]), ("max", LEADERS["max"])):
        page = _visit(browser, stack, user, "/apply", PHONE)
        try:
            page.fill("#email", f"{number}@example.ac.uk")
            page.fill("#statement", "PASS got me through first year; I want to give back.")
            page.click("#send-application")
            page.wait_for_selector("#mine")
            if user == "lee":
                shoot(page, "year-apply-sent", (360,))
        finally:
            page.context.close()

    coord.goto(f"{console}/recruitment/{year}/applications")
    coord.wait_for_selector("#applications")
    links = coord.locator("#applications tbody td:first-child a")
    assert sorted(links.all_text_contents()) == ["Lee Leader", "Max Mentor"]
    applications = {
        (links.nth(i).text_content() or ""): (links.nth(i).get_attribute("href") or "")
        for i in range(links.count())
    }
    shoot_console(coord, "year-applications", (1280,))

    # one criterion for both at once: the presentation at the training day
    coord.goto(f"{console}/recruitment/{year}/bulk?code=articulate")
    assert coord.locator("#bulk tbody tr").count() == 2
    coord.check("#met-1")
    coord.check("#met-2")
    coord.fill("#note", "presentation at the training day")
    shoot_console(coord, "year-bulk", (1280,))
    coord.click("#record-bulk")
    assert _flash(coord) == "Recorded for 2 applicants."

    # their core training
    coord.goto(f"{console}/recruitment/{year}/training")
    coord.fill("#t-title", "Core training")
    coord.fill("#t-hours", "12")
    coord.click("#add-training")
    coord.wait_for_selector("#numbers-1")
    coord.fill("#numbers-1", f"{LEADER}\n{LEADER_2}\n")
    coord.click("#record-attendance-1")
    coord.wait_for_selector("#none-lacking")
    shoot_console(coord, "year-training", (1280,))

    # each assessed on what is left, then appointed to the scheme
    for name, href in sorted(applications.items()):
        coord.goto(stack.portal + href)
        for radio in coord.locator("#criteria td > fieldset input[value=met]").all():
            radio.check()
        coord.click("#record-assessment")
        assert "can be appointed" in (coord.text_content("#applicant-status") or ""), name
        coord.check(f"#appoint input[name=schemes][value='{scheme}']")
        coord.click("#appoint-button")
        assert "appointed leader" in _flash(coord)
        if name == "Lee Leader":
            shoot_console(coord, "year-applicant", (360, 1280))
    coord.goto(f"{console}/recruitment/{year}/shortlist?scheme={scheme}")
    shoot_console(coord, "year-shortlist", (1280,))

    # -- the leaders say when they are free (sessions hears of their appointments) ------
    def appointed() -> bool:
        r = httpx.get(f"{stack.sessions}/schemes/{scheme}/leaders", headers=stack.staff())
        known = {x["student_number"] for x in r.json()} if r.status_code == 200 else set()
        return {LEADER, LEADER_2} <= known

    wait_until(appointed)
    for user in ("lee", "max"):
        page = _visit(browser, stack, user, "/leader/availability", PHONE)
        try:
            for day in DAYS:
                page.fill(f"#{day}-starts", "00:00")
                page.fill(f"#{day}-ends", "23:59")
            page.click("#save-availability")
            page.wait_for_selector("#flash")
        finally:
            page.context.close()


def _schedule(y: Year) -> tuple[Any, str]:
    """The organiser's page, and today's session (the kiosk's room has one too)."""
    stack = y.stack
    browser = y.browser
    console = y.console
    scheme = y.scheme
    shoot_console = y.shoot_console
    now = y.now
    # -- the organiser: a weekly series, today's sessions, the rota ----------------------
    _, org = log_in(browser, stack, "org", DESKTOP)
    org.goto(f"{console}/sessions/schemes/{scheme}")
    org.click("#add-series summary")
    org.select_option("#weekday", "saturday")
    org.fill("#series-starts", "08:00")
    org.fill("#series-ends", "09:00")
    org.fill("#series-room", "Physics 3.01")
    org.fill("#series-capacity", "30")
    org.click("#add-series-button")
    assert "The weekly series is scheduled" in _flash(org)

    under_way = now.astimezone(CAMPUS).replace(second=0, microsecond=0) - timedelta(minutes=10)
    made: dict[str, str] = {}
    for room in (ROOM_A, KIOSK_ROOM):
        org.goto(f"{console}/sessions/schemes/{scheme}")
        org.click("#add-one summary")
        org.fill("#one-date", under_way.date().isoformat())
        org.fill("#one-starts", f"{under_way:%H:%M}")
        org.fill("#one-ends", f"{under_way + timedelta(minutes=50):%H:%M}")
        org.fill("#one-room", room)
        org.fill("#one-capacity", "40")
        org.click("#add-one-button")
        assert "is scheduled" in _flash(org)
        made[room] = org.url.rsplit("/", 1)[1].split("?")[0]
    today, kiosk_session = made[ROOM_A], made[KIOSK_ROOM]
    org.goto(f"{console}/sessions/schemes/{scheme}")
    shoot_console(org, "year-scheme", (360, 1280))

    org.goto(f"{console}/sessions/schemes/{scheme}/rota")
    org.click("#preview-rota")
    org.wait_for_selector("#preview-note")
    # the series' sessions still to come get leaders (in June and July the year's last
    # teaching week has passed, and there is nothing left to fill)
    shown = org.locator("#places")
    places = int(shown.text_content() or "0") if shown.count() else 0
    shoot_console(org, "year-rota-preview", (1280,))
    org.click("#save-rota")
    assert "The rota is saved" in _flash(org)
    if places:
        assert "Lee Leader" in (org.text_content("#rota-grid") or "")
    shoot_console(org, "year-rota", (360, 1280))

    # today's session had started, so the generator left it: Lee is put on it by hand
    org.goto(f"{console}/sessions/sessions/{today}")
    org.check(f"#candidates input[value='{LEADER}']")
    org.click("#add-leader")
    assert f"{LEADER} is on the session" in _flash(org)
    shoot_console(org, "year-session", (1280,))

    def rostered() -> bool:
        r = httpx.get(f"{stack.attendance}/sessions", headers=stack.staff())
        known = {x["session_id"]: x["leaders"] for x in r.json()} if r.is_success else {}
        return known.get(today) == [LEADER] and kiosk_session in known

    wait_until(rostered)

    return org, today


def _sign_in(y: Year, org: Any, today: str) -> Any:
    """Lee's page on his screen."""
    stack = y.stack
    browser = y.browser
    coord = y.coord
    console = y.console
    shoot = y.shoot
    shoot_console = y.shoot_console
    # -- sign-ins: the QR code on Lee's screen, the kiosk, a paper sheet -----------------
    lee = _visit(browser, stack, "lee", f"/leader/sessions/{today}", DESKTOP)
    lee.wait_for_selector("#qr svg")
    lee.click("#leader-sign-in")
    lee.wait_for_selector("#leader-signed-in")
    code_url = lee.get_attribute("#qr", "data-url") or ""
    assert code_url.startswith(f"{stack.portal}/s/")

    student = browser.new_context(**PHONE)
    try:
        page = student.new_page()
        page.goto(code_url)
        log_in_at_provider(page, "ada")
        page.click("#sign-in")
        page.wait_for_selector("#feedback-link")
        shoot(page, "year-student-signed-in", (360,))
    finally:
        student.close()

    kiosk = _visit(browser, stack, KIOSK[0], "/kiosk", DESKTOP)
    try:
        kiosk.wait_for_selector("#kiosk-sign-in")
        kiosk.keyboard.type(BO)
        kiosk.keyboard.press("Enter")
        assert _flash(kiosk) == f"{BO}: you're signed in."
    finally:
        kiosk.context.close()

    reference = org.text_content("#heading") or ""
    coord.goto(f"{console}/attendance/import")
    # two sessions share the reference (same scheme, same start): the room tells them apart
    coord.fill("#sheet", f"session,student_number,room\n{reference},{CY},{ROOM_A}\n")
    coord.click("#check-sheet")
    coord.wait_for_selector("#preview-lines, #errors, #heading")
    assert coord.locator("#preview-lines").count() == 1, coord.inner_text("main")
    shoot_console(coord, "year-attendance-import", (1280,))
    coord.click("#confirm-import")
    assert "Imported 1 sign-in" in _flash(coord)

    coord.goto(f"{console}/attendance")
    coord.wait_for_selector("#today")
    shoot_console(coord, "year-attendance-today", (1280,))

    # a correction: Cy's line was typed under the wrong session
    coord.goto(f"{console}/attendance/sessions/{today}")
    roster = coord.text_content("#roster") or ""
    assert "Ada Byron" in roster and "Cy Okafor" in roster and "Lee Leader" in roster
    coord.click(f"#roster summary:has-text('{CY}')")
    coord.fill(f"#roster tr:has-text('{CY}') input[name=reason]", "typed under the wrong session")
    coord.click(f"#roster tr:has-text('{CY}') button:has-text('Revoke')")
    coord.wait_for_selector("#flash")
    assert "typed under the wrong session" in (coord.text_content("#audit") or "")
    shoot_console(coord, "year-attendance-session", (360, 1280))

    return lee


def _evaluate(y: Year, tmp_path: Path) -> None:
    coord = y.coord
    console = y.console
    year = y.year
    scheme = y.scheme
    shoot_console = y.shoot_console
    # -- the results, and the evaluation ----------------------------------------------------
    numbers = [f"S26{i:05d}" for i in range(12)] + [ADA, BO, CY]
    enrolments = tmp_path / "enrolments.csv"
    enrolments.write_text(
        ENROLMENTS + "".join(f"{n},PHY1001,{year},{100 + i}\n" for i, n in enumerate(numbers))
    )
    results = tmp_path / "results.csv"
    results.write_text(
        RESULTS + "".join(f"{n},PHY1001,{year},{50 + i}\n" for i, n in enumerate(numbers))
    )
    for kind, path in (("enrolments", enrolments), ("results", results)):
        coord.goto(f"{console}/evaluation/imports")
        coord.check(f"input[name=kind][value={kind}]")
        coord.set_input_files("#file", str(path))
        coord.click("#check-file")
        assert "Nothing is imported yet" in _settled(coord, "Checking")
        if kind == "results":
            shoot_console(coord, "year-evaluation-import", (1280,))
        coord.click("#confirm-import")
        assert _settled(coord, "Importing") == "Imported."
    coord.goto(f"{console}/evaluation?scheme={scheme}")
    coord.wait_for_selector("#suppression")
    assert "15 enrolled" in coord.inner_text("main")
    shoot_console(coord, "year-evaluation", (1280,))


def _recognise(y: Year, lee: Any, today: str) -> None:
    stack = y.stack
    coord = y.coord
    console = y.console
    year = y.year
    shoot = y.shoot
    shoot_console = y.shoot_console
    # -- recognition: the policy, the awards run, a certificate verified --------------------
    coord.goto(f"{console}/recognition/policy?year={year}")
    coord.fill("#certificate_min_sessions", "1")
    coord.click("#save-policy")
    assert "saved as version 1" in _flash(coord)
    shoot_console(coord, "year-recognition-policy", (1280,))

    def delivered() -> int:
        r = httpx.get(f"{stack.recognition}/progress/{year}", headers=stack.staff())
        found = [p for p in r.json() if p["student_number"] == LEADER] if r.is_success else []
        return int(found[0]["sessions_delivered"]) if found else -1

    wait_until(lambda: delivered() == 1)
    coord.goto(f"{console}/recognition/progress?year={year}")
    assert coord.locator("#progress tbody tr").count() == 2
    shoot_console(coord, "year-recognition-progress", (1280,))
    coord.goto(f"{console}/recognition/awards?year={year}")
    coord.click("#preview-link")
    coord.wait_for_selector("#preview")
    shoot_console(coord, "year-recognition-preview", (1280,))
    coord.click("#run")
    # the run is a job of the recognition service: its page follows it to the result
    coord.wait_for_selector("#job-result", timeout=60_000)
    assert "1 granted" in " ".join((coord.text_content("#job-result") or "").split())
    shoot_console(coord, "year-recognition-awards", (1280,))

    lee.goto(f"{stack.portal}/leader/progress")
    lee.wait_for_selector("#awards")
    awards = lee.text_content("#awards") or ""
    code = awards.split("verification code", 1)[1].split()[0]
    with lee.expect_download() as pdf:
        lee.get_by_role("link", name="Certificate (PDF)").click()
    assert Path(pdf.value.path()).read_bytes().startswith(b"%PDF")
    verify = lee.context.new_page()
    verify.goto(f"{stack.recognition}/verify/{code}")
    assert (verify.text_content("#status") or "").startswith("Valid")

    # -- a late correction: Lee's own sign-in was a mistake, so the certificate falls -------
    coord.goto(f"{console}/attendance/sessions/{today}")
    coord.click(f"#roster summary:has-text('{LEADER}')")
    coord.fill(
        f"#roster tr:has-text('{LEADER}') input[name=reason]",
        "signed in on the wrong screen; Lee was not there",
    )
    coord.click(f"#roster tr:has-text('{LEADER}') button:has-text('Revoke')")
    coord.wait_for_selector("#flash")

    def withdrawn() -> bool:
        verify.reload()
        return (verify.text_content("#status") or "").startswith("Withdrawn")

    wait_until(withdrawn)
    shoot(verify, "year-verification-withdrawn", (360,))
    lee.reload()
    assert "Withdrawn" in (lee.text_content("#awards") or "")
    assert (lee.text_content("#delivered") or "").startswith("0 ")
    shoot(lee, "year-leader-progress-withdrawn", (360,))
    coord.goto(f"{console}/recognition/awards?year={year}")
    assert "withdrawn" in (coord.text_content("#awards") or "").lower()


def test_a_pass_year_from_the_campaign_to_a_withdrawn_certificate(
    stack: Stack, browser: Any, shoot_console: Any, shoot: Any, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    year = academic_year(now)
    coord_context, coord = log_in(browser, stack, "coord", DESKTOP)
    contexts = [coord_context]
    y = Year(
        stack,
        browser,
        shoot,
        shoot_console,
        coord,
        now,
        year,
        f"{year}-PHYS",
        f"{stack.portal}/console",
    )
    try:
        _recruit(y)
        org, today = _schedule(y)
        contexts.append(org.context)
        lee = _sign_in(y, org, today)
        contexts.append(lee.context)
        _evaluate(y, tmp_path)
        _recognise(y, lee, today)
    finally:
        for context in contexts:
            context.close()
