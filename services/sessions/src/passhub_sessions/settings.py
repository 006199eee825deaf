"""Settings of the sessions service (environment prefix `PASSHUB_SESSIONS_`), term dates, and
the clock.

Term dates: `<academic_year>.json` in `PASSHUB_SESSIONS_TERM_DATES_DIR` when that file exists,
otherwise the file shipped in this package (`term_dates/2026-27.json`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import SettingsConfigDict

from passhub_sessions.domain.terms import ACADEMIC_YEAR, TermDates
from passhub_shared.messages.events import utcnow
from passhub_shared.operations.localtime import check_timezone, institution_timezone
from passhub_shared.operations.secretkeys import SecretChecked, SecretKey
from passhub_shared.operations.service import Runtime
from passhub_shared.operations.settings import ENV_FILE
from passhub_shared.web.errors import NotFound, Rejected

PACKAGED_TERM_DATES = Path(__file__).parent / "term_dates"


class SessionsSettings(SecretChecked):
    model_config = SettingsConfigDict(
        env_prefix="PASSHUB_SESSIONS_", env_file=ENV_FILE, extra="ignore", env_file_encoding="utf-8"
    )

    #: the institution's time zone: local times (series, availability, dates) are read in it
    #: (default: `PASSHUB_TIMEZONE`, shared by every service, or Europe/London)
    timezone: str = Field(default_factory=institution_timezone)
    #: a directory of `<academic_year>.json` term-date files (overrides the packaged ones)
    term_dates_dir: Path | None = None
    #: leaders per session for a scheme launched without saying
    default_min_leaders_per_session: int = 2
    #: longest session accepted, in minutes
    max_session_minutes: int = 240
    #: key of the signed feed links (required: a random string of at least 32 bytes, its own,
    #: not the JWT secret); changing it revokes every link
    feed_secret: SecretKey = ""
    #: public base URL for feed links (e.g. https://pass.example.ac.uk/sessions-api);
    #: empty = the URL the request came in on
    public_url: str = ""
    #: PRODID domain and UID suffix of the iCalendar feeds
    calendar_domain: str = "passhub"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def sessions_settings(runtime: Runtime) -> SessionsSettings:
    """The service's own settings, read once per runtime (tests may put their own in
    `runtime.state["sessions_settings"]`)."""
    found = runtime.state.get("sessions_settings")
    if not isinstance(found, SessionsSettings):
        found = SessionsSettings()
        runtime.state["sessions_settings"] = found
    return found


def now(runtime: Runtime) -> datetime:
    """The current time; tests set `runtime.state["clock"]` to a function to fix it."""
    clock: Callable[[], datetime] | None = runtime.state.get("clock")
    return clock() if clock is not None else utcnow()


@lru_cache(maxsize=32)
def _read(path: Path, mtime: float) -> TermDates:
    return TermDates.model_validate_json(path.read_text(encoding="utf-8"))


def term_dates(settings: SessionsSettings, academic_year: str) -> TermDates:
    if not ACADEMIC_YEAR.match(academic_year):
        raise Rejected(f"academic year {academic_year!r} must look like 2026-27")
    candidates = []
    if settings.term_dates_dir is not None:
        candidates.append(settings.term_dates_dir / f"{academic_year}.json")
    candidates.append(PACKAGED_TERM_DATES / f"{academic_year}.json")
    for path in candidates:
        if path.is_file():
            try:
                terms = _read(path, path.stat().st_mtime)
            except ValidationError as exc:
                raise Rejected(f"the term dates in {path} are not valid: {exc}") from None
            if terms.academic_year != academic_year:
                raise Rejected(f"{path} holds term dates for {terms.academic_year}")
            return terms
    where = settings.term_dates_dir or "PASSHUB_SESSIONS_TERM_DATES_DIR"
    raise NotFound(f"no term dates for {academic_year}: add {where}/{academic_year}.json")
