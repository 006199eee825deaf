"""Calls to the services' public HTTP APIs, with a bearer token the portal issued."""

from __future__ import annotations

import time
from typing import Any

import httpx

from passhub_portal.settings import PortalSettings
from passhub_portal.tokens import TokenIssuer

PORTAL_ACCOUNT = "passhub-portal"


class ServiceError(Exception):
    """A service answered with a 4xx: `code` is its error code, `detail` its message."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail


class ServiceUnavailable(Exception):
    """A service did not answer, or answered with a 5xx."""

    def __init__(self, service: str) -> None:
        super().__init__(service)
        self.service = service


class Services:
    def __init__(self, settings: PortalSettings, issuer: TokenIssuer) -> None:
        self.settings = settings
        self.issuer = issuer
        self.http = httpx.AsyncClient(timeout=settings.service_timeout_seconds)
        self.bases = {
            "recruitment": settings.recruitment_url,
            "sessions": settings.sessions_url,
            "attendance": settings.attendance_url,
        }
        self._own: tuple[str, float] | None = None

    async def close(self) -> None:
        await self.http.aclose()

    def own_token(self) -> str:
        """The portal's service-account token (role `integration`), renewed at half-life."""
        now = time.monotonic()
        if self._own is None or self._own[1] < now:
            token = self.issuer.issue(PORTAL_ACCOUNT, ["integration"])
            self._own = (token, now + self.issuer.ttl.total_seconds() / 2)
        return self._own[0]

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        token: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        try:
            response = await self.http.request(
                method,
                f"{self.bases[service]}{path}",
                json=json,
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
        except httpx.HTTPError:
            raise ServiceUnavailable(service) from None
        if response.status_code >= 500:
            raise ServiceUnavailable(service)
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {}
            detail = body.get("detail") if isinstance(body, dict) else None
            code = body.get("code") if isinstance(body, dict) else None
            raise ServiceError(
                response.status_code, str(code or response.status_code), str(detail or "")
            )
        return response.json() if response.content else None

    async def is_leader(self, number: str) -> bool:
        """Whether recruitment has `number` appointed as a leader today (asked every request)."""
        appointments = await self.call(
            "recruitment", "GET", f"/people/{number}/appointments", self.own_token()
        )
        return any(a.get("role") == "leader" for a in appointments)
