"""What the routes share: the service's settings, the clock, and who is asking."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request

from passhub_attendance.domain.model import Actor
from passhub_attendance.settings import AttendanceSettings
from passhub_shared.app import runtime_of
from passhub_shared.auth import Principal
from passhub_shared.errors import Rejected

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


def student_number_of(settings: AttendanceSettings, value: str) -> str:
    """A typed or card-read student number, trimmed and checked."""
    number = value.strip()
    if not re.fullmatch(settings.student_number_pattern, number):
        raise Rejected(f"{number!r} is not a student number", code="invalid_student_number")
    return number
