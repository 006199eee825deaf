"""The portal's pages outside the console, walked as every role: every `GET` row of
docs/access.md's `## portal pages` table, each page letting in or keeping out each role as the
table says (the console's own walk is in test_console.py)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.access import DOC, Rule, _section
from tests.portal.conftest import DESKTOP
from tests.portal.console import LOGINS, log_in
from tests.portal.stack import LEADER, STUDENTS, Stack
from tests.portal.test_student import current_code

pytestmark = pytest.mark.browser
#: after the console's and the sessions pages' tests, on their stack: it only reads
SHARED_STACK = "console-sessions"

PAGES_TABLE = "portal pages"
#: pages of the login itself: they send to the provider or answer its redirect, whoever asks
LOGIN_FLOW = {"GET /login", "GET /auth/callback"}


def page_rules() -> dict[str, Rule]:
    """The rows of docs/access.md's `## portal pages` table, by `METHOD /path`."""
    return _section(PAGES_TABLE, DOC.read_text(encoding="utf-8"))


def _samples(stack: Stack) -> dict[str, str]:
    # the student and the leader attended the kiosk's session as students (it had started when
    # the rota was generated, so no leader is on it): its feedback form is theirs
    for number in (STUDENTS["ada"][0], LEADER):
        r = httpx.post(
            f"{stack.attendance}/sessions/{stack.session_kiosk}/attendances",
            json={"student_number": number, "reason": "signed the paper sheet"},
            headers=stack.staff(),
        )
        assert r.status_code in (201, 409), r.text
    return {
        "session_id": stack.session_a,
        "feedback_session_id": stack.session_kiosk,
        "code": current_code(stack, stack.session_a),
        "award_id": "no-such-award",
        "kind": "certificate.pdf",
        "fmt": "csv",
    }


def test_every_portal_page_lets_in_exactly_the_roles_the_access_table_names(
    stack: Stack, browser: Any
) -> None:
    rules = [r for r in page_rules().values() if r.method == "GET" and r.route not in LOGIN_FLOW]
    assert rules, "docs/access.md's portal pages table has no pages"
    samples = _samples(stack)
    seen: dict[str, dict[str, int]] = {}
    wrong: list[str] = []
    for role, user in LOGINS.items():
        if user is None:
            context = browser.new_context(**DESKTOP)
        else:
            context, _ = log_in(browser, stack, user, DESKTOP)
        try:
            for rule in rules:
                path = rule.path
                for name in re.findall(r"{(\w+)}", path):
                    value = samples.get(f"{path.split('/')[1]}_{name}", samples[name])
                    path = path.replace("{" + name + "}", value)
                if rule.path.startswith("/annual"):
                    path += f"?year={stack.year}&scheme={stack.scheme}"
                response = context.request.get(f"{stack.portal}{path}", max_redirects=0)
                status = response.status
                seen.setdefault(rule.route, {})[role] = status
                to_login = status == 303 and "/login?next=" in response.headers.get("location", "")
                if rule.allowed[role]:
                    if status == 403 or to_login:
                        wrong.append(f"{rule.route} as {role}: {status}, kept out")
                elif user is None:
                    if not to_login:
                        wrong.append(f"{rule.route} without a login: {status}, not the login")
                elif status != 403 or 'id="next"' not in response.text():
                    wrong.append(f"{rule.route} as {role}: {status}, let in")
        finally:
            context.close()
    table = "\n".join(f"{route}: {statuses}" for route, statuses in seen.items())
    assert not wrong, "\n".join(wrong) + "\n\n" + table
    assert set(seen) == {r.route for r in rules}
