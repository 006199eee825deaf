"""The words on certificates, registry records and badges, made from a policy and an award."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from string import Template

from passhub_recognition.domain.policy import DESCRIPTION_LIMIT, AwardRules, Requirements
from passhub_recognition.domain.requirements import hours_text
from passhub_shared.contracts.recognition import AwardKind

KIND_TITLES: dict[AwardKind, str] = {
    "certificate": "Certificate of Participation",
    "psa": "Personal Skills Award entry",
    "hear": "HEAR entry (section 6.1)",
}


@dataclass(frozen=True)
class Fill:
    role: str
    schemes: Sequence[str]  # titles
    year: str
    sessions: int
    hours: float

    def values(self) -> dict[str, str]:
        return {
            "role": self.role,
            "schemes": join_names(self.schemes) or "the scheme",
            "year": self.year,
            "sessions": str(self.sessions),
            "hours": hours_text(self.hours),
        }


def join_names(names: Sequence[str]) -> str:
    """["A"] -> "A"; ["A", "B", "C"] -> "A, B and C"."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def fill(template: str, values: Fill) -> str:
    return Template(template).safe_substitute(values.values())


def clip(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """`text` cut at a word boundary to at most `limit` characters, ending with an ellipsis
    when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:") + "…"


def description(rules: AwardRules, values: Fill) -> str:
    return clip(fill(rules.description, values))


def activity_title(rules: AwardRules, values: Fill) -> str:
    return fill(rules.activity_title, values)


def criteria_narrative(rules: AwardRules, role: str = "leader") -> str:
    """The policy's narrative, or one written from its requirements."""
    if rules.criteria.strip():
        return rules.criteria.strip()
    return requirements_narrative(rules.requirements, role)


def requirements_narrative(req: Requirements, role: str = "leader") -> str:
    parts: list[str] = []
    if req.training:
        parts.append("completed the core training")
    if req.min_sessions is not None:
        parts.append(f"delivered at least {req.min_sessions} sessions (signed in as {role})")
    if req.min_session_hours is not None:
        parts.append(f"delivered at least {hours_text(req.min_session_hours)} hours of sessions")
    if req.min_training_admin_hours is not None:
        parts.append(
            f"spent at least {hours_text(req.min_training_admin_hours)} hours "
            "in training and scheme administration"
        )
    if req.min_mentor_meetings is not None:
        parts.append(f"attended at least {req.min_mentor_meetings} mentor meetings")
    if req.not_stood_down_before is not None:
        parts.append(f"was not stood down before {req.not_stood_down_before.isoformat()}")
    if not parts:
        return f"Appointed as a {role}."
    return f"The {role} " + join_names(parts) + "."
