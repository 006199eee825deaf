"""What the console's browser tests share: logging in as each role, and the console's access
table (docs/access.md, `## portal console`)."""

from __future__ import annotations

from typing import Any

from tests.access import DOC, Rule, _section
from tests.portal.stack import Stack
from tests.portal.test_student import log_in_at_provider

#: the provider's user that logs in as each role of the access table (None: not logged in)
LOGINS: dict[str, str | None] = {
    "coordinator": "coord",
    "organiser": "org",
    "academic": "acad",
    "leader": "lee",
    "student": "ada",
    "integration": "kiosk-library",
    "no token": None,
}
CONSOLE_TABLE = "portal console"


def console_rules() -> dict[str, Rule]:
    """The console's rows of docs/access.md, by `METHOD /path`."""
    return _section(CONSOLE_TABLE, DOC.read_text(encoding="utf-8"))


def log_in(browser: Any, stack: Stack, user: str, options: dict[str, Any]) -> tuple[Any, Any]:
    """A new browser context logged in as `user`, on the console's home page (or where the
    portal sends that user)."""
    context = browser.new_context(**options)
    page = context.new_page()
    page.goto(f"{stack.portal}/login?next=/console")
    log_in_at_provider(page, user)
    page.wait_for_load_state()
    return context, page
