"""The console's Sessions, Attendance and Evaluation areas in Chromium: a coordinator schedules a
weekly series, previews and saves the rota, puts a leader on a session by keyboard from the
candidates the sessions service checked, previews a reschedule (the leaders' calendars it
changes) and a cancellation; watches today's headcounts, corrects a session's roster with
reasons, prints the paper sheet and imports a typed-up one after its check; reads engagement;
imports enrolments and results in the background and reads the outcomes report with its chart
and downloads. An organiser stays inside their own scheme; an academic sees reports only."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError

from passhub_shared.web.auth import make_token
from tests.portal.conftest import DESKTOP, PHONE
from tests.portal.console import log_in
from tests.portal.stack import LEADER, LEADER_2, RECORDS_HEADER, STUDENTS, Stack, wait_until

pytestmark = pytest.mark.browser
#: after the console frame's tests, on their stack (which only add a student organiser)
SHARED_STACK = "console-sessions"


def _session(stack: Stack, session_id: str) -> dict[str, Any]:
    r = httpx.get(f"{stack.sessions}/sessions/{session_id}", headers=stack.staff())
    r.raise_for_status()
    return dict(r.json())


def test_a_coordinator_runs_schemes_series_and_the_rota(
    stack: Stack, browser: Any, shoot: Any
) -> None:
    context, page = log_in(browser, stack, "coord", DESKTOP)
    try:
        page.click("#nav-sessions")
        page.wait_for_selector("#schemes")
        table = page.text_content("#schemes") or ""
        assert "Physics PASS" in table and "Chemistry PASS" in table
        shoot(page, "console-sessions-schemes")

        # a new scheme, launched from the list; then its organisers named
        page.click("#launch summary")
        page.fill("#launch-code", "BIOL")
        page.fill("#launch-title", "Biology PASS")
        page.fill("#launch-school", "Biology")
        page.fill("#launch-modules", "BIO1001 BIO1002")
        page.click("#launch-button")
        page.wait_for_selector("#flash")
        assert f"Biology PASS is launched ({stack.year}-BIOL)" in (
            page.text_content("#flash") or ""
        )
        page.click("#amend summary")
        page.fill("#amend-organisers", "E0000009")
        page.fill("#amend-leaders", "3")
        page.click("#amend-button")
        page.wait_for_selector("#flash")
        assert page.text_content("#organisers") == "E0000009"
        assert "3 leaders a session" in page.inner_text("main")
        page.goto(f"{stack.portal}/console/sessions")

        page.click("#term-dates-link")
        page.wait_for_selector("#weeks-1")
        assert "S1W1" in (page.text_content("#weeks-1") or "")
        shoot(page, "console-sessions-term-dates")

        page.goto(f"{stack.portal}/console/sessions/schemes/{stack.scheme}")
        assert page.text_content("#heading") == "Physics PASS"
        rooms = page.text_content("#rooms") or ""
        assert "Physics 1.02" in rooms and "40" in rooms
        # a weekly series through semester 2, leaving its first teaching week out
        page.click("#add-series summary")
        page.select_option("#weekday", "saturday")
        page.fill("#series-starts", "08:00")
        page.fill("#series-ends", "09:00")
        page.fill("#series-room", "Physics 3.01")
        page.fill("#series-capacity", "30")
        page.uncheck("input[name=semesters][value='1']")
        page.check("input[name=skip_weeks][value='S2W1']")
        shoot(page, "console-sessions-scheme-add-series")
        page.click("#add-series-button")
        page.wait_for_selector("#flash")
        assert "The weekly series is scheduled" in (page.text_content("#flash") or "")
        series = page.text_content("#series") or ""
        assert "Saturday 08:00" in series and "09:00" in series and "S2W1" in series
        assert "Physics 3.01" in (page.text_content("#rooms") or "")
        shoot(page, "console-sessions-scheme")

        # a room already booked then is refused, with the clash named, and nothing made
        page.click("#add-series summary")
        page.select_option("#weekday", "saturday")
        page.fill("#series-starts", "08:30")
        page.fill("#series-ends", "09:30")
        page.fill("#series-room", "physics  3.01")
        page.fill("#series-capacity", "30")
        page.click("#add-series-button")
        assert page.text_content("#heading") == "That could not be done"
        assert "Nothing was changed" in (page.inner_text("main") or "")
        shoot(page, "console-sessions-series-clash")

        # the rota grid: weeks by slot, the new series' sessions short of leaders
        page.goto(f"{stack.portal}/console/sessions/schemes/{stack.scheme}/rota")
        page.wait_for_selector("#rota-grid")
        grid = page.text_content("#rota-grid") or ""
        assert "Sat 08:00, Physics 3.01" in grid and "Lee Leader" in grid
        short_before = int((page.text_content("#short-count") or "").split()[0])
        shoot(page, "console-sessions-rota")
        page.click("#preview-rota")
        page.wait_for_selector("#preview-note")
        assert int(page.text_content("#places") or "0") > 0
        assert "Lee Leader" in (page.text_content("#additions") or "")
        shoot(page, "console-sessions-rota-preview")
        page.click("#save-rota")
        page.wait_for_selector("#flash")
        assert "The rota is saved" in (page.text_content("#flash") or "")
        # what is left short is what had already started (the generator leaves it as it is)
        left = (page.text_content("#short-count") or "").split()[0]
        assert left == "No" or int(left) < short_before
    finally:
        context.close()


def test_a_session_s_leaders_are_picked_by_keyboard_and_changes_previewed(
    stack: Stack, browser: Any, shoot: Any
) -> None:
    if LEADER_2 not in {
        x["student_number"] for x in _session(stack, stack.session_later)["leaders"]
    }:
        r = httpx.post(
            f"{stack.sessions}/sessions/{stack.session_later}/leaders",
            json={"student_number": LEADER_2},
            headers=stack.staff(),
        )
        assert r.status_code == 201, r.text
    session = _session(stack, stack.session_later)
    context, page = log_in(browser, stack, "coord", DESKTOP)
    try:
        page.goto(f"{stack.portal}/console/sessions/sessions/{stack.session_later}")
        assert page.text_content("#heading") == session["reference"]
        # take Max off (a reason given), then put him back by keyboard from the checked list
        page.click("#rostered summary:has-text('Max Mentor')")
        page.fill(f"#reason-{LEADER_2}", "covering for a colleague, then back")
        page.click("#rostered li:has-text('Max Mentor') button[value=remove]")
        page.wait_for_selector("#flash")
        assert f"{LEADER_2} is off the session" in (page.text_content("#flash") or "")
        assert "Short of leaders" in (page.text_content("#why-short") or "")
        radio = page.locator(f"#candidates input[value='{LEADER_2}']")
        assert radio.is_enabled()
        radio.focus()
        page.keyboard.press("Space")
        assert radio.is_checked()
        page.locator("#add-leader").focus()
        page.keyboard.press("Enter")
        page.wait_for_selector("#flash")
        assert f"{LEADER_2} is on the session" in (page.text_content("#flash") or "")
        assert page.locator("#why-short").count() == 0
        shoot(page, "console-sessions-session")

        # with a mouse: Max taken off again, then dragged back from another cell of the grid;
        # the drop opens the session with him picked, for the same check before saving
        page.click("#rostered summary:has-text('Max Mentor')")
        page.fill(f"#reason-{LEADER_2}", "dragged back next")
        page.click("#rostered li:has-text('Max Mentor') button[value=remove]")
        page.wait_for_selector("#why-short")
        page.goto(f"{stack.portal}/console/sessions/schemes/{stack.scheme}/rota")
        target = f".rota-cell[data-href$='{stack.session_later}']"
        source = (
            f".rota-cell:not([data-href$='{stack.session_later}']) li[data-number='{LEADER_2}']"
        )
        page.drag_and_drop(f"{source} >> nth=0", target)
        page.wait_for_url(re.compile(rf".*/sessions/{stack.session_later}\?pick={LEADER_2}.*"))
        assert "they are picked below" in (page.text_content("#picked-note") or "")
        assert page.locator(f"#candidates input[value='{LEADER_2}']").is_checked()
        shoot(page, "console-sessions-session-dropped")
        page.click("#add-leader")
        page.wait_for_selector("#flash")
        assert f"{LEADER_2} is on the session" in (page.text_content("#flash") or "")

        # a reschedule is checked first: the session as it would be, and the calendars it moves
        page.fill("#r-starts", "07:00")
        page.fill("#r-ends", "07:50")
        page.fill("#r-reason", "the room is needed for an exam")
        page.click("#reschedule-preview")
        page.wait_for_selector("#preview-note")
        assert "07:00" in (page.text_content("#after") or "")
        changes = page.text_content("#calendar-changes") or ""
        assert "Lee Leader" in changes and "moves the session" in changes
        assert _session(stack, stack.session_later)["starts_at"] == session["starts_at"]
        shoot(page, "console-sessions-reschedule-preview")
        page.click("#confirm-change")
        page.wait_for_selector("#flash")
        assert "is rescheduled" in (page.text_content("#flash") or "")
        moved = _session(stack, stack.session_later)
        assert "T07:00" in moved["starts_at"] and moved["sequence"] > session["sequence"]

        # a cancellation needs a reason, and says what it does to the leaders' calendars
        page.fill("#c-reason", "leaders on a field trip")
        page.click("#cancel-preview")
        page.wait_for_selector("#preview-note")
        assert "marked cancelled" in (page.text_content("#calendar-changes") or "")
        assert _session(stack, stack.session_later)["status"] == "scheduled"
        shoot(page, "console-sessions-cancel-preview")
        page.click("text=Go back")
        page.wait_for_selector("#reschedule-preview")
    finally:
        context.close()


def test_an_organiser_sees_and_changes_only_their_schemes(
    stack: Stack, browser: Any, shoot: Any
) -> None:
    context, page = log_in(browser, stack, "org", PHONE)
    try:
        page.goto(f"{stack.portal}/console/sessions")
        table = page.text_content("#schemes") or ""
        assert "Physics PASS" in table and "Chemistry PASS" not in table
        shoot(page, "console-sessions-organiser")
        response = page.goto(f"{stack.portal}/console/sessions/schemes/{stack.other_scheme}")
        assert response is not None and response.status == 403
        assert page.text_content("#heading") == "This is not one of your schemes"
        response = page.goto(f"{stack.portal}/console/sessions/schemes/{stack.scheme}/rota")
        assert response is not None and response.status == 200
        shoot(page, "console-sessions-rota-phone")
    finally:
        context.close()


def _past_sessions(stack: Stack, weeks: tuple[int, ...]) -> list[str]:
    """Sessions of the scheme that took place these many weeks ago, known to attendance."""
    made = []
    for w in weeks:
        starts = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(weeks=w)
        r = httpx.post(
            f"{stack.sessions}/schemes/{stack.scheme}/sessions",
            json={
                "starts_at": starts.isoformat(),
                "ends_at": (starts + timedelta(minutes=50)).isoformat(),
                "room": "Physics 9.99",
                "capacity": 20,
            },
            headers=stack.staff(),
        )
        assert r.status_code == 201, r.text
        made.append(str(r.json()["session_id"]))

    def known() -> bool:
        r = httpx.get(
            f"{stack.attendance}/sessions", headers=stack.staff(), params={"room": "Physics 9.99"}
        )
        return r.is_success and {x["session_id"] for x in r.json()} >= set(made)

    wait_until(known)
    return made


def test_attendance_today_a_roster_corrected_and_a_paper_sheet(
    stack: Stack, browser: Any, shoot: Any
) -> None:
    leader = {"Authorization": f"Bearer {make_token(stack.kit, LEADER, ['leader'])}"}
    r = httpx.post(f"{stack.attendance}/sessions/{stack.session_a}/leader-sign-in", headers=leader)
    assert r.status_code in (200, 201), r.text
    context, page = log_in(browser, stack, "coord", DESKTOP)
    try:
        page.click("#nav-attendance")
        page.wait_for_selector("#today")
        today = page.text_content("#today") or ""
        assert "Physics PASS" in today and "under way" in today
        assert "all 1 in" in today  # session A's leader signed in
        shoot(page, "console-attendance-today")

        page.goto(f"{stack.portal}/console/attendance/sessions/{stack.session_a}")
        (ada, ada_name), bo = STUDENTS["ada"], STUDENTS["bo"][0]
        # Ada's record is imported: the roster names her from it
        imported = httpx.post(
            f"{stack.recruitment}/records/imports",
            content=(
                RECORDS_HEADER
                + f"{ada},{ada_name},{ada}@example.ac.uk,Physics,BSc Physics,UG,2,68,\n"
            ).encode(),
            headers={**stack.staff(), "Content-Type": "text/csv"},
        )
        assert imported.status_code == 201, imported.text
        page.fill("#add-number", ada)
        page.fill("#add-reason", "signed the paper sheet; the QR code did not scan")
        page.click("#add-student")
        page.wait_for_selector("#flash")
        assert f"{ada} is added" in (page.text_content("#flash") or "")
        assert ada in (page.text_content("#roster") or "")
        assert ada_name in (page.text_content("#roster") or "")
        page.goto(f"{stack.portal}/console/attendance/sessions/{stack.session_a}?sort=-name")
        named = page.locator("#roster tbody tr td:nth-child(3)").all_text_contents()
        assert ada_name in named and named == sorted(named, reverse=True), named
        page.goto(f"{stack.portal}/console/attendance/sessions/{stack.session_a}")
        # a reason is required: without one the browser asks for it, and nothing is sent
        page.fill("#add-number", bo)
        page.click("#add-student")
        assert page.locator("#add-reason:invalid").count() == 1
        # revoking, with a reason
        page.click(f"#roster summary:has-text('{ada}')")
        page.fill("#revoke-1", "added to the wrong session")
        page.click("#roster button:has-text('Revoke')")
        page.wait_for_selector("#flash")
        assert "revoked" in (page.text_content("#roster") or "")
        trail = page.text_content("#audit") or ""
        assert "attendance revoked" in trail and "added to the wrong session" in trail
        shoot(page, "console-attendance-session")
        sheet = page.request.get(stack.portal + (page.get_attribute("#sheet-link", "href") or ""))
        assert sheet.status == 200 and sheet.body().startswith(b"%PDF")

        # a typed-up sheet: checked first, every error at once, then imported
        reference = _session(stack, stack.session_a)["reference"]
        page.goto(f"{stack.portal}/console/attendance/import")
        page.fill("#sheet", f"session,student_number\n{reference},12 34\nNOPE-2026,{bo}\n")
        page.click("#check-sheet")
        page.wait_for_selector("#errors")
        assert page.locator("#errors tbody tr").count() == 2
        shoot(page, "console-attendance-import-errors")
        page.fill("#sheet", f"session,student_number\n{reference},{bo}\n{reference},{ada}\n")
        page.click("#check-sheet")
        page.wait_for_selector("#preview-lines")
        assert page.text_content("#to-import") == "2"
        active = {a["student_number"] for a in stack.attendances(stack.session_a) if a["active"]}
        assert bo not in active  # the check recorded nothing
        shoot(page, "console-attendance-import-preview")
        page.click("#confirm-import")
        page.wait_for_selector("#flash")
        assert "Imported 2 sign-ins" in (page.text_content("#flash") or "")
        active = {a["student_number"] for a in stack.attendances(stack.session_a) if a["active"]}
        assert {ada, bo} <= active

        # engagement: past weekly sessions, a student who came twice and stopped
        past = _past_sessions(stack, weeks=(6, 5, 4, 1))
        cy = STUDENTS["cy"][0]
        for session_id in past[:2]:
            r = httpx.post(
                f"{stack.attendance}/sessions/{session_id}/attendances",
                json={"student_number": cy, "reason": "typed from the register"},
                headers=stack.staff(),
            )
            assert r.status_code == 201, r.text
        page.goto(f"{stack.portal}/console/attendance/engagement?scheme={stack.scheme}")
        page.wait_for_selector("#engagement")
        row = page.locator(f"#engagement tr:has-text('{cy}')")
        assert "came 2, stopped" in (row.text_content() or "")
        shoot(page, "console-attendance-engagement")
        export = page.request.get(stack.portal + (page.get_attribute("#export", "href") or ""))
        assert export.status == 200
        assert export.text().startswith("student_number,kind,sessions")
    finally:
        context.close()


def _settled(page: Any, running: str, timeout: float = 60.0) -> str:
    """The import page's state once it no longer says `running` (it reloads itself)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = (page.text_content("#state", timeout=5000) or "").strip()
        except PlaywrightError:  # the page was reloading
            state = running
        if running not in state:
            return state
        page.wait_for_timeout(500)
    raise AssertionError(f"the import still says {running!r}")


