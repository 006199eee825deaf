"""The QR flow in a real headless Chromium, over real HTTP.

A rostered leader logs in and opens the session's QR page; the QR code in a screenshot of that
page decodes to the sign-in URL; a student on a phone-sized screen opens it, logs in, signs in,
and the headcount on the leader's page goes up. Screenshots go to tests/output/.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from passhub_attendance.service import service
from passhub_shared.app import create_app
from passhub_shared.auth import make_token
from passhub_shared.devservers import free_port
from tests import support
from tests.attendance.helpers import publish, scheme_launched, session_events

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
HAS_CHROMIUM = CHROMIUM.exists()
OUTPUT = Path(__file__).resolve().parents[1] / "output"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@asynccontextmanager
async def serving(database_url: str, nats_url: str) -> AsyncIterator[tuple[str, Any]]:
    """The service under uvicorn on a free 127.0.0.1 port, in a thread of its own."""
    settings = support.service_settings(database_url, nats_url)
    app = create_app(service, settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    try:
        for _ in range(300):
            if server.started:
                break
            await asyncio.sleep(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}", settings
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 30)


def decode_qr(png: bytes) -> str:
    import zxingcpp
    from PIL import Image

    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert found, "no QR code in the screenshot"
    return str(found[0].text)


async def test_qr_sign_in_in_a_real_browser(database_url: str, nats_url: str) -> None:
    if not HAS_CHROMIUM:
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("playwright is not installed")
    await asyncio.to_thread(OUTPUT.mkdir, exist_ok=True)
    await publish(nats_url, [scheme_launched(), *session_events("S1", room="P/T/005")])

    async with serving(database_url, nats_url) as (base, settings):
        leader_token = make_token(settings, "L100", ["leader"])
        student_token = make_token(settings, "1234567", ["student"])

        async def scheduled() -> bool:
            async with httpx.AsyncClient() as client:
                r = await client.get(
                    f"{base}/sessions", headers={"Authorization": f"Bearer {leader_token}"}
                )
                return any(s["session_id"] == "S1" for s in r.json())

        await support.wait_for(scheduled)

        async with async_playwright() as p:
            browser = await p.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            console: list[str] = []
            try:
                # The leader logs in on the room's screen and shows the code.
                screen = await browser.new_context(viewport={"width": 1280, "height": 900})
                leader = await screen.new_page()
                leader.on("console", lambda m: console.append(m.text))
                first = await leader.goto(f"{base}/sessions/S1/qr")
                assert first is not None
                assert "default-src 'none'" in first.headers["content-security-policy"]
                assert first.headers["x-frame-options"] == "DENY"
                await leader.fill("#token", leader_token)
                await leader.click("#login")
                await leader.wait_for_selector("#qr svg")
                assert await leader.text_content("#headcount") == "0"
                # the styles load from /pages.css under the page's policy
                background = await leader.evaluate(
                    "getComputedStyle(document.body).backgroundColor"
                )
                assert background == "rgb(244, 246, 248)"
                await leader.screenshot(path=OUTPUT / "attendance-leader-qr.png")
                cookies = await screen.cookies()
                assert cookies[0]["httpOnly"] is True
                png = await leader.locator("#qr").screenshot()
                url = decode_qr(png)
                assert url.startswith(f"{base}/sign-in?t=S1.")
                assert url == await leader.get_attribute("#qr", "data-url")

                # A student scans it with a phone.
                phone = await browser.new_context(
                    viewport={"width": 390, "height": 844},
                    is_mobile=True,
                    has_touch=True,
                    device_scale_factor=2,
                )
                student = await phone.new_page()
                student.on("console", lambda m: console.append(m.text))
                await student.goto(url)
                await student.screenshot(path=OUTPUT / "attendance-student-login.png")
                await student.fill("#token", student_token)
                await student.click("#login")
                await student.wait_for_selector("#sign-in")
                assert await student.text_content("#who") == "1234567"
                await student.screenshot(path=OUTPUT / "attendance-student-sign-in.png")
                await student.click("#sign-in")
                await student.wait_for_selector("#heading")
                assert await student.text_content("#heading") == "You're signed in"
                await student.screenshot(path=OUTPUT / "attendance-student-signed-in.png")

                # The comments sheet, straight after.
                await student.click("#feedback-link")
                for name in ("understanding", "enjoyable", "recommend"):
                    await student.check(f"input[name={name}][value='5']")
                await student.fill("#comment", "Loved the past-paper questions")
                await student.check("input[name=anonymous]")
                await student.screenshot(path=OUTPUT / "attendance-student-feedback.png")
                await student.click("#send-feedback")
                await student.wait_for_selector("#heading")
                assert await student.text_content("#heading") == "Thank you"

                # The leader's page shows one more.
                await leader.reload()
                await leader.wait_for_selector("#headcount")
                assert await leader.text_content("#headcount") == "1"
                await leader.screenshot(path=OUTPUT / "attendance-leader-headcount.png")

                # The student opens the leader's page: refused, with a way to log out (and in
                # as someone else).
                await student.goto(f"{base}/sessions/S1/qr")
                assert await student.text_content("#heading") == "Not allowed"
                assert await student.text_content("#who") == "1234567"
                await student.screenshot(path=OUTPUT / "attendance-refused.png")
                await student.click("#log-out")
                await student.wait_for_selector("#token")
                assert not await phone.cookies()
                await student.fill("#token", leader_token)
                await student.click("#login")
                await student.wait_for_selector("#qr svg")

                # nothing on any page broke the policy
                assert not [m for m in console if "Content Security Policy" in m], console
            finally:
                await browser.close()

        async with httpx.AsyncClient() as client:
            coordinator = make_token(settings, "c1", ["coordinator"])
            r = await client.get(
                f"{base}/sessions/S1/feedback",
                headers={"Authorization": f"Bearer {coordinator}"},
            )
            [sheet] = r.json()["feedback"]
            assert sheet["student_number"] is None and sheet["recommend"] == 5
