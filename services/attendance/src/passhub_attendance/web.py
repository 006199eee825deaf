"""What the JSON API and the pages share: the service's settings, the clock, and who is asking.

Browsers do not send bearer headers when a phone opens a scanned link, so the pages also accept
the passhub token from an HttpOnly cookie, set by the login form (`POST /login`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

import jwt
from fastapi import Depends, Request

from passhub_attendance.domain.model import Actor
from passhub_attendance.settings import AttendanceSettings
from passhub_shared.app import runtime_of
from passhub_shared.auth import Principal, verify_token
from passhub_shared.errors import Rejected
from passhub_shared.settings import Settings

_SETTINGS_KEY = "attendance_settings"


async def attendance_settings(request: Request) -> AttendanceSettings:
    """Loaded once per runtime; tests may replace `runtime.state["attendance_settings"]`."""
    state = runtime_of(request).state
    if _SETTINGS_KEY not in state:
        state[_SETTINGS_KEY] = AttendanceSettings()
    settings: AttendanceSettings = state[_SETTINGS_KEY]
    return settings


SettingsDep = Annotated[AttendanceSettings, Depends(attendance_settings)]


def now() -> datetime:
    return datetime.now(UTC)


def actor(principal: Principal) -> Actor:
    return Actor(principal.sub, principal.roles)


def token_from(request: Request, cookie_name: str) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return credentials.strip()
    return request.cookies.get(cookie_name) or None


def verify(request: Request, token: str) -> Principal | None:
    kit: Settings = request.app.state.settings
    try:
        return verify_token(kit, token)
    except jwt.InvalidTokenError:
        return None


def page_principal(request: Request, settings: AttendanceSettings) -> Principal | None:
    """The caller of a page: bearer header or cookie; None when absent, invalid or expired."""
    token = token_from(request, settings.cookie_name)
    return None if token is None else verify(request, token)


def student_number_of(settings: AttendanceSettings, value: str) -> str:
    """A typed or card-read student number, trimmed and checked."""
    number = value.strip()
    if not re.fullmatch(settings.student_number_pattern, number):
        raise Rejected(f"{number!r} is not a student number", code="invalid_student_number")
    return number
