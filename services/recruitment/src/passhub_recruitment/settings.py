"""Settings of the recruitment service alone (env prefix `PASSHUB_RECRUITMENT_`).

The institution's vocabulary (`PASSHUB_LEADER_TITLE`, `PASSHUB_ORGANISER_TITLE`) is the kit's,
used as the default titles of a new campaign.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from pydantic_settings import BaseSettings, SettingsConfigDict

from passhub_shared.operations.settings import ENV_FILE


class RecruitmentSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PASSHUB_RECRUITMENT_",
        env_file=ENV_FILE,
        extra="ignore",
        env_file_encoding="utf-8",
    )

    #: default minimum first/second-year exam mark of a new campaign
    min_exam_mark: Decimal = Decimal("60")
    #: default core training hours a new campaign requires before appointment
    core_training_hours: Decimal = Decimal("6")
    #: largest student-records import accepted, in rows and in bytes
    max_import_rows: int = 100_000
    max_import_bytes: int = 50_000_000
    #: student records per stored import event
    import_chunk_rows: int = 500
    #: the institution's time zone: "today" for closing dates and default appointment dates
    timezone: str = "Europe/London"

    def today(self) -> date:
        return datetime.now(ZoneInfo(self.timezone)).date()


@lru_cache(maxsize=1)
def recruitment_settings() -> RecruitmentSettings:
    return RecruitmentSettings()
