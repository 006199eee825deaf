"""Tokens: what `passhub token` makes is what the services accept, and nothing else is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from typer.testing import CliRunner

from passhub_shared.operations import cli
from passhub_shared.operations.settings import Settings
from passhub_shared.web.auth import TokenLifetimeTooLong, make_token, verify_token


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
        make_token(Settings(jwt_secret="s" * 40), "u", ["superuser"])


def test_a_token_may_not_outlive_the_longest_lifetime() -> None:
    settings = Settings(jwt_secret="s" * 40, jwt_max_lifetime_seconds=3600)
    now = datetime.now(UTC)
    claims = {"sub": "u", "roles": ["coordinator"], "iss": "passhub", "aud": "passhub"}
    just_fits = jwt.encode(claims | {"iat": now, "exp": now + timedelta(seconds=3600)}, "s" * 40)
    assert verify_token(settings, just_fits).sub == "u"
    too_long = jwt.encode(claims | {"iat": now, "exp": now + timedelta(seconds=3601)}, "s" * 40)
    with pytest.raises(TokenLifetimeTooLong, match="PASSHUB_JWT_MAX_LIFETIME_SECONDS"):
        verify_token(settings, too_long)
    # a token backdated to look short-lived is held to its own iat
    no_iat = jwt.encode(claims | {"exp": now + timedelta(seconds=60)}, "s" * 40)
    with pytest.raises(jwt.MissingRequiredClaimError, match="iat"):
        verify_token(settings, no_iat)


def test_make_token_is_capped_by_the_same_setting() -> None:
    settings = Settings(jwt_secret="s" * 40, jwt_max_lifetime_seconds=3600)
    claims = jwt.decode(make_token(settings, "u", []), options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 3600
    with pytest.raises(ValueError, match="at most 1 hours"):
        make_token(settings, "u", [], ttl=timedelta(seconds=3601))


def test_passhub_token_refuses_hours_beyond_the_cap() -> None:
    runner = CliRunner()
    args = ["token", "--role", "coordinator", "--sub", "admin"]
    made = runner.invoke(cli.app, [*args, "--hours", "2"])
    assert made.exit_code == 0, made.output
    claims = jwt.decode(made.output.strip(), options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 2 * 3600
    for hours in ("9", "1000000", "1e300", "inf"):
        refused = runner.invoke(cli.app, [*args, "--hours", hours])
        assert refused.exit_code == 2, (hours, refused.output)
        assert "at most 8 hours" in refused.output
    assert runner.invoke(cli.app, [*args, "--hours", "nan"]).exit_code == 2
    assert runner.invoke(cli.app, [*args, "--hours", "-1"]).exit_code == 2
