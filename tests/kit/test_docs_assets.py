"""Every service's `/docs` works with no internet: the page references only files the service
serves itself, those files answer with the right types, and Swagger UI renders in a real
headless Chromium that may reach nothing but the service, with no Content-Security-Policy
error on the console."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn

from passhub_attendance.service import service as attendance
from passhub_recognition.service import service as recognition
from passhub_recruitment.service import service as recruitment
from passhub_sessions.service import service as sessions
from passhub_shared.dev.devservers import free_port
from passhub_shared.operations.service import ServiceDefinition
from passhub_shared.operations.settings import Settings
from passhub_shared.web.app import create_app
from passhub_shared.web.headers import DOCS_POLICY
from tests.support import SECRET_ENV

DEFINITIONS = {d.name: d for d in (recruitment, sessions, attendance, recognition)}
CHROMIUM = Path("/usr/bin/chromium")
HAS_CHROMIUM = CHROMIUM.exists()
OUTPUT = Path(__file__).resolve().parents[1] / "output"
TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


class _Refs(HTMLParser):
    """Every `src` and `href` of a page, and whether any script has inline text."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.inline_script = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.refs += [v for k, v in attrs if k in ("src", "href") and v]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_script = True


def _app(definition: ServiceDefinition) -> Any:
    # No lifespan: the docs need no database, NATS or runtime.
    settings = Settings(
        database_url="postgresql+asyncpg://u@127.0.0.1:1/d",
        jwt_secret=SECRET_ENV["PASSHUB_JWT_SECRET"],
    )
    return create_app(definition, settings)


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
async def test_docs_reference_only_the_services_own_files(name: str) -> None:
    transport = httpx.ASGITransport(app=_app(DEFINITIONS[name]))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        page = await client.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["content-security-policy"] == DOCS_POLICY
        parser = _Refs()
        parser.feed(page.text)
        assert not parser.inline_script, "the start-up script must be a file, not inline"
        assert "cdn" not in page.text.lower()
        assert len(parser.refs) == 4, parser.refs  # icon, styles, bundle, start-up script
        for ref in parser.refs:
            parts = urlsplit(ref)
            assert not parts.scheme and not parts.netloc, f"{ref} is not same-origin"
            assert ref.startswith("/docs/assets/")
            asset = await client.get(ref)
            assert asset.status_code == 200, ref
            expected = TYPES[Path(parts.path).suffix]
            assert asset.headers["content-type"].startswith(expected), (ref, asset.headers)
            assert len(asset.content) > 100
        assert 'data-openapi-url="/openapi.json"' in page.text
        assert (await client.get("/openapi.json")).status_code == 200
        # nothing else is served from there, and the old pages are gone
        assert (await client.get("/docs/assets/..%2fdocs_assets.py")).status_code == 404
        assert (await client.get("/docs/assets/index.html")).status_code == 404
        assert (await client.get("/redoc")).status_code == 404


@asynccontextmanager
async def serving(definition: ServiceDefinition) -> AsyncIterator[str]:
    """The service's app under uvicorn on a free 127.0.0.1 port, without its lifespan."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            _app(definition), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, name="uvicorn-docs", daemon=True)
    thread.start()
    try:
        for _ in range(300):
            if server.started:
                break
            await asyncio.sleep(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 30)


@pytest.mark.browser
async def test_swagger_ui_renders_offline_in_a_real_browser() -> None:
    if not HAS_CHROMIUM:
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    from playwright.async_api import Route, async_playwright

    from tests.portal.conftest import CHROMIUM_ARGS

    await asyncio.to_thread(OUTPUT.mkdir, exist_ok=True)
    async with serving(sessions) as base, async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            console: list[str] = []
            blocked: list[str] = []
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))

            async def only_localhost(route: Route) -> None:
                host = urlsplit(route.request.url).hostname
                if host in ("127.0.0.1", "localhost"):
                    await route.continue_()
                else:
                    blocked.append(route.request.url)
                    await route.abort()

            await page.route("**/*", only_localhost)
            response = await page.goto(f"{base}/docs")
            assert response is not None and response.status == 200
            # the operations list: one block per route, each with its method and path
            await page.wait_for_selector(".opblock", timeout=30_000)
            paths = await page.locator(".opblock-summary-path").all_inner_texts()
            assert any("/schemes" in p for p in paths), paths
            assert await page.locator(".opblock").count() >= 20
            assert "Sessions" in (await page.locator(".title").first.inner_text())
            await page.screenshot(path=OUTPUT / "docs-sessions.png", full_page=False)
            await asyncio.sleep(0.5)  # late console messages
        finally:
            await browser.close()
    assert not blocked, f"the docs asked the internet for {blocked}"
    csp = [m for m in console if "Content Security Policy" in m or "Refused to" in m]
    assert not csp, csp
    assert not [m for m in console if m.startswith(("error", "pageerror"))], console
