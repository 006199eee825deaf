"""Open Badges 3.0: each granted award as an `OpenBadgeCredential` (a W3C verifiable
credential), which the leader can carry to any badge wallet or backpack.

The credential is made from the award alone (deterministic), so it need not be stored: the
same award always gives the same credential, and the same VC-JWT once signed.

A concern of its own beside the service's layers: the Open Badges 3.0 data model, kept apart
from the awards' rules so the standard's shape changes in one place.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from passhub_recognition.domain.documents import AwardView

CONTEXTS = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]


@dataclass(frozen=True)
class Issuer:
    did: str
    name: str
    url: str

    def profile(self) -> dict[str, Any]:
        return {"id": self.did, "type": ["Profile"], "name": self.name, "url": self.url}


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(value: date) -> str:
    return _instant(datetime.combine(value, time(0, 0), tzinfo=UTC))


def achievement_id(base_url: str, year: str, kind: str) -> str:
    return f"{base_url.rstrip('/')}/achievements/{year}/{kind}"


def hashed_identity(identity: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((identity + salt).encode()).hexdigest()


def achievement(view: AwardView, issuer: Issuer) -> dict[str, Any]:
    return {
        "id": achievement_id(issuer.url, view.academic_year, view.kind),
        "type": ["Achievement"],
        "achievementType": "CoCurricular",
        "name": view.activity_title,
        "description": view.description,
        "criteria": {"narrative": view.criteria},
        "creator": issuer.profile(),
    }


def open_badge_credential(view: AwardView, issuer: Issuer) -> dict[str, Any]:
    """The unsigned credential of a granted award."""
    salt = view.award_id.replace("-", "")
    subject: dict[str, Any] = {
        "type": ["AchievementSubject"],
        "identifier": [
            {
                "type": "IdentityObject",
                "identityType": "studentId",
                "hashed": True,
                "identityHash": hashed_identity(view.student_number, salt),
                "salt": salt,
            },
            {
                "type": "IdentityObject",
                "identityType": "name",
                "hashed": False,
                "identityHash": view.name,
            },
        ],
        "achievement": achievement(view, issuer),
        "role": view.role,
        "term": view.academic_year,
    }
    if view.activity_start is not None:
        subject["activityStartDate"] = _day(view.activity_start)
    if view.activity_end is not None:
        subject["activityEndDate"] = _day(view.activity_end)
    return {
        "@context": CONTEXTS,
        "id": f"urn:uuid:{view.award_id}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer.profile(),
        "validFrom": _instant(view.granted_at),
        "name": f"{view.activity_title} ({view.academic_year})",
        "credentialSubject": subject,
    }


def award_id_of(credential_id: str) -> str | None:
    prefix = "urn:uuid:"
    return credential_id[len(prefix) :] if credential_id.startswith(prefix) else None
