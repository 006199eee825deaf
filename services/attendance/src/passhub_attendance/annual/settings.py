"""Annual report settings (environment variables `PASSHUB_ATTENDANCE_ANNUAL_*`). The groups,
the regular threshold and the smallest group shown are the evaluation's
(`PASSHUB_ATTENDANCE_EVALUATION_*`), so every report suppresses the same groups."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from passhub_shared.operations.settings import ENV_FILE

#: the graduate outcomes survey's categories that count as a positive outcome (employment or
#: further study), normalised as `outcome_key` writes them
DEFAULT_POSITIVE = (
    "full_time_employment",
    "part_time_employment",
    "employment_and_further_study",
    "employment_further_study",
    "full_time_further_study",
    "part_time_further_study",
    "due_to_start_a_job",
    "self_employed",
    "employed",
    "employment",
    "further_study",
)


def outcome_key(category: str) -> str:
    """`Full-time employment` -> `full_time_employment` (case, spaces and dashes forgiven)."""
    out = []
    for ch in category.strip().lower():
        out.append(ch if ch.isalnum() else "_")
    return "_".join(part for part in "".join(out).split("_") if part)


class AnnualSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PASSHUB_ATTENDANCE_ANNUAL_",
        env_file=ENV_FILE,
        extra="ignore",
        env_file_encoding="utf-8",
    )

    #: outcome categories counted as positive (comma-separated, or a JSON list)
    positive_outcomes: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_POSITIVE)
    )
    #: what the report calls a positive outcome
    positive_label: str = "in employment or further study"
    #: the institution's name on the report's cover
    institution: str = "the University"
    #: largest graduate outcomes file accepted
    max_import_bytes: int = 20 * 1024 * 1024
    #: rows per import event
    import_event_rows: int = Field(default=5000, ge=1)

    @field_validator("positive_outcomes", mode="before")
    @classmethod
    def _positive(cls, value: object) -> list[str]:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                value = json.loads(text)
            else:
                value = text.split(",")
        if not isinstance(value, list | tuple):
            raise ValueError("positive outcomes are a list of categories")
        keys = sorted({outcome_key(str(v)) for v in value if str(v).strip()})
        if not keys:
            raise ValueError("at least one outcome category must count as positive")
        return keys