ENROLMENTS = "student_number,module,academic_year,prior_attainment\n"
RESULTS = "student_number,module,academic_year,mark\n"


def test_evaluation_imports_in_the_background_then_the_report(
    stack: Stack, browser: Any, shoot: Any, tmp_path: Any
) -> None:
    numbers = [f"S26{i:05d}" for i in range(12)] + [n for n, _ in STUDENTS.values()]
    enrolments = tmp_path / "enrolments.csv"
    enrolments.write_text(
        ENROLMENTS + "".join(f"{n},PHY1001,{stack.year},{100 + i}\n" for i, n in enumerate(numbers))
    )
    results = tmp_path / "results.csv"
    results.write_text(
        RESULTS + "".join(f"{n},PHY1001,{stack.year},{50 + i}\n" for i, n in enumerate(numbers))
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(RESULTS + f"S1,PHY1001,{stack.year},105\nS2,PHY1001,{stack.year},-3\n")
    context, page = log_in(browser, stack, "coord", DESKTOP)
    try:
        page.goto(f"{stack.portal}/console/evaluation/imports")
        shoot(page, "console-evaluation-imports")
        for kind, path in (("enrolments", enrolments), ("results", results)):
            page.goto(f"{stack.portal}/console/evaluation/imports")
            page.check(f"input[name=kind][value={kind}]")
            page.set_input_files("#file", str(path))
            page.click("#check-file")
            # the check runs in the background; the page refreshes itself until it is done
            state = _settled(page, "Checking")
            assert "Nothing is imported yet" in state, page.inner_text("main")
            assert "PHY1001" in (page.text_content("#summary") or "")
            if kind == "enrolments":
                shoot(page, "console-evaluation-import-checked")
            page.click("#confirm-import")
            assert _settled(page, "Importing") == "Imported.", page.inner_text("main")
        page.goto(f"{stack.portal}/console/evaluation/imports")
        page.check("input[name=kind][value=results]")
        page.set_input_files("#file", str(bad))
        page.click("#check-file")
        page.wait_for_selector("#errors", timeout=60000)
        assert page.locator("#errors tbody tr").count() == 2
        shoot(page, "console-evaluation-import-errors")

        page.goto(f"{stack.portal}/console/evaluation?scheme={stack.scheme}&band=bands")
        page.wait_for_selector("#suppression")
        assert "fewer than 5" in (page.text_content("#suppression") or "")
        body = page.inner_text("main")
        assert "15 enrolled" in body and "PHY1001" in body
        page.wait_for_function("() => document.querySelector('#chart img').naturalWidth > 0")
        for fmt in ("csv", "png", "svg"):
            got = page.request.get(
                stack.portal + (page.get_attribute(f"#download-{fmt}", "href") or "")
            )
            assert got.status == 200, fmt
        shoot(page, "console-evaluation-outcomes")
    finally:
        context.close()

    context, page = log_in(browser, stack, "acad", PHONE)
    try:
        page.goto(f"{stack.portal}/console/evaluation?scheme={stack.scheme}")
        page.wait_for_selector("#suppression")
        assert page.locator("#imports-link").count() == 0
        shoot(page, "console-evaluation-academic")
        page.goto(f"{stack.portal}/console/attendance")
        page.wait_for_selector("#today")
        assert page.locator("#import-link").count() == 0
        assert page.locator("#today a").count() == 0  # headcounts, but no rosters
        shoot(page, "console-attendance-today-academic")
        response = page.goto(f"{stack.portal}/console/attendance/sessions/{stack.session_a}")
        assert response is not None and response.status == 403
        response = page.goto(f"{stack.portal}/console/evaluation/imports")
        assert response is not None and response.status == 403
        response = page.goto(f"{stack.portal}/console/sessions")
        assert response is not None and response.status == 403
    finally:
        context.close()


def test_the_keyboard_reaches_the_rota_and_its_cells(stack: Stack, browser: Any) -> None:
    context, page = log_in(browser, stack, "coord", DESKTOP)
    try:
        page.goto(f"{stack.portal}/console/sessions/schemes/{stack.scheme}/rota")
        page.wait_for_selector("#rota-grid")
        for _ in range(60):
            page.keyboard.press("Tab")
            focused = page.evaluate("document.activeElement.className")
            if "cell-link" in focused:
                break
        else:
            raise AssertionError("no rota cell reached by Tab")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*/console/sessions/sessions/.+"))
    finally:
        context.close()
