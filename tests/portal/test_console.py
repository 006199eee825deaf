"""The console's frame: who reaches it, its home page and navigation, and a walk of every
console page (every `GET` row of docs/access.md's `## portal console` table) as every role,
each let in or kept out as the table says."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from passhub_shared.web.auth import make_token
from tests.portal.conftest import DESKTOP, PHONE
from tests.portal.console import (
    LOGINS,
    console_rules,
    log_in,
)
from tests.portal.stack import RECORDS_HEADER, STUDENTS, Stack, ok

pytestmark = pytest.mark.browser
#: first on the stack the sessions pages' tests use next: it adds a student organiser only
SHARED_STACK = "console-sessions"


def test_each_staff_role_reaches_its_console_and_others_are_turned_away(
    stack: Stack, browser: Any, shoot_console: Any
) -> None:
    context, page = log_in(browser, stack, "coord", DESKTOP)
    try:
        assert page.url == f"{stack.portal}/console"
        assert page.text_content("#heading") == "PASS console"
        nav = page.locator("nav[aria-label=Console] a").all_text_contents()
        assert nav == [
            "Console home",
            "Recruitment",
            "Recognition",
            "Sessions",
            "Attendance",
            "Evaluation",
        ]
        assert page.get_attribute("nav[aria-label=Console] a >> nth=0", "aria-current") == "page"
        shoot_console(page, "console-home")
        # the start page sends staff to the console
        page.goto(stack.portal)
        assert page.url == f"{stack.portal}/console"
    finally:
        context.close()

    context, page = log_in(browser, stack, "org", PHONE)
    try:
        assert page.text_content("#heading") == "PASS console"
        assert "Physics PASS" in (page.text_content("#own-schemes") or "")
        assert "Chemistry PASS" not in page.inner_text("body")
        nav = page.locator("nav[aria-label=Console] a").all_text_contents()
        assert "Recognition" not in nav and "Recruitment" in nav
        shoot_console(page, "console-home-organiser")
    finally:
        context.close()

    context, page = log_in(browser, stack, "acad", DESKTOP)
    try:
        nav = page.locator("nav[aria-label=Console] a").all_text_contents()
        assert nav == ["Console home", "Attendance", "Evaluation"]
        shoot_console(page, "console-home-academic")
        response = page.goto(f"{stack.portal}/console/recruitment")
        assert response is not None and response.status == 403
        assert page.text_content("#heading") == "This part of the console is not open to you"
        assert page.get_attribute("#next", "href") == "/console"
        shoot_console(page, "console-area-refused")
    finally:
        context.close()

    context, page = log_in(browser, stack, "ada", PHONE)
    try:
        response = page.goto(f"{stack.portal}/console")
        assert response is not None and response.status == 403
        assert page.text_content("#heading") == "The console is for PASS staff"
        page.click("#next")
        page.wait_for_url(re.compile(r".*/me$"))
        shoot_console(page, "console-refused-student")
    finally:
        context.close()


def _sample_paths(stack: Stack) -> dict[str, str]:
    """A real value for each placeholder a console route may have."""
    application = next(iter(stack.applications.values()))
    return {
        "campaign_id": stack.year,
        "academic_year": stack.year,
        "year": stack.year,
        "application_id": application,
        "scheme_id": stack.scheme,
        "session_id": stack.session_a,
        "training_id": "core-1",
        "name": "hear.csv",
        "run_id": "unknown",
        "batch_id": "unknown",
        **stack.console_samples,
    }


def test_every_console_page_lets_in_exactly_the_roles_the_access_table_names(
    stack: Stack, browser: Any
) -> None:
    rules = [r for r in console_rules().values() if r.method == "GET"]
    assert rules, "docs/access.md's console table has no pages"
    samples = _sample_paths(stack)
    walked: dict[str, dict[str, int]] = {}
    for role, user in LOGINS.items():
        if user is None:
            context = browser.new_context(**DESKTOP)
            page = context.new_page()
        else:
            context, page = log_in(browser, stack, user, DESKTOP)
        try:
            for rule in rules:
                names = re.findall(r"{(\w+)}", rule.path)
                missing = [n for n in names if n not in samples]
                assert not missing, f"{rule.route}: give the walk a value for {missing}"
                path = rule.path
                for name in names:
                    path = path.replace("{" + name + "}", samples[name])
                response = page.request.get(f"{stack.portal}{path}", max_redirects=0)
                walked.setdefault(rule.route, {})[role] = response.status
                if user is None:
                    assert response.status == 303, f"{rule.route} without a login"
                    assert "/login?next=" in response.headers["location"]
                elif rule.allowed[role]:
                    # let in: the page, or what it says about the data (a download with
                    # nothing to download yet is a 404 page)
                    status = response.status
                    assert status in (200, 404), f"{rule.route} as {role}: {status}"
                else:
                    assert response.status == 403, f"{rule.route} as {role}: {response.status}"
                    assert 'id="next"' in response.text(), f"{rule.route} as {role}: no next step"
        finally:
            context.close()
    assert set(walked) == {r.route for r in rules}


def test_a_student_appointed_student_organiser_reaches_the_console_for_their_scheme(
    stack: Stack, browser: Any, shoot_console: Any
) -> None:
    """Appointed student organiser by recruitment (no staff role at the login): an organiser of
    that scheme at the next request, as an appointed leader is a leader."""
    number, name = STUDENTS["bo"]
    staff = stack.staff()
    rec = httpx.Client(base_url=stack.recruitment)
    row = f"{number},{name},{number}@example.ac.uk,Physics,BSc Physics,UG,2,70,\n"
    ok(
        rec.post(
            "/records/imports",
            content=(RECORDS_HEADER + row).encode(),
            headers={**staff, "Content-Type": "text/csv"},
        ),
        201,
    )
    context, page = log_in(browser, stack, "bo", DESKTOP)
    try:
        response = page.goto(f"{stack.portal}/console")
        assert response is not None and response.status == 403  # a student, not yet
        student = {"Authorization": f"Bearer {make_token(stack.kit, number, ['student'])}"}
        application = ok(
            rec.post(
                f"/campaigns/{stack.year}/applications",
                json={
                    "name": name,
                    "email": f"{number}@example.ac.uk",
                    "school": "Physics",
                    "level": "undergraduate",
                    "year_of_study": 2,
                    "role_sought": "organiser",
                    "preferred_schemes": [stack.scheme],
                },
                headers=student,
            ),
            201,
        )
        app_id = application["application_id"]
        pending = [c["code"] for c in application["criteria"] if c["met"] is None]
        outcomes = [{"code": c, "met": True, "note": "interview"} for c in pending]
        ok(
            rec.post(
                f"/applications/{app_id}/assessments", json={"outcomes": outcomes}, headers=staff
            )
        )
        ok(
            rec.post(
                "/training-sessions/core-1/completions",
                json={"completions": [{"student_number": number}]},
                headers=staff,
            )
        )
        ok(
            rec.post(
                f"/applications/{app_id}/appointments",
                json={"role": "organiser", "schemes": [stack.scheme]},
                headers=staff,
            )
        )
        page.goto(f"{stack.portal}/console")
        assert page.text_content("#heading") == "PASS console"
        assert "Physics PASS" in (page.text_content("#own-schemes") or "")
        nav = page.locator("nav[aria-label=Console] a").all_text_contents()
        assert "Recruitment" in nav and "Recognition" not in nav
        response = page.goto(
            f"{stack.portal}/console/recruitment/{stack.year}/shortlist?scheme={stack.other_scheme}"
        )
        assert response is not None and response.status == 403
        shoot_console(page, "console-student-organiser-refused-scheme")
    finally:
        context.close()
