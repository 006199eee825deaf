"""An award as its documents show it (certificate, Open Badges credential, registry record,
verification page): the award's figures, the leader's name, the scheme titles and the policy
version's wording together. Pure: `queries.py` reads one from the tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from passhub_recognition.domain.policy import AwardRules
from passhub_recognition.domain.wording import (
    KIND_TITLES,
    Fill,
    activity_title,
    criteria_narrative,
    description,
)
from passhub_shared.contracts.recognition import AwardKind


@dataclass(frozen=True)
class AwardView:
    award_id: str
    kind: AwardKind
    academic_year: str
    student_number: str
    name: str
    role: str
    scheme_ids: list[str]
    scheme_titles: list[str]
    sessions_delivered: int
    hours: float
    policy_version: int
    verification_code: str
    activity_start: date | None
    activity_end: date | None
    granted_at: datetime
    status: str
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    rules: AwardRules
    #: when a correction last re-issued the award with new figures, and why
    revised_at: datetime | None = None
    revised_reason: str | None = None

    @property
    def kind_title(self) -> str:
        return KIND_TITLES[self.kind]

    @property
    def standing(self) -> bool:
        return self.status == "granted"

    @property
    def fill(self) -> Fill:
        return Fill(
            role=self.role,
            schemes=self.scheme_titles,
            year=self.academic_year,
            sessions=self.sessions_delivered,
            hours=self.hours,
        )

    @property
    def activity_title(self) -> str:
        return activity_title(self.rules, self.fill)

    @property
    def description(self) -> str:
        return description(self.rules, self.fill)

    @property
    def criteria(self) -> str:
        return criteria_narrative(self.rules, self.role)
