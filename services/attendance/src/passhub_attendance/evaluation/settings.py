"""Evaluation settings (environment variables `PASSHUB_ATTENDANCE_EVALUATION_*`).

They apply when a report is computed, not when events are projected: the projections keep the
raw facts (marks, letter grades, pass flags, session counts), so changing the grade scale or the
bands changes the next report and never needs a replay.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from passhub_attendance.evaluation.csvimport import (
    DEFAULT_OUTCOME_CODES,
    Outcome,
    outcome_codes,
    parse_outcome_codes,
)
from passhub_attendance.evaluation.groups import Group, build_groups, parse_bands
from passhub_attendance.evaluation.stats import Rules
from passhub_shared.operations.settings import ENV_FILE

DEFAULT_GRADE_SCALE = {"A": 4.0, "B": 3.0, "C": 2.0, "D": 1.0, "F": 0.0}


class EvaluationSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PASSHUB_ATTENDANCE_EVALUATION_",
        env_file=ENV_FILE,
        extra="ignore",
        env_file_encoding="utf-8",
    )

    #: sessions from which a participant counts as regular (UK PASS evaluations use 4)
    regular_min: int = Field(default=4, ge=1)
    #: the international SI template's bands of participants
    bands: str = "1-4,5-9,10+"
    #: groups smaller than this are suppressed in reports (privacy)
    min_group_size: int = Field(default=5, ge=1)
    #: a mark at or above this passes when the results file leaves `passed` blank
    pass_mark: float = 40.0
    #: letter grade -> grade points
    grade_scale: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_GRADE_SCALE))
    #: grades counted in the D/F/W rate (with fails and withdrawals)
    dfw_grades: list[str] = Field(default_factory=lambda: ["D", "F"])
    #: grades that fail when the results file leaves `passed` blank
    fail_grades: list[str] = Field(default_factory=lambda: ["F"])
    #: outcome codes a results file's `passed` column may hold besides yes/no, and what each
    #: means (pass, fail or withdrawn): `P=pass,F=fail,W=withdrawn` or the same as JSON
    outcome_codes: Annotated[dict[str, Outcome], NoDecode] = Field(
        default_factory=lambda: dict(DEFAULT_OUTCOME_CODES)
    )
    #: the largest share of a group's students with a result who may lack prior attainment for
    #: the adjusted estimates to be computed (over it, the report says so instead)
    max_prior_missing: float = Field(default=0.2, ge=0.0, le=1.0)
    #: what the scheme is called in survey headlines ("93% agreed that attending PASS...")
    programme_name: str = "PASS"
    #: largest CSV file an import accepts
    max_import_bytes: int = 50 * 1024 * 1024
    #: rows per import event (an import is appended as several events of this size)
    import_event_rows: int = Field(default=5000, ge=1)

    @field_validator("bands")
    @classmethod
    def _bands_parse(cls, value: str) -> str:
        parse_bands(value)
        return value

    @field_validator("grade_scale")
    @classmethod
    def _upper_scale(cls, value: dict[str, float]) -> dict[str, float]:
        if not value:
            raise ValueError("the grade scale needs at least one grade")
        return {k.strip().upper(): float(v) for k, v in value.items()}

    @field_validator("outcome_codes", mode="before")
    @classmethod
    def _codes(cls, value: object) -> dict[str, Outcome]:
        if isinstance(value, str):
            return parse_outcome_codes(value)
        if isinstance(value, dict):
            return outcome_codes({str(k): str(v) for k, v in value.items()})
        raise ValueError("outcome codes are a mapping of code to pass, fail or withdrawn")

    @field_validator("dfw_grades", "fail_grades")
    @classmethod
    def _upper(cls, value: list[str]) -> list[str]:
        return [v.strip().upper() for v in value]

    @model_validator(mode="after")
    def _known_grades(self) -> EvaluationSettings:
        unknown = (set(self.dfw_grades) | set(self.fail_grades)) - set(self.grade_scale)
        if unknown:
            raise ValueError(f"grades {sorted(unknown)} are not in the grade scale")
        return self

    def groups(self) -> list[Group]:
        return build_groups(self.regular_min, self.bands)

    def public(self) -> dict[str, Any]:
        """What a report states about how it was computed."""
        return {
            "regular_min": self.regular_min,
            "bands": self.bands,
            "min_group_size": self.min_group_size,
            "pass_mark": self.pass_mark,
            "grade_scale": self.grade_scale,
            "dfw_grades": self.dfw_grades,
            "fail_grades": self.fail_grades,
            "outcome_codes": self.outcome_codes,
            "max_prior_missing": self.max_prior_missing,
        }

    def rules(self) -> Rules:
        return Rules(
            grade_scale=dict(self.grade_scale),
            pass_mark=self.pass_mark,
            fail_grades=frozenset(self.fail_grades),
            dfw_grades=frozenset(self.dfw_grades),
        )
