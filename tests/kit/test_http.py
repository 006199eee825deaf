"""A service's HTTP surface as the kit builds it: auth, errors, health, metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from passhub_shared.web.errors import Rejected
from tests.kit import toy
from tests.support import Harness, running_service


@pytest.fixture
async def svc(database_url: str, nats_url: str) -> AsyncIterator[Harness]:
    async with running_service(toy.publisher, database_url, nats_url) as harness:
        yield harness


async def test_no_token_is_401_and_the_wrong_role_is_403(svc: Harness) -> None:
    url = "/counters/c/increments"
    r = await svc.client.post(url, json={"amount": 1})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = await svc.client.post(url, json={"amount": 1}, headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and "invalid token" in r.json()["detail"]
    r = await svc.client.post(url, json={"amount": 1}, headers=svc.auth("student"))
    assert r.status_code == 403 and "coordinator" in r.json()["detail"]
    r = await svc.client.post(url, json={"amount": 1}, headers=svc.auth("coordinator"))
    assert r.status_code == 201 and r.json() == {"version": 1}
    r = await svc.client.get("/counters/c", headers=svc.auth("academic"))
    assert r.json() == {"total": 1, "events": 1}


async def test_bad_input_is_a_clear_4xx_and_writes_nothing(svc: Harness) -> None:
    headers = svc.auth("coordinator")
    r = await svc.client.post("/counters/c/increments", json={"amount": "lots"}, headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "amount"]
    r = await svc.client.post("/counters/c/increments", json={"amount": 0}, headers=headers)
    assert r.status_code == 422 and r.json() == {
        "detail": "amount must be positive",
        "code": "rejected",
    }
    r = await svc.client.get("/counters/c", headers=headers)
    assert r.status_code == 404
    async with svc.runtime.engine.connect() as conn:
        assert await svc.runtime.store.count(conn) == 0


async def test_health_readiness_and_metrics_need_no_token(svc: Harness) -> None:
    assert (await svc.client.get("/healthz")).json()["status"] == "ok"
    ready = await svc.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] is True
    await svc.client.post(
        "/counters/c/increments", json={"amount": 3}, headers=svc.auth("coordinator")
    )
    metrics = (await svc.client.get("/metrics")).text
    assert "passhub_http_request_seconds" in metrics
    assert 'route="/counters/{counter_id}/increments"' in metrics


async def test_appended_events_carry_the_actor_and_correlation_id(svc: Harness) -> None:
    r = await svc.client.post(
        "/counters/c/increments",
        json={"amount": 2},
        headers={**svc.auth("coordinator", sub="coord-7"), "X-Correlation-ID": "req-42"},
    )
    assert r.headers["x-correlation-id"] == "req-42"
    async with svc.runtime.engine.connect() as conn:
        [event] = await svc.runtime.store.load(conn, "c")
    assert (event.actor, event.correlation_id) == ("coord-7", "req-42")


async def test_rejections_carry_their_details(svc: Harness) -> None:
    r = await svc.client.post(
        "/counters/c/increments", json={"amount": 0}, headers=svc.auth("coordinator")
    )
    assert "errors" not in r.json(), "no details, no errors list"


async def test_a_lost_database_connection_is_a_503_and_the_next_request_works(
    svc: Harness,
) -> None:
    from sqlalchemy import text

    headers = svc.auth("coordinator")
    assert (
        await svc.client.post("/counters/c/increments", json={"amount": 1}, headers=headers)
    ).status_code == 201
    async with svc.runtime.engine.connect() as conn:
        # kill every pooled connection of the service except our own
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    statuses = []
    for _ in range(3):
        r = await svc.client.post("/counters/c/increments", json={"amount": 1}, headers=headers)
        statuses.append(r.status_code)
    assert set(statuses) <= {201, 503}
    assert statuses[-1] == 201, "the pool recovers by itself"


async def test_a_long_list_of_particulars_is_capped_and_counted(svc: Harness) -> None:
    from passhub_shared.web.errors import MAX_LISTED_DETAILS

    details = [{"line": n, "message": "bad"} for n in range(2, MAX_LISTED_DETAILS + 52)]

    @svc.app.get("/many-problems")
    async def many_problems() -> None:
        raise Rejected("the file was not imported", code="bad_file", details=details)

    body = (await svc.client.get("/many-problems")).json()
    assert body["error_count"] == MAX_LISTED_DETAILS + 50
    assert body["errors"] == details[:MAX_LISTED_DETAILS]


async def test_a_token_longer_lived_than_the_setting_is_401(svc: Harness) -> None:
    now = datetime.now(UTC)
    claims = {"sub": "admin", "roles": ["coordinator"], "iss": "passhub", "aud": "passhub"}
    secret = svc.settings.jwt_secret
    longest = svc.settings.jwt_max_lifetime_seconds
    for extra, status in ((0, 200), (1, 401)):
        token = jwt.encode(
            claims | {"iat": now, "exp": now + timedelta(seconds=longest + extra)}, secret
        )
        r = await svc.client.get("/counters/c", headers={"Authorization": f"Bearer {token}"})
        assert (r.status_code == 401) == (status == 401), r.text
    assert "PASSHUB_JWT_MAX_LIFETIME_SECONDS" in r.json()["detail"]
    year = jwt.encode(claims | {"iat": now, "exp": now + timedelta(days=365 * 114)}, secret)
    r = await svc.client.get("/counters/c", headers={"Authorization": f"Bearer {year}"})
    assert r.status_code == 401
