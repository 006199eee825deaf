"""Open Badges credentials: made from the award, signed as a VC-JWT, verified."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from passhub_recognition.credentials import Issuer, award_id_of, open_badge_credential
from passhub_recognition.domain.documents import AwardView
from passhub_recognition.domain.policy import default_rules
from passhub_recognition.signing import InvalidCredential, IssuerKey, did_web


def _view() -> AwardView:
    return AwardView(
        award_id="0190c0de-0000-7000-8000-000000000001",
        kind="hear",
        academic_year="2025-26",
        student_number="S1",
        name="Ada Lovelace",
        role="PASS Leader",
        scheme_ids=["2025-26-PHYS"],
        scheme_titles=["Physics"],
        sessions_delivered=8,
        hours=8.0,
        policy_version=1,
        verification_code="7KQ2-M9XD-A4TR-0HVZ",
        activity_start=date(2025, 9, 20),
        activity_end=date(2025, 11, 23),
        granted_at=datetime(2026, 5, 20, 12, 0, tzinfo=UTC),
        status="granted",
        withdrawn_at=None,
        withdrawn_reason=None,
        rules=default_rules("hear"),
    )


def test_an_open_badge_credential_round_trips_as_a_signed_vc_jwt() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = IssuerKey(Ed25519PrivateKey.generate(), did_web("https://pass.example.ac.uk"))
    issuer = Issuer(key.did, "PASS Scheme Office", "https://pass.example.ac.uk")
    credential = open_badge_credential(_view(), issuer)
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    subject = credential["credentialSubject"]
    assert subject["achievement"]["achievementType"] == "CoCurricular"
    assert subject["role"] == "PASS Leader"
    assert subject["activityStartDate"] == "2025-09-20T00:00:00Z"
    assert subject["activityEndDate"] == "2025-11-23T00:00:00Z"
    assert subject["achievement"]["criteria"]["narrative"].startswith("The PASS Leader completed")
    assert "S1" not in str(subject["identifier"][0])  # the student number travels hashed

    token = key.sign(credential)
    assert token == key.sign(credential)  # Ed25519: deterministic
    claims = key.verify(token)
    assert claims["iss"] == key.did and award_id_of(claims["jti"]) == _view().award_id
    assert claims["nbf"] == int(datetime(2026, 5, 20, 12, 0, tzinfo=UTC).timestamp())

    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    with pytest.raises(InvalidCredential):
        key.verify(forged)
    other = IssuerKey(Ed25519PrivateKey.generate(), key.did)
    with pytest.raises(InvalidCredential):
        other.verify(token)
    assert key.jwks()["keys"][0]["kid"] == key.kid
    assert key.did_document()["assertionMethod"] == [key.kid]
