"""The console's recognition pages in a browser: a coordinator changes the year's policy (a
new version; a policy the service refuses changes nothing), reads every leader's progress with
those who will miss a requirement first, previews the awards run (granted, withheld and why),
runs it, downloads the certificates and an export, and withdraws an award with a reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from passhub_shared.auth import make_token
from tests.portal.conftest import DESKTOP, PHONE
from tests.portal.console import (
    log_in,
)
from tests.portal.stack import LEADER, LEADER_2, Stack, wait_until

pytestmark = pytest.mark.browser
#: after the annual report's tests, on their stack: the policy, the run and the withdrawal are
#: this module's alone
SHARED_STACK = "annual-recognition-recruitment"


def delivered(stack: Stack, number: str) -> int:
    r = httpx.get(f"{stack.recognition}/progress/{stack.year}", headers=stack.staff())
    return next(p["sessions_delivered"] for p in r.json() if p["student_number"] == number)


def test_a_coordinator_sets_the_policy_watches_progress_and_runs_the_awards(
    stack: Stack, browser: Any, shoot_console: Any
) -> None:
    base = f"{stack.portal}/console/recognition"
    # Lee runs session A: one session delivered
    token = make_token(stack.kit, LEADER, ["leader"])
    r = httpx.post(
        f"{stack.attendance}/sessions/{stack.session_a}/leader-sign-in",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code in (200, 201), r.text
    wait_until(lambda: delivered(stack, LEADER) == 1)

    context, page = log_in(browser, stack, "coord", DESKTOP)
    try:
        page.click("#nav-recognition")
        page.wait_for_selector("#recognition-areas")
        shoot_console(page, "console-recognition")

        # the policy: one session is enough for the certificate this year
        page.click("#policy-link")
        page.wait_for_selector("#kind-certificate")
        assert page.input_value("#certificate_min_sessions") == "8"
        page.fill("#certificate_min_sessions", "1")
        page.click("#save-policy")
        page.wait_for_selector("#flash")
        assert "saved as version 1" in (page.text_content("#flash") or "")
        assert page.input_value("#certificate_min_sessions") == "1"
        assert "1 sessions" in (page.text_content("#versions") or "")
        shoot_console(page, "console-recognition-policy")
        # an offered award with no requirement is refused, and nothing changes
        page.uncheck("#psa_training")
        page.fill("#psa_min_sessions", "")
        page.click("#save-policy")
        page.wait_for_selector("#flash.bad")
        assert "Nothing was changed" in (page.text_content("#flash") or "")
        assert page.locator("#versions tbody tr").count() == 1

        # progress: both will miss the 8 sessions of the PSA and HEAR entries at this pace,
        # Max (none delivered) by more than Lee
        page.goto(f"{base}/progress?year={stack.year}")
        rows = page.locator("#progress tbody tr")
        assert rows.count() == 2
        assert "Max Mentor" in (rows.nth(0).text_content() or "")
        assert "Will miss" in (page.text_content(f"#leader-{LEADER_2}") or "")
        lee = page.text_content(f"#leader-{LEADER}") or ""
        assert "Will miss" in lee and "short by 6" in lee
        shoot_console(page, "console-recognition-progress")
        page.click("#progress th a >> text=Leader")
        assert "Lee Leader" in (page.locator("#progress tbody tr").nth(0).text_content() or "")

        # the awards run: a preview first, then the run
        page.goto(f"{base}/awards?year={stack.year}")
        assert page.text_content("#no-awards") is not None
        page.click("#preview-link")
        page.wait_for_selector("#preview")
        summary = page.text_content("#preview-summary") or ""
        assert "1 award granted" in " ".join(summary.split())
        table = page.text_content("#preview") or ""
        assert "1 of 8 sessions delivered" in table and "0 of 1 session delivered" in table
        shoot_console(page, "console-recognition-preview")
        assert (
            httpx.get(
                f"{stack.recognition}/awards",
                params={"academic_year": stack.year},
                headers=stack.staff(),
            ).json()
            == []
        )
        page.click("#run")
        page.wait_for_selector("#flash")
        assert "1 granted, 5 withheld" in (page.text_content("#flash") or "")
        assert "Lee Leader" in (page.text_content("#awards") or "")
        shoot_console(page, "console-recognition-awards")

        with page.expect_download() as pdf:
            page.click("#certificates")
        content = Path(pdf.value.path()).read_bytes()
        assert content.startswith(b"%PDF")
        with page.expect_download() as csv:
            page.click("#export-hear-csv")
        assert pdf.value.suggested_filename == f"certificates-{stack.year}.pdf"
        assert csv.value.suggested_filename == f"hear-{stack.year}.csv"

        # withdraw Lee's certificate with a reason; no certificate stands then
        page.fill("#reason-1", "Breach of the code of conduct")
        page.click("#withdraw-1")
        page.wait_for_selector("#flash")
        assert "is withdrawn" in (page.text_content("#flash") or "")
        assert "Breach of the code of conduct" in (page.text_content("#awards") or "")
        response = page.goto(f"{base}/certificates.pdf?year={stack.year}")
        assert response is not None and response.status == 404
        assert page.text_content("#heading") == "There is nothing to download yet"
        shoot_console(page, "console-recognition-nothing-to-download")
    finally:
        context.close()


def test_recognition_is_for_coordinators_only(stack: Stack, browser: Any) -> None:
    context, page = log_in(browser, stack, "org", PHONE)
    try:
        response = page.goto(f"{stack.portal}/console/recognition/progress")
        assert response is not None and response.status == 403
        # a post is refused too, and changes nothing
        csrf = page.locator("input[name=csrf]").first.input_value()
        refused = page.request.post(
            f"{stack.portal}/console/recognition/awards/run",
            form={"csrf": csrf, "year": stack.year},
        )
        assert refused.status == 403
    finally:
        context.close()
    assert (
        httpx.get(
            f"{stack.recognition}/awards",
            params={"academic_year": stack.year},
            headers=stack.staff(),
        ).json()
        != []
    )  # the first test's, no more
