"""The recognition policy of an academic year: for each award kind, its minimum requirements and
how the award is described to registries.

A policy is versioned: every change is a `PolicySet` event on the stream `policy-<year>` with the
next version number. A decision names the version it applied, so a later change never rewrites
an earlier decision.
"""

from __future__ import annotations

import re
from datetime import date
from string import Template
from typing import get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from passhub_shared.contracts.recognition import AwardKind
from passhub_shared.web.errors import Rejected

KINDS: tuple[AwardKind, ...] = get_args(AwardKind)

#: what the registry templates may mention
PLACEHOLDERS = ("role", "schemes", "year", "sessions", "hours")
#: registries (HEAR, skills awards) take at most this many characters of description
DESCRIPTION_LIMIT = 400

_YEAR = re.compile(r"^(\d{4})-(\d{2})$")


def check_academic_year(year: str) -> str:
    """`2026-27` style, the second part being the year after the first."""
    match = _YEAR.match(year)
    if match is None or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise Rejected(
            f"academic year {year!r} is not valid: use the form 2026-27", code="invalid_year"
        )
    return year


class Requirements(BaseModel):
    """Minimum requirements; each one set is required (all must be met). `None` = not required."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: core training completed (a `training_completed` for the year)
    training: bool = True
    #: leader sign-ins at uncancelled sessions, not revoked
    min_sessions: int | None = Field(default=8, ge=1, le=1000)
    #: hours of those sessions, from their scheduled length
    min_session_hours: float | None = Field(default=None, gt=0, le=10_000)
    #: training hours (from recruitment) plus admin and mentor meeting hours recorded here
    min_training_admin_hours: float | None = Field(default=None, gt=0, le=10_000)
    #: mentor meetings attended, recorded here
    min_mentor_meetings: int | None = Field(default=None, ge=1, le=1000)
    #: fails when the leader was stood down from every scheme before this date
    not_stood_down_before: date | None = None


class AwardRules(BaseModel):
    """One award kind: whether it is given, its requirements, and its registry wording.

    `activity_title` and `description` are templates: `$role`, `$schemes`, `$year`,
    `$sessions` and `$hours` are filled in for each award. The description is cut to the
    400 characters registries accept.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    requirements: Requirements = Field(default_factory=Requirements)
    activity_code: str = Field(min_length=1, max_length=40)
    activity_title: str = Field(min_length=1, max_length=200)
    category: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=DESCRIPTION_LIMIT)
    #: criteria narrative (Open Badges); blank: written from the requirements
    criteria: str = Field(default="", max_length=4000)


_DESCRIPTION = (
    "Completed training and volunteered as a $role in Peer Assisted Study Sessions for "
    "$schemes ($year), planning and facilitating $sessions weekly study sessions ($hours hours) "
    "in which first-year students work through their course together."
)


def default_rules(kind: AwardKind) -> AwardRules:
    if kind == "certificate":
        return AwardRules(
            activity_code="PASS-CERT",
            activity_title="Certificate of Participation: $role",
            category="Certificate of participation",
            description=_DESCRIPTION,
        )
    if kind == "psa":
        return AwardRules(
            activity_code="PASS-PSA",
            activity_title="Peer Assisted Study Sessions: $role",
            category="Volunteering",
            description=_DESCRIPTION,
        )
    return AwardRules(
        activity_code="PASS-HEAR",
        activity_title="Peer Assisted Study Sessions: $role",
        category="Additional recognised activities",
        description=_DESCRIPTION,
    )


class Policy(BaseModel):
    """The rules for each award kind; kinds left out get the defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    awards: dict[AwardKind, AwardRules] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _every_kind(self) -> Policy:
        missing = [k for k in KINDS if k not in self.awards]
        if missing:
            filled = dict(self.awards)
            for kind in missing:
                filled[kind] = default_rules(kind)
            object.__setattr__(self, "awards", {k: filled[k] for k in KINDS})
        return self

    def rules(self, kind: AwardKind) -> AwardRules:
        return self.awards[kind]


def default_policy() -> Policy:
    return Policy()


def check_template(text: str, field: str) -> None:
    template = Template(text)
    if not template.is_valid():
        raise Rejected(f"{field}: a $ must start a placeholder ($$ for a dollar sign)")
    unknown = sorted(set(template.get_identifiers()) - set(PLACEHOLDERS))
    if unknown:
        allowed = ", ".join(f"${p}" for p in PLACEHOLDERS)
        raise Rejected(f"{field}: unknown placeholder ${unknown[0]}; use {allowed}")


def check_policy(policy: Policy) -> None:
    for kind, rules in policy.awards.items():
        check_template(rules.activity_title, f"{kind}.activity_title")
        check_template(rules.description, f"{kind}.description")
        if rules.enabled and rules.requirements == Requirements(training=False, min_sessions=None):
            raise Rejected(f"{kind}: an enabled award needs at least one requirement")
