"""Tokens: what `passhub token` makes is what the services accept, and nothing else is."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from passhub_shared.auth import make_token, verify_token
from passhub_shared.settings import Settings


def test_a_made_token_verifies_with_its_roles() -> None:
    settings = Settings(jwt_secret="s" * 40)
    principal = verify_token(settings, make_token(settings, "2400123", ["student"], "Ada"))
    assert principal.sub == "2400123"
    assert principal.roles == {"student"}
    assert principal.has("student", "leader")
    assert not principal.has("coordinator")


def test_wrong_key_expired_and_wrong_audience_are_refused() -> None:
    settings = Settings(jwt_secret="s" * 40)
    other = Settings(jwt_secret="t" * 40)
    with pytest.raises(jwt.InvalidSignatureError):
        verify_token(settings, make_token(other, "u", ["student"]))
    with pytest.raises(jwt.ExpiredSignatureError):
        verify_token(settings, make_token(settings, "u", ["student"], ttl=timedelta(seconds=-5)))
    with pytest.raises(jwt.InvalidAudienceError):
        verify_token(settings, make_token(Settings(jwt_secret="s" * 40, jwt_audience="x"), "u", []))


def test_unknown_roles_are_refused_when_making_tokens() -> None:
    with pytest.raises(ValueError, match="unknown roles"):
        make_token(Settings(), "u", ["superuser"])
