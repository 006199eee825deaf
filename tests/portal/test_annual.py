"""The annual report in the portal: a coordinator reads this year's report (commentary, tables,
charts) and downloads its PDF and CSV; an academic reads it without the feedback comments; an
organiser is asked for one of their schemes and refused another's. Over the real stack: the
figures come from the services' events (the stack's scheme, leaders appointed and trained in
recruitment) and the coordinator's imports."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from passhub_shared.dev.oidcserver import OidcProvider
from tests.portal.conftest import DESKTOP, PHONE
from tests.portal.stack import LEADERS, Stack, ok, wait_until
from tests.portal.test_student import log_in_at_provider

pytestmark = pytest.mark.browser

STAFF = {
    "cora": ("E1001", "Cora Coordinator", "pass-coordinators"),
    "olu": ("E1002", "Olu Organiser", "pass-organisers"),
    "aki": ("E1003", "Aki Academic", "academic-staff"),
}
#: runs first on the stack it shares with the recognition and recruitment pages' tests: it adds
#: the evaluation's imports and graduate outcomes, which they do not read
SHARED_STACK = "annual-recognition-recruitment"


@pytest.fixture(scope="module")
def stack(stack: Stack, oidc: OidcProvider) -> Stack:
    """The portal's stack with staff whose roles come from the provider's `groups` claim,
    and the year's imports."""
    for key, (number, name, group) in STAFF.items():
        oidc.set_user(key, {"student_number": number, "name": name, "groups": [group]})
    given_the_year(stack)
    return stack


def given_the_year(s: Stack) -> None:
    staff = s.staff() | {"Content-Type": "text/csv"}
    att = httpx.Client(base_url=s.attendance, timeout=30)
    students = [f"S26{i:05d}" for i in range(60)]
    rows = "".join(f"{n},PHY1001,{s.year},{100 + i}\n" for i, n in enumerate(students))
    ok(
        att.post(
            "/evaluation/enrolments",
            content="student_number,module,academic_year,prior_attainment\n" + rows,
            headers=staff,
        ),
        201,
    )
    marks = "".join(f"{n},PHY1001,{s.year},{40 + i % 50}\n" for i, n in enumerate(students))
    ok(
        att.post(
            "/evaluation/results",
            content="student_number,module,academic_year,mark\n" + marks,
            headers=staff,
        ),
        201,
    )
    start = int(s.year[:4])
    past = "".join(
        f"{n},PHY1001,{start - 1}-{start % 100:02d},{1 + i % 6}\n"
        for i, n in enumerate(students[:40])
    )
    ok(
        att.post(
            "/evaluation/history",
            content="student_number,module,academic_year,sessions_attended\n" + past,
            headers=staff,
        ),
        201,
    )
    leaders = [number for number, _ in LEADERS.values()]
    graduates = [f"{n},{s.year},Full-time employment" for n in leaders]
    graduates += [
        f"G{i:04d},{s.year},{'Unemployed' if i % 5 == 0 else 'Full-time further study'}"
        for i in range(40)
    ]
    ok(
        att.post(
            "/annual/graduate-outcomes",
            content="student_number,academic_year,outcome\n" + "\n".join(graduates) + "\n",
            headers=staff,
        ),
        201,
    )

    def leaders_known() -> bool:
        r = att.get("/annual/report", params={"year": s.year}, headers=s.staff())
        return r.status_code == 200 and r.json()["leaders"]["appointed"] == len(LEADERS)

    # recruitment's appointments reach attendance as events
    wait_until(leaders_known)


def log_in(browser: Any, stack: Stack, user: str, size: dict[str, Any], path: str) -> Any:
    context = browser.new_context(**size)
    page = context.new_page()
    page.goto(f"{stack.portal}{path}")
    log_in_at_provider(page, user)
    return page


def test_a_coordinator_reads_and_downloads_the_annual_report(
    stack: Stack, browser: Any, shoot: Any
) -> None:
    page = log_in(browser, stack, "cora", DESKTOP, f"/annual?year={stack.year}")
    try:
        page.wait_for_selector("#commentary")
        assert page.text_content("#heading") == f"PASS annual report {stack.year}"
        words = page.inner_text("#commentary")
        assert "40 students have attended since" in words
        assert f"{len(LEADERS)} leaders were appointed, {len(LEADERS)} of them trained" in words
        assert "observational" not in words or "prior attainment" in words
        assert page.text_content("#cumulative") == "40"
        leaders = page.inner_text("#leaders")
        assert f"{len(LEADERS)}" in leaders
        graduates = page.inner_text("#graduates")
        assert "all graduates" in graduates and "42" in graduates
        images = page.locator("figure.chart img")
        assert images.count() >= 3
        for i in range(images.count()):
            assert images.nth(i).get_attribute("alt")
            assert page.evaluate("(img) => img.naturalWidth", images.nth(i).element_handle()) > 0
        shoot(page, "annual-coordinator")

        pdf = page.request.get(stack.portal + (page.get_attribute("#pdf", "href") or ""))
        assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
        assert "attachment" in pdf.headers["content-disposition"]
        data = page.request.get(stack.portal + (page.get_attribute("#csv", "href") or ""))
        assert data.status == 200 and b"section,academic_year,item,metric,value" in data.body()

        page.goto(f"{stack.portal}/annual?year=2025")
        assert "That is not an academic year" in page.inner_text("main")
        assert page.get_attribute("main a", "href").startswith("/annual")
    finally:
        page.context.close()


def test_an_academic_reads_it_on_a_phone_and_an_organiser_is_asked_for_a_scheme(
    stack: Stack, browser: Any, shoot: Any
) -> None:
    page = log_in(browser, stack, "aki", PHONE, f"/annual?year={stack.year}")
    try:
        page.wait_for_selector("#commentary")
        assert page.locator("#comments").count() == 0
        shoot(page, "annual-academic")
    finally:
        page.context.close()

    page = log_in(browser, stack, "olu", PHONE, "/annual")
    try:
        page.wait_for_selector("#choose")
        assert page.locator("#commentary").count() == 0
        shoot(page, "annual-organiser-choose")
        page.fill("#scheme", "PHYS")
        page.click("#show")
        page.wait_for_load_state()
        assert "Not your scheme" in page.inner_text("main")
        shoot(page, "annual-organiser-refused")
    finally:
        page.context.close()
