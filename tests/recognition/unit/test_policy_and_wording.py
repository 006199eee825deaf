"""The policy stream, registry wording, verification codes and the issuer's identity."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from passhub_recognition.credentials import Issuer, award_id_of, open_badge_credential
from passhub_recognition.domain.codes import code_hash, display, normalise
from passhub_recognition.domain.documents import AwardView
from passhub_recognition.domain.events import PolicySet
from passhub_recognition.domain.policy import (
    DESCRIPTION_LIMIT,
    Policy,
    Requirements,
    check_academic_year,
    default_rules,
)
from passhub_recognition.domain.policy_stream import SetPolicy, policy_decider
from passhub_recognition.domain.wording import Fill, clip, description, requirements_narrative
from passhub_recognition.handlers import new_verification_code
from passhub_recognition.signing import InvalidCredential, IssuerKey, did_web
from passhub_shared.errors import Rejected

YEAR = "2026-27"


# --- the policy stream ----------------------------------------------------------------------


def test_each_change_is_the_next_version_and_an_unchanged_policy_is_no_change() -> None:
    first = policy_decider.given_when([], SetPolicy(YEAR, Policy()))
    assert first == [PolicySet(academic_year=YEAR, version=1, policy=Policy())]
    assert policy_decider.given_when(first, SetPolicy(YEAR, Policy())) == []
    stricter = Policy(
        awards={
            "hear": default_rules("hear").model_copy(
                update={"requirements": Requirements(min_sessions=10)}
            )
        }
    )
    [second] = policy_decider.given_when(first, SetPolicy(YEAR, stricter))
    assert isinstance(second, PolicySet) and second.version == 2
    state = policy_decider.fold([*first, second])
    assert state.versions is not None and sorted(state.versions) == [1, 2]
    assert state.policy == stricter


def test_kinds_left_out_of_a_policy_get_the_defaults() -> None:
    assert sorted(Policy(awards={}).awards) == ["certificate", "hear", "psa"]


@pytest.mark.parametrize("year", ["2026", "2026-28", "26-27", "2026/27", "2026-27x"])
def test_an_academic_year_must_look_like_2026_27(year: str) -> None:
    with pytest.raises(Rejected, match="2026-27"):
        check_academic_year(year)
    with pytest.raises(Rejected):
        policy_decider.given_when([], SetPolicy(year, Policy()))


def test_a_template_may_only_use_the_known_placeholders() -> None:
    rules = default_rules("hear").model_copy(update={"description": "Led $sessoins sessions"})
    with pytest.raises(Rejected, match=r"unknown placeholder \$sessoins"):
        policy_decider.given_when([], SetPolicy(YEAR, Policy(awards={"hear": rules})))
    dangling = default_rules("hear").model_copy(update={"description": "Costs $5"})
    with pytest.raises(Rejected, match=r"\$\$"):
        policy_decider.given_when([], SetPolicy(YEAR, Policy(awards={"hear": dangling})))


def test_requirements_refuse_nonsense_numbers() -> None:
    with pytest.raises(ValidationError):
        Requirements(min_sessions=0)
    with pytest.raises(ValidationError):
        Requirements(min_session_hours=-1)
    with pytest.raises(ValidationError):
        Requirements.model_validate({"min_sessions": 8, "surprise": True})


# --- wording --------------------------------------------------------------------------------


def test_the_description_fits_the_registry_limit_however_long_the_scheme_names() -> None:
    fill = Fill(
        role="PASS Leader",
        schemes=[f"Advanced Interdisciplinary Studies in Topic {i}" for i in range(20)],
        year=YEAR,
        sessions=24,
        hours=36,
    )
    text = description(default_rules("hear"), fill)
    assert len(text) <= DESCRIPTION_LIMIT
    assert text.endswith("…") and text.startswith("Completed training and volunteered as a PASS")
    short = description(default_rules("hear"), Fill("PASS Leader", ["Physics"], YEAR, 8, 12.5))
    assert "Physics (2026-27)" in short and "8 weekly study sessions (12.5 hours)" in short
    assert not short.endswith("…")


def test_clip_cuts_at_a_word() -> None:
    assert clip("one two three", 9) == "one two…"
    assert clip("  spaced   out  ", 100) == "spaced out"


def test_the_criteria_narrative_is_written_from_the_requirements() -> None:
    narrative = requirements_narrative(
        Requirements(min_sessions=None, min_session_hours=15, min_training_admin_hours=10),
        "PASS Mentor",
    )
    assert narrative == (
        "The PASS Mentor completed the core training, delivered at least 15 hours of sessions "
        "and spent at least 10 hours in training and scheme administration."
    )


# --- verification codes ---------------------------------------------------------------------


def test_codes_are_long_random_and_forgiving_to_type() -> None:
    codes = {new_verification_code() for _ in range(200)}
    assert len(codes) == 200
    code = next(iter(codes))
    assert len(code) == 19 and code.count("-") == 3
    plain = normalise(code)
    assert plain is not None and len(plain) == 16
    typed = code.lower().replace("-", " ")
    assert normalise(typed) == plain and code_hash(typed) == code_hash(code)
    assert display(plain) == code


def test_malformed_codes_normalise_to_nothing() -> None:
    assert normalise("ABC") is None
    assert normalise("ABCD-EFGH-JKMN-PQR!") is None
    assert normalise("O0O0-IIII-LLLL-0000") == "0000111111110000"


# --- the issuer and its credentials ---------------------------------------------------------


def test_did_web_follows_the_public_address() -> None:
    assert did_web("https://pass.example.ac.uk") == "did:web:pass.example.ac.uk"
    assert did_web("http://localhost:8004/") == "did:web:localhost%3A8004"
    assert did_web("https://uni.ac.uk/pass/recognition") == "did:web:uni.ac.uk:pass:recognition"
    with pytest.raises(ValueError):
        did_web("not a url")


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
