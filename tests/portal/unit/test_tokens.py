"""The tokens the portal signs for people: one per person and roles, kept for half its life."""

from __future__ import annotations

from datetime import timedelta

import jwt

from passhub_portal.clients import Services
from passhub_portal.tokens import TokenIssuer, generate_private_key_pem
from tests.portal.unit.test_identity import settings


def services(ttl: int = 300) -> Services:
    issuer = TokenIssuer(generate_private_key_pem(), "passhub", "passhub", timedelta(seconds=ttl))
    return Services(settings(), issuer)


def test_a_persons_token_is_kept_and_a_change_of_roles_gets_another() -> None:
    s = services()
    first = s.person_token("S1", ("leader", "student"), "Ada")
    assert s.person_token("S1", ("leader", "student"), "Ada") == first
    stood_down = s.person_token("S1", ("student",), "Ada")
    other = s.person_token("S2", ("leader", "student"), "Bo")
    assert len({first, stood_down, other}) == 3
    claims = jwt.decode(
        stood_down,
        s.issuer._key.public_key(),  # type: ignore[arg-type]
        algorithms=["EdDSA"],
        audience="passhub",
        issuer="passhub",
    )
    assert (claims["sub"], claims["roles"], claims["name"]) == ("S1", ["student"], "Ada")
    assert claims["exp"] - claims["iat"] == 300


def test_a_kept_token_is_at_most_half_its_life_old() -> None:
    s = services(ttl=300)
    assert s._tokens.ttl == 150
