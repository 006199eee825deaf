"""The console's recognition pages in a browser: a coordinator changes the year's policy (a
new version; a policy the service refuses changes nothing), reads every leader's progress with
those who will miss a requirement first, previews the awards run (granted, withheld and why),
runs it (off the request: its page shows how far it is, the coordinator goes elsewhere and
comes back, the result appears when done), makes the certificates the same way, downloads
them and an export, and withdraws an award with a reason."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from passhub_shared.storage import locks
from passhub_shared.web.auth import make_token
from tests.portal.conftest import DESKTOP, PHONE
from tests.portal.console import (
    log_in,
)
from tests.portal.stack import LEADER, LEADER_2, Stack, wait_until
from tests.servers import PostgresHandle, run_async

pytestmark = pytest.mark.browser
#: after the annual report's tests, on their stack: the policy, the run and the withdrawal are
#: this module's alone
SHARED_STACK = "annual-recognition-recruitment"


def delivered(stack: Stack, number: str) -> int:
    r = httpx.get(f"{stack.recognition}/progress/{stack.year}", headers=stack.staff())
    return next(p["sessions_delivered"] for p in r.json() if p["student_number"] == number)


class YearLock:
    """The year's awards decisions held by another transaction on recognition's database (as
    a correction being recorded holds them), until the `with` block ends."""

    def __init__(self, database_url: str, year: str) -> None:
        self.url = database_url.replace("postgresql+asyncpg://", "postgresql://")
        self.key = locks.key(f"passhub-recognition-awards:{year}")
        self.held = threading.Event()
        self.release = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._hold()), daemon=True)

    async def _hold(self) -> None:
        conn = await asyncpg.connect(self.url)
        try:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", self.key)
                self.held.set()
                await asyncio.to_thread(self.release.wait)
        finally:
            await conn.close()

    def __enter__(self) -> YearLock:
        self.thread.start()
        assert self.held.wait(10), "the year's lock was not taken"
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        self.thread.join(10)


@pytest.fixture
def recognition_db(stack: Stack, pg_server: PostgresHandle) -> str:
    """The stack's recognition database (the one made last, with the awards runs' table)."""

    async def newest() -> str:
        conn = await asyncpg.connect(pg_server.url)
        try:
            name = await conn.fetchval(
                "SELECT datname FROM pg_database WHERE datname LIKE 'portal_recognition_%' "
                "ORDER BY oid DESC LIMIT 1"
            )
        finally:
            await conn.close()
        assert name, "no recognition database"
        return str(name)

    return pg_server.database_url(run_async(newest()))


def test_a_coordinator_sets_the_policy_watches_progress_and_runs_the_awards(
    stack: Stack, browser: Any, shoot_console: Any, recognition_db: str
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
        # the run is worked off the request: while a correction being recorded holds the
        # year's decisions, the run waits, and its page says so
        with YearLock(recognition_db, stack.year):
            page.click("#run")
            page.wait_for_selector("#job-progress")
            assert "/console/recognition/awards/runs/" in page.url
            assert "Waiting to begin" in (page.text_content("#job-progress-text") or "")
            assert page.get_attribute("#job-progress", "aria-labelledby") == "job-progress-label"
            assert page.locator("#refresh").count() == 1
            shoot_console(page, "console-awards-run-progress")
            # other pages work meanwhile, and the awards page leads back to the run
            run_page = page.url
            page.goto(f"{base}/awards?year={stack.year}")
            page.wait_for_selector("#run-under-way")
            shoot_console(page, "console-awards-run-under-way")
            page.click("#run-under-way")
            page.wait_for_selector("#job-progress")
            assert page.url == run_page
            page.evaluate("window.stayedOnThePage = true")
        # the run goes on: the page's script shows what it decided, without a reload
        page.wait_for_selector("#job-result", timeout=30_000)
        assert page.evaluate("window.stayedOnThePage === true")
        result = " ".join((page.text_content("#job-result") or "").split())
        assert "1 granted, 5 withheld" in result, result
        shoot_console(page, "console-awards-run-done")
        page.click("#to-awards")
        page.wait_for_selector("#awards")
        assert "Lee Leader" in (page.text_content("#awards") or "")
        assert "1 granted, 5 withheld" in " ".join((page.text_content("#last-run") or "").split())
        shoot_console(page, "console-recognition-awards")

        # the certificates are made off the request too
        with YearLock(recognition_db, stack.year):
            page.click("#certificates")
            page.wait_for_selector("#job-progress")
            assert "/console/recognition/certificates/" in page.url
            shoot_console(page, "console-certificates-progress")
        page.wait_for_selector("#certificates-pdf", timeout=30_000)
        assert "1 certificate of participation" in (page.text_content("#job-result") or "")
        shoot_console(page, "console-certificates-ready")
        with page.expect_download() as pdf:
            page.click("#certificates-pdf")
        content = Path(pdf.value.path()).read_bytes()
        assert content.startswith(b"%PDF")
        # the awards page offers the batch made last
        page.goto(f"{base}/awards?year={stack.year}")
        assert "1 page" in (page.text_content("#last-batch") or "")
        assert page.locator("#last-batch-pdf").count() == 1
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
        # nor is a new batch made
        page.goto(f"{base}/awards?year={stack.year}")
        page.click("#certificates")
        page.wait_for_selector("#heading")
        assert page.text_content("#heading") == "There is nothing to download yet"
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


def test_without_script_the_refresh_link_follows_the_run(
    stack: Stack, browser: Any, recognition_db: str
) -> None:
    context, page = log_in(browser, stack, "coord", {**PHONE, "java_script_enabled": False})
    try:
        with YearLock(recognition_db, stack.year):
            page.goto(f"{stack.portal}/console/recognition/awards/preview?year={stack.year}")
            page.click("#run")
            page.wait_for_selector("#job-progress")
            assert "Waiting to begin" in (page.text_content("#job-progress-text") or "")
            run_page = page.url
            # a second run while this one is under way: the page of the one under way
            page.goto(f"{stack.portal}/console/recognition/awards/preview?year={stack.year}")
            page.click("#run")
            page.wait_for_selector("#flash")
            assert page.url == run_page
            assert "already under way" in (page.text_content("#flash") or "")
        # the run goes on by itself; the page shows it once asked again
        wait_until(
            lambda: (
                httpx.get(
                    f"{stack.recognition}/awards/runs",
                    params={"academic_year": stack.year},
                    headers=stack.staff(),
                ).json()[0]["state"]
                == "done"
            )
        )
        page.click("#refresh")
        page.wait_for_selector("#job-result")
        assert page.url == run_page
        # everything was decided before: this run changes nothing
        assert "0 granted, 0 withheld" in " ".join((page.text_content("#job-result") or "").split())
    finally:
        context.close()
