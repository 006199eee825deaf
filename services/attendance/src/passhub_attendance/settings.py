"""Settings of the attendance service (environment variables `PASSHUB_ATTENDANCE_*`).

The kit's `Settings` hold what every service shares (database, NATS, JWT); these are the
attendance rules an institution may tune, and the keys of its own signatures.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from passhub_attendance.domain.model import Window
from passhub_shared.operations.localtime import check_timezone, institution_timezone
from passhub_shared.operations.secretkeys import SECRET, SecretChecked, SecretKey
from passhub_shared.operations.settings import ENV_FILE


class AttendanceSettings(SecretChecked):
    model_config = SettingsConfigDict(
        env_prefix="PASSHUB_ATTENDANCE_", env_file=ENV_FILE, extra="ignore"
    )

    #: sign-in opens this many minutes before a session starts
    open_before_minutes: float = 15.0
    #: and closes this many minutes after it ends (0: at the end)
    late_minutes: float = 0.0

    #: HMAC key of the QR sign-in codes and scan receipts (required: a random string of at
    #: least 32 bytes)
    qr_secret: SecretKey = ""
    #: a QR code is valid this long after it is shown
    qr_validity_seconds: int = 60
    #: time a student has, after scanning a still-valid code, to log in and press "Sign in": the
    #: portal exchanges the code for a scan receipt (`POST /sessions/{id}/scan-receipt`) that
    #: lasts this long from that moment; the code itself is never accepted past
    #: `qr_validity_seconds`
    qr_grace_seconds: int = 120
    #: the portal's public address, for the URL in the QR code (`<public_url>/s/<code>`, the
    #: portal's sign-in page; e.g. https://pass.example.ac.uk); empty: the address the code was
    #: asked for at, which is right only when the portal and this service share it
    public_url: str = ""

    #: key of the keyed hash that keeps "one feedback per student per session" for anonymous
    #: feedback without storing who gave it (required: a random string of at least 32 bytes)
    feedback_guard_key: SecretKey = ""
    #: keys the guard had before the last rotations: a guard made with one of them still counts,
    #: new guards are made with `feedback_guard_key` (a JSON list)
    feedback_guard_previous_keys: Annotated[list[str], SECRET] = []

    #: the institution's time zone: times in messages, times typed on imported paper
    #: sheets without an offset, and session references (default: `PASSHUB_TIMEZONE`, or
    #: Europe/London)
    local_timezone: str = Field(default_factory=institution_timezone)
    #: what a student number looks like (kiosk and import input is checked against it)
    student_number_pattern: str = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"

    #: the xAPI bridge's activity base (its PASSHUB_XAPI_ACTIVITY_BASE): the UDD exports' EVENT_ID
    #: is `<base>/sessions/<session id>`, the statements' object id; the exports refuse to run
    #: without it
    xapi_activity_base: str = ""

    @field_validator("local_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.local_timezone)

    @property
    def window(self) -> Window:
        return Window(
            open_before=timedelta(minutes=self.open_before_minutes),
            late=timedelta(minutes=self.late_minutes),
        )
