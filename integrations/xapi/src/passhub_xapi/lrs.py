"""Posting statements to an LRS (xAPI 1.0.3 `POST /statements`), exactly once.

- A batch the LRS accepts (200, or 204 when it already had every id) is done.
- A batch it rejects (400, 409, 413, or 422) is split in halves until the statements at fault stand
  alone: a lone statement rejected with 400 (413, 422) is returned as rejected, with the
  LRS's reason, to be parked; a lone 409 means the LRS already holds a different statement
  under that id (it keeps the first one, and so holds one statement for the attendance).
- While the LRS cannot be reached, answers 5xx, 429, or refuses the bridge's credentials
  (401, 403, which no statement can fix), the batch is tried again with exponential
  back-off, without limit: nothing behind it is lost, only delayed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    wait_exponential_jitter,
)

from passhub_xapi.settings import BridgeSettings

log = logging.getLogger("passhub_xapi.lrs")

XAPI_VERSION = "1.0.3"
_REJECTED = {400, 409, 413, 422}  # 422: how FastAPI-based LRSs (Ralph) answer an invalid one


class LrsUnavailable(Exception):
    """The LRS did not take the batch for a reason no statement of it can fix."""


@dataclass(frozen=True)
class Rejection:
    statement: dict[str, Any]
    status: int
    reason: str


@dataclass
class Outcome:
    posted: int = 0  # statements in batches the LRS accepted
    conflicts: int = 0  # lone statements it already held under a different content
    requests: int = 0


class OAuth(httpx.Auth):
    """OAuth 2 client credentials: a bearer token fetched once and again when refused."""

    requires_response_body = True

    def __init__(self, token_url: str, client_id: str, secret: str, scope: str) -> None:
        self.token_url, self.client_id, self.secret, self.scope = (
            token_url,
            client_id,
            secret,
            scope,
        )
        self.token: str | None = None

    def _token_request(self) -> httpx.Request:
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        return httpx.Request("POST", self.token_url, data=form, auth=(self.client_id, self.secret))  # type: ignore[call-arg]

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        if self.token is None:
            response = yield self._token_request()
            self.token = response.json()["access_token"]
        request.headers["Authorization"] = f"Bearer {self.token}"
        response = yield request
        if response.status_code == 401:
            response = yield self._token_request()
            self.token = response.json()["access_token"]
            request.headers["Authorization"] = f"Bearer {self.token}"
            yield request


def client(settings: BridgeSettings) -> httpx.AsyncClient:
    auth: httpx.Auth
    if settings.lrs_auth == "basic":
        auth = httpx.BasicAuth(settings.lrs_username, settings.lrs_password.get_secret_value())
    else:
        auth = OAuth(
            str(settings.lrs_token_url),
            settings.lrs_client_id,
            settings.lrs_client_secret.get_secret_value(),
            settings.lrs_scope,
        )
    return httpx.AsyncClient(
        auth=auth,
        timeout=settings.lrs_timeout_seconds,
        headers={"X-Experience-API-Version": XAPI_VERSION},
    )


class Lrs:
    def __init__(
        self,
        settings: BridgeSettings,
        http: httpx.AsyncClient | None = None,
        on_retry: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.url = settings.statements_url
        self.http = http or client(settings)
        self.max_backoff = settings.lrs_max_backoff_seconds
        self.on_retry = on_retry

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _post_once(self, statements: Sequence[dict[str, Any]]) -> httpx.Response:
        try:
            response = await self.http.post(
                self.url,
                content=orjson.dumps(list(statements)),
                headers={"Content-Type": "application/json"},
            )
        except httpx.HTTPError as error:
            raise LrsUnavailable(f"{type(error).__name__}: {error}") from error
        if response.status_code in (200, 204) or response.status_code in _REJECTED:
            return response
        raise LrsUnavailable(f"HTTP {response.status_code}: {response.text[:300]}")

    async def _post(self, statements: Sequence[dict[str, Any]]) -> httpx.Response:
        async def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            log.warning("LRS unavailable (try %d), retrying: %s", state.attempt_number, error)
            if self.on_retry is not None:
                await self.on_retry()

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(LrsUnavailable),
            wait=wait_exponential_jitter(multiplier=0.2, max=self.max_backoff),
            before_sleep=before_sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._post_once(statements)
        raise AssertionError("unreachable")  # pragma: no cover

    async def deliver(
        self, statements: Sequence[dict[str, Any]], outcome: Outcome | None = None
    ) -> tuple[Outcome, list[Rejection]]:
        """Post `statements`; return what happened and the lone statements the LRS
        rejected (to park). Returns only once every statement is accepted or rejected."""
        outcome = outcome or Outcome()
        rejected: list[Rejection] = []
        if not statements:
            return outcome, rejected
        response = await self._post(statements)
        outcome.requests += 1
        if response.status_code in (200, 204):
            outcome.posted += len(statements)
            return outcome, rejected
        if len(statements) == 1:
            if response.status_code == 409:
                outcome.conflicts += 1
                log.warning(
                    "the LRS holds a different statement with id %s; it keeps its own",
                    statements[0].get("id"),
                )
            else:
                rejected.append(
                    Rejection(statements[0], response.status_code, response.text[:2000])
                )
            return outcome, rejected
        half = len(statements) // 2
        for part in (statements[:half], statements[half:]):
            _, more = await self.deliver(part, outcome)
            rejected.extend(more)
        return outcome, rejected
