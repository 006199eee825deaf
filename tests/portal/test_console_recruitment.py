"""The console's recruitment pages in a browser: a coordinator imports student records (a
preview with every problem first), reads the campaign and its person specification, filters
and sorts the applications, assesses one applicant and records one criterion for many,
reads the shortlist with those who cannot be appointed set apart, records training and
appoints and rejects; an organiser sees their own scheme's applicants only."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from passhub_shared.web.auth import make_token
from tests.portal.conftest import DESKTOP, PHONE
from tests.portal.console import (
    log_in,
)
from tests.portal.stack import RECORDS_HEADER, STUDENTS, Stack, ok

pytestmark = pytest.mark.browser
#: last on the stack of the annual report's and the recognition pages' tests, which neither
#: import student records nor apply
SHARED_STACK = "annual-recognition-recruitment"

ADA, BO, CY = STUDENTS["ada"][0], STUDENTS["bo"][0], STUDENTS["cy"][0]


def records_csv(*rows: str, extra: str = "") -> bytes:
    header = RECORDS_HEADER.rstrip("\n") + (f",{extra}" if extra else "") + "\n"
    return (header + "".join(r + "\n" for r in rows)).encode()


def applies(stack: Stack, number: str, name: str, school: str, scheme: str) -> str:
    token = make_token(stack.kit, number, ["student"])
    created = ok(
        httpx.post(
            f"{stack.recruitment}/campaigns/{stack.year}/applications",
            json={
                "name": name,
                "email": f"{number}@example.ac.uk",
                "school": school,
                "level": "undergraduate",
                "year_of_study": 2,
                "preferred_schemes": [scheme],
                "statement": "I would like to help first-years the way PASS helped me.",
            },
            headers={"Authorization": f"Bearer {token}"},
        ),
        201,
    )
    return str(created["application_id"])


def upload(page: Any, content: bytes) -> None:
    page.goto(page.url.split("/console")[0] + "/console/recruitment/records/import")
    page.set_input_files(
        "#file", files=[{"name": "sits-export.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.click("#preview")
    page.wait_for_selector("#summary")


def test_a_coordinator_runs_recruitment_from_the_console(
    stack: Stack, browser: Any, shoot_console: Any
) -> None:
    base = f"{stack.portal}/console/recruitment"
    context, page = log_in(browser, stack, "coord", DESKTOP)
    try:
        page.click("#nav-recruitment")
        page.wait_for_selector("#campaigns")
        assert stack.year in (page.text_content("#campaigns") or "")
        assert "Friendly and relatable" in (page.text_content("#default-spec") or "")
        shoot_console(page, "console-recruitment")

        # next year's campaign: opened, then its terms changed before anyone applies
        page.fill("#academic_year", "2030-31")
        page.fill("#schools", "Physics, Chemistry")
        page.click("#open-campaign")
        page.wait_for_selector("#flash")
        assert page.text_content("#flash") == "The 2030-31 campaign is open."
        page.fill("#e-closes", "2031-05-31")
        page.fill("#e-mark", "55")
        teamwork = page.locator("#edit-spec tbody tr", has_text="working in a team")
        teamwork.locator("input[name$=_remove]").check()
        new = page.locator("#edit-spec tbody tr").last
        new.locator("input[type=text]").fill("Punctual at the training day")
        new.locator("select").select_option("essential")
        new.locator("input[name$=_training_day]").check()
        shoot_console(page, "console-campaign-edit")
        page.click("#save-campaign")
        page.wait_for_selector("#flash")
        assert page.text_content("#flash") == "The campaign is changed."
        spec = page.text_content("#spec") or ""
        assert "Punctual at the training day" in spec and "working in a team" not in spec
        assert "close 2031-05-31" in (page.text_content("#campaign-status") or "")
        campaign = httpx.get(f"{stack.recruitment}/campaigns/2030-31", headers=stack.staff())
        assert campaign.json()["min_exam_mark"] == "55"
        # a past closing date is refused, and nothing changes
        page.fill("#e-closes", "2020-01-01")
        page.click("#save-campaign")
        page.wait_for_selector("#flash.bad")
        assert "past" in (page.text_content("#flash") or "")
        page.goto(base)

        # the records import: a preview with every problem by line, and no import button
        upload(
            page,
            records_csv(
                f"{ADA},Ada Byron,ada@example.ac.uk,Physics,BSc Physics,UG,2,68,",
                f"{BO},Bo Chen,not-an-email,Physics,BSc Physics,UG,9,64,",
            ),
        )
        problems = page.text_content("#problems") or ""
        assert "email" in problems and "year_of_study" in problems
        assert page.locator("#problems tbody tr").count() == 2
        assert page.locator("#import").count() == 0
        shoot_console(page, "console-records-preview-refused")
        imports = httpx.get(f"{stack.recruitment}/records/imports", headers=stack.staff()).json()
        assert len(imports) == 1  # the stack's own; the refused file left nothing

        upload(
            page,
            records_csv(
                f"{ADA},Ada Byron,{ADA}@example.ac.uk,Physics,BSc Physics,UG,2,68,",
                f"{BO},Bo Chen,bo@example.ac.uk,Physics,BSc Physics,UG,2,64,",
                extra="tutor",
            ).replace(b",\n", b",,Dr Who\n"),
        )
        assert "ignored tutor" in (page.text_content("#columns") or "")
        assert page.locator("#sample tbody tr").count() == 2
        assert page.text_content("#no-problems") is not None
        shoot_console(page, "console-records-preview")
        page.click("#import")
        page.wait_for_selector("#flash")
        assert "Imported 2 student records" in (page.text_content("#flash") or "")
        shoot_console(page, "console-records")

        ada = applies(stack, ADA, "Ada Byron", "Physics", stack.scheme)
        bo = applies(stack, BO, "Bo Chen", "Physics", stack.scheme)
        applies(stack, CY, "Cy Okafor", "Chemistry", stack.other_scheme)

        page.goto(f"{base}/{stack.year}")
        assert "Friendly and relatable" in (page.text_content("#spec") or "")
        assert "In the running: 3" in (page.text_content("#counts") or "")
        # applications were assessed against this year's terms: only its date can move
        assert page.text_content("#terms-fixed") is not None
        assert page.locator("#e-mark").count() == 0
        shoot_console(page, "console-campaign")

        # the applications, filtered and sorted on the server
        page.click("#applications-link")
        page.select_option("#f-status", "submitted")
        page.select_option("#f-scheme", stack.scheme)
        page.click("#filter")
        page.wait_for_selector("#applications")
        names = page.locator("#applications tbody td:first-child a").all_text_contents()
        assert names == ["Ada Byron", "Bo Chen"]
        # by keyboard: the heading's link sorts, Enter twice for the other way
        page.focus("#applications th a >> text=Name")
        page.keyboard.press("Enter")
        page.wait_for_url("**sort=name**")
        page.focus("#applications th a >> text=Name")
        page.keyboard.press("Enter")
        page.wait_for_url("**sort=-name**")
        assert "sort=-name" in page.url and "status=submitted" in page.url
        names = page.locator("#applications tbody td:first-child a").all_text_contents()
        assert names == ["Bo Chen", "Ada Byron"]
        assert page.get_attribute("#applications th[aria-sort]", "aria-sort") == "descending"
        shoot_console(page, "console-applications")

        # one criterion for many: the presentation at the training day
        page.goto(f"{base}/{stack.year}/bulk?code=articulate")
        assert page.locator("#bulk tbody tr").count() == 3
        page.check("#met-1")
        page.check("#not-met-2")
        page.fill("#note", "presentation at the training day")
        shoot_console(page, "console-bulk")
        page.click("#record-bulk")
        page.wait_for_selector("#flash")
        assert page.text_content("#flash") == "Recorded for 2 applicants."
        detail = httpx.get(f"{stack.recruitment}/applications/{ada}", headers=stack.staff()).json()
        [articulate] = [c for c in detail["criteria"] if c["code"] == "articulate"]
        assert articulate["met"] is True
        assert articulate["evidence"] == "presentation at the training day"

        # one applicant: the evidence beside each criterion, and the assessment
        page.goto(f"{base}/applications/{ada}")
        assert "Ada Byron" in (page.text_content("#record") or "")
        exam = page.text_content("#criterion-exam_marks") or ""
        assert "met" in exam and "68" in exam
        for row in page.locator("#criteria td > fieldset input[value=met]").all():
            row.check()
        page.click("#record-assessment")
        page.wait_for_selector("#flash")
        assert "Recorded" in (page.text_content("#flash") or "")
        assert "can be appointed" in (page.text_content("#applicant-status") or "")
        shoot_console(page, "console-applicant")

        # Bo's record gives another email: the record's criterion waits for an assessor, who
        # overrules it only with a reason
        page.goto(f"{base}/applications/{bo}")
        assert "does not match the student record" in (
            page.text_content("#criterion-undergraduate") or ""
        )
        page.click("#criterion-undergraduate summary")
        page.check("#criterion-undergraduate input[value=met]")
        page.fill("#override_undergraduate", "Bo changed email address; confirmed with the school")
        page.fill("#criterion-undergraduate #note_undergraduate", "BSc Physics, year 2")
        page.click("#record-assessment")
        page.wait_for_selector("#flash")
        assert "Overridden by" in (page.text_content("#criterion-undergraduate") or ""), (
            page.text_content("#flash")
        )
        shoot_console(page, "console-applicant-override")

        # the shortlist: Ada can be appointed, Bo is set apart with why
        page.goto(f"{base}/{stack.year}/shortlist?scheme={stack.scheme}")
        assert page.locator("#ranked tbody td a").all_text_contents() == ["Ada Byron"]
        apart = page.text_content("#apart") or ""
        assert "Bo Chen" in apart and "not met yet" in apart and "Cy" not in apart
        shoot_console(page, "console-shortlist")

        # training: Ada lacks core training until her attendance is recorded
        page.goto(f"{base}/{stack.year}/training")
        assert "Ada Byron" in (page.text_content("#lacking") or "")
        page.fill("#numbers-1", f"{ADA}\n")
        page.click("#record-attendance-1")
        page.wait_for_selector("#flash")
        assert "Ada Byron" not in (page.text_content("#lacking") or "")
        assert "Bo Chen" in (page.text_content("#lacking") or "")
        shoot_console(page, "console-training")

        # appoint Ada; reject Bo with a reason; a reject without one changes nothing
        page.goto(f"{base}/applications/{ada}")
        page.click("#appoint-button")
        page.wait_for_selector("#flash")
        assert "appointed leader" in (page.text_content("#flash") or "")
        assert "Appointed" in (page.text_content("#applicant-status") or "")
        page.goto(f"{base}/applications/{bo}")
        page.fill("#reasons", "Not enough sessions free in the timetable this year")
        page.click("#reject-button")
        page.wait_for_selector("#flash")
        assert "rejected" in (page.text_content("#flash") or "")
        own = httpx.get(
            f"{stack.recruitment}/applications/{bo}",
            headers={"Authorization": f"Bearer {make_token(stack.kit, BO, ['student'])}"},
        ).json()
        assert own["rejection_reasons"] == ["Not enough sessions free in the timetable this year"]
        # Ada stands down; the reason is for coordinators only
        page.goto(f"{base}/applications/{ada}")
        page.fill("#reason", "Timetable clash with her placement")
        page.click("#stand-down-button")
        page.wait_for_selector("#flash")
        assert "stood down" in (page.text_content("#flash") or "")
        assert "Stood down" in (page.text_content("#applicant-status") or "")
        stack.console_samples["application_id"] = ada
    finally:
        context.close()


def test_an_organiser_sees_only_their_schemes_applicants(
    stack: Stack, browser: Any, shoot_console: Any
) -> None:
    base = f"{stack.portal}/console/recruitment"
    cy = next(
        a["application_id"]
        for a in httpx.get(
            f"{stack.recruitment}/campaigns/{stack.year}/applications", headers=stack.staff()
        ).json()
        if a["student_number"] == CY
    )
    context, page = log_in(browser, stack, "org", PHONE)
    try:
        page.goto(f"{base}/{stack.year}/applications")
        names = page.locator("#applications tbody td:first-child a").all_text_contents()
        assert "Cy Okafor" not in names and "Ada Byron" in names
        # on a phone the table scrolls in its own box: the page itself is no wider
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        shoot_console(page, "console-applications-organiser")
        for path in (
            f"/applications/{cy}",
            f"/{stack.year}/shortlist?scheme={stack.other_scheme}",
            f"/{stack.year}/applications?scheme={stack.other_scheme}",
            "/records/import",
        ):
            response = page.goto(base + path)
            assert response is not None and response.status == 403, path
            if path.startswith("/applications/"):
                heading = page.text_content("#heading")
                assert heading == "This is not one of your schemes' applicants"
        shoot_console(page, "console-not-your-scheme")
        # the organiser's page has no appointment forms; a post is refused anyway
        page.goto(f"{base}/applications/{stack.applications[next(iter(stack.applications))]}")
        assert page.locator("#appoint-button").count() == 0
    finally:
        context.close()
