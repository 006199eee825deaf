"""The console's frame: who reaches it, its home page and navigation, and a walk of every
console page (every `GET` row of docs/access.md's `## portal console` table) as every role,
each let in or kept out as the table says."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.portal.conftest import DESKTOP, PHONE
from tests.portal.console import LOGINS, console_rules, log_in
from tests.portal.stack import Stack

pytestmark = pytest.mark.browser


def test_each_staff_role_reaches_its_console_and_others_are_turned_away(
    stack: Stack, browser: Any, shoot: Any
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
        shoot(page, "console-home")
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
        shoot(page, "console-home-organiser")
    finally:
        context.close()

    context, page = log_in(browser, stack, "acad", DESKTOP)
    try:
        nav = page.locator("nav[aria-label=Console] a").all_text_contents()
        assert nav == ["Console home", "Attendance", "Evaluation"]
        shoot(page, "console-home-academic")
        response = page.goto(f"{stack.portal}/console/recruitment")
        assert response is not None and response.status == 403
        assert page.text_content("#heading") == "This part of the console is not open to you"
        assert page.get_attribute("#next", "href") == "/console"
        shoot(page, "console-area-refused")
    finally:
        context.close()

    context, page = log_in(browser, stack, "ada", PHONE)
    try:
        response = page.goto(f"{stack.portal}/console")
        assert response is not None and response.status == 403
        assert page.text_content("#heading") == "The console is for PASS staff"
        page.click("#next")
        page.wait_for_url(re.compile(r".*/me$"))
        shoot(page, "console-refused-student")
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
                    assert response.status == 200, f"{rule.route} as {role}: {response.status}"
                else:
                    assert response.status == 403, f"{rule.route} as {role}: {response.status}"
                    assert 'id="next"' in response.text(), f"{rule.route} as {role}: no next step"
        finally:
            context.close()
    assert set(walked) == {r.route for r in rules}
