"""The institution's time zone, shared by every service, and times as people read them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from passhub_attendance.settings import AttendanceSettings
from passhub_sessions.settings import SessionsSettings
from passhub_shared.contracts.sessions import parse_session_reference, session_reference
from passhub_shared.operations.localtime import institution_timezone, local_text

LONDON = ZoneInfo("Europe/London")


def test_local_text_gives_the_zone_either_side_of_the_clock_change() -> None:
    assert local_text(datetime(2026, 10, 24, 14, 0, tzinfo=UTC), LONDON) == "2026-10-24 15:00 BST"
    assert local_text(datetime(2026, 10, 26, 14, 0, tzinfo=UTC), LONDON) == "2026-10-26 14:00 GMT"
    assert local_text(datetime(2026, 10, 26, 14, 0, 5, tzinfo=UTC), LONDON).endswith(":05 GMT")


def test_one_setting_gives_every_service_its_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PASSHUB_TIMEZONE", raising=False)
    monkeypatch.delenv("PASSHUB_SESSIONS_TIMEZONE", raising=False)
    monkeypatch.delenv("PASSHUB_ATTENDANCE_LOCAL_TIMEZONE", raising=False)
    assert institution_timezone() == "Europe/London"
    monkeypatch.setenv("PASSHUB_TIMEZONE", "Europe/Dublin")
    assert SessionsSettings().timezone == "Europe/Dublin"
    assert AttendanceSettings().local_timezone == "Europe/Dublin"
    monkeypatch.setenv("PASSHUB_ATTENDANCE_LOCAL_TIMEZONE", "Europe/London")
    assert AttendanceSettings().tz == LONDON  # a service's own setting wins
    monkeypatch.setenv("PASSHUB_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        SessionsSettings()


def test_session_references_read_back() -> None:
    winter = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
    text = session_reference("CHEM-Y1", winter, LONDON)
    assert text == "CHEM-Y1-2026-11-02-14:00"
    parsed = parse_session_reference(text)
    assert parsed is not None and parsed.scheme == "CHEM-Y1"
    assert parsed.starts == datetime(2026, 11, 2, 14, 0)
    assert str(parse_session_reference("phys-2026-10-05-9.05")) == "PHYS-2026-10-05-09:05"
    for not_one in ("3f2c1b0a-8d3f-4f7e-9a7e-0b7d4f0e1c2a", "PHYS-2026-13-05-14:00", "S1", ""):
        assert parse_session_reference(not_one) is None
