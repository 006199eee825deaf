"""Calls to the services' public HTTP APIs, with a bearer token the portal issued.

aiohttp, not httpx, for these calls: at a session start the portal makes one per sign-in, many
at once, and httpx's connection pool scanned every pooled connection for each request (most of
the portal's CPU under load in `bench.portal`); aiohttp's C-accelerated client keeps up.
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import orjson
from cachetools import TTLCache

from passhub_portal.settings import PortalSettings
from passhub_portal.tokens import TokenIssuer

PORTAL_ACCOUNT = "passhub-portal"
#: the people whose tokens are kept at once (a campus at its busiest hour)
TOKENS_KEPT = 20_000


class ServiceError(Exception):
    """A service answered with a 4xx: `code` is its error code, `detail` its message."""

    def __init__(self, status: int, code: str, detail: str, body: Any = None) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        #: the whole answer (an import's every error by line)
        self.body = body


class ServiceUnavailable(Exception):
    """A service did not answer, or answered with a 5xx."""

    def __init__(self, service: str) -> None:
        super().__init__(service)
        self.service = service


class Services:
    def __init__(self, settings: PortalSettings, issuer: TokenIssuer) -> None:
        self.settings = settings
        self.issuer = issuer
        self._http: aiohttp.ClientSession | None = None
        self.bases = {
            "recruitment": settings.recruitment_url,
            "sessions": settings.sessions_url,
            "attendance": settings.attendance_url,
            "recognition": settings.recognition_url,
        }
        self._own: tuple[str, float] | None = None
        #: (number, roles, name) -> token, kept for half its lifetime
        self._tokens: TTLCache[tuple[str, tuple[str, ...], str | None], str] = TTLCache(
            maxsize=TOKENS_KEPT, ttl=issuer.ttl.total_seconds() / 2
        )
        #: student number -> name, from recruitment's records, kept ten minutes: the console's
        #: rosters name students, and a page shown again asks recruitment for none of them
        self.student_names: TTLCache[str, str] = TTLCache(maxsize=20_000, ttl=600)

    @property
    def http(self) -> aiohttp.ClientSession:
        """Made on first use, inside the running event loop."""
        if self._http is None:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.settings.service_timeout_seconds),
                connector=aiohttp.TCPConnector(limit=256, ttl_dns_cache=300),
                # the services' JSON is read as it comes, whatever its content type says
                raise_for_status=False,
            )
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    def own_token(self) -> str:
        """The portal's service-account token (role `integration`), renewed at half-life."""
        now = time.monotonic()
        if self._own is None or self._own[1] < now:
            token = self.issuer.issue(PORTAL_ACCOUNT, ["integration"])
            self._own = (token, now + self.issuer.ttl.total_seconds() / 2)
        return self._own[0]

    def person_token(self, number: str, roles: tuple[str, ...], name: str | None) -> str:
        """A token for a signed-in person with these roles: a person's pages call several
        services, each call with a token, so one is signed and then kept for half its lifetime
        (never past that, so a service always gets one with half its life left). A change of
        roles (a leader stood down) is another key, so another token at once."""
        key = (number, roles, name)
        token = self._tokens.get(key)
        if token is None:
            token = self.issuer.issue(number, list(roles), name)
            self._tokens[key] = token
        return token

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        token: str,
        *,
        json: Any = None,
        params: dict[str, Any] | list[tuple[str, str]] | None = None,
        content: bytes | None = None,
        content_type: str = "text/csv",
        timeout: float | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"}
        extra: dict[str, Any] = {}
        if timeout:
            extra["timeout"] = aiohttp.ClientTimeout(total=timeout)
        data = None
        if content is not None:
            data = content
            headers["Content-Type"] = content_type
        elif json is not None:
            # orjson, not aiohttp's json.dumps: a sign-in's body costs a third as much
            data = orjson.dumps(json)
            headers["Content-Type"] = "application/json"
        try:
            async with self.http.request(
                method,
                f"{self.bases[service]}{path}",
                data=data,
                params=params,
                headers=headers,
                **extra,
            ) as response:
                status = response.status
                raw = await response.read()
        except (aiohttp.ClientError, TimeoutError):
            raise ServiceUnavailable(service) from None
        if status >= 500:
            raise ServiceUnavailable(service)
        body: Any = None
        if raw:
            try:
                body = orjson.loads(raw)
            except ValueError:
                body = None
        if status >= 400:
            detail = body.get("detail") if isinstance(body, dict) else None
            code = body.get("code") if isinstance(body, dict) else None
            raise ServiceError(status, str(code or status), str(detail or ""), body)
        return body

    async def download(
        self,
        service: str,
        path: str,
        token: str,
        params: dict[str, Any] | list[tuple[str, str]] | None = None,
    ) -> tuple[bytes, str]:
        """A file a service makes (a certificate's PDF, a credential): its bytes and type."""
        try:
            async with self.http.get(
                f"{self.bases[service]}{path}",
                headers={"Authorization": f"Bearer {token}"},
                params=params,
            ) as response:
                status = response.status
                raw = await response.read()
                kind = response.headers.get("Content-Type", "application/octet-stream")
        except (aiohttp.ClientError, TimeoutError):
            raise ServiceUnavailable(service) from None
        if status >= 500:
            raise ServiceUnavailable(service)
        if status >= 400:
            try:
                body = orjson.loads(raw)
            except ValueError:
                body = {}
            raise ServiceError(
                status, str(body.get("code") or status), str(body.get("detail") or "")
            )
        return raw, kind

    async def is_leader(self, number: str) -> bool:
        """Whether recruitment has `number` appointed as a leader today (asked every request)."""
        appointments = await self.call(
            "recruitment", "GET", f"/people/{number}/appointments", self.own_token()
        )
        return any(a.get("role") == "leader" for a in appointments)
