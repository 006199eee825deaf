"""The institution's time zone, which every service shares, and how times are written for people.

Events, the database and JSON carry instants with their offset (ISO 8601). What people read (an
error message, a page, a chart, a session's reference) is in the institution's local time,
with the zone's abbreviation so that a time in the week the clocks change is never read wrongly:
`2026-10-24 15:00 BST`, `2026-10-26 14:00 GMT`.

`PASSHUB_TIMEZONE` (an IANA name, `Europe/London` when unset) sets it for every service; a
service's own setting (`PASSHUB_SESSIONS_TIMEZONE`, `PASSHUB_ATTENDANCE_LOCAL_TIMEZONE`) still
wins where it is set.
"""

from __future__ import annotations

import os
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from passhub_shared.operations.settings import ENV_FILE

TIMEZONE_VARIABLE = "PASSHUB_TIMEZONE"
DEFAULT_TIMEZONE = "Europe/London"


def _from_env_file(key: str) -> str | None:
    if not ENV_FILE.exists():
        return None
    for line in ENV_FILE.read_text(encoding="utf-8").splitlines():
        name, _, value = line.partition("=")
        if name.strip() == key:
            return value.strip()
    return None


def institution_timezone() -> str:
    """The name of the institution's time zone: `PASSHUB_TIMEZONE` (from the environment or
    the env file), or Europe/London."""
    return (
        os.environ.get(TIMEZONE_VARIABLE) or _from_env_file(TIMEZONE_VARIABLE) or DEFAULT_TIMEZONE
    )


def check_timezone(name: str) -> str:
    """`name` if it is a time zone Python knows; ValueError naming it otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as Europe/London)"
        ) from None
    return name


def local_text(moment: datetime, tz: tzinfo) -> str:
    """`moment` as people read it: `2026-10-05 14:00 BST` (seconds only when there are some)."""
    local = moment.astimezone(tz)
    fmt = "%Y-%m-%d %H:%M:%S %Z" if local.second else "%Y-%m-%d %H:%M %Z"
    return local.strftime(fmt).strip()
