"""Security headers on HTML responses, added once by the kit to every service's app."""

from __future__ import annotations

import dataclasses

import httpx
from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from passhub_shared.operations.settings import Settings
from passhub_shared.web.app import create_app
from passhub_shared.web.headers import DOCS_POLICY, PAGE_POLICY
from tests.kit.toy import publisher

pages = APIRouter()


@pages.get("/page", response_class=HTMLResponse)
async def page() -> str:
    return "<!doctype html><title>page</title>"


@pages.get("/strict", response_class=HTMLResponse)
async def strict() -> HTMLResponse:
    return HTMLResponse("<p>strict</p>", headers={"Referrer-Policy": "same-origin"})


@pages.get("/data")
async def data() -> dict[str, str]:
    return {"html": "<b>no</b>"}


async def get(path: str) -> httpx.Response:
    definition = dataclasses.replace(publisher, routers=[*publisher.routers, pages])
    app = create_app(definition, Settings(database_url="postgresql+asyncpg://u@h/d"))
    transport = httpx.ASGITransport(app=app)  # no lifespan: these routes need no database
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path)


async def test_an_html_page_gets_the_strict_policy_and_no_framing() -> None:
    r = await get("/page")
    assert r.headers["content-security-policy"] == PAGE_POLICY
    assert "script-src" not in PAGE_POLICY and "'unsafe-inline'" not in PAGE_POLICY
    assert "frame-ancestors 'none'" in PAGE_POLICY
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_a_header_the_page_sets_itself_is_kept() -> None:
    r = await get("/strict")
    assert r.headers.get_list("referrer-policy") == ["same-origin"]
    assert r.headers["content-security-policy"] == PAGE_POLICY


async def test_json_gets_nosniff_and_no_page_policy() -> None:
    r = await get("/data")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in r.headers


async def test_the_api_docs_get_a_policy_of_their_own_origin_only() -> None:
    r = await get("/docs")
    assert r.status_code == 200
    assert r.headers["content-security-policy"] == DOCS_POLICY
    assert r.headers["x-frame-options"] == "DENY"
    assert "'unsafe-inline'" not in DOCS_POLICY and "https:" not in DOCS_POLICY
    assert "script-src 'self';" in DOCS_POLICY
