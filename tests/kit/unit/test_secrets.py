"""No secret or key has a usable default: settings refuse a missing, short or published secret
with a message naming the environment variable, and a service does not start without its keys."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from passhub_attendance.settings import AttendanceSettings
from passhub_sessions.settings import SessionsSettings
from passhub_shared.operations.secretkeys import (
    EXAMPLE_DIGESTS,
    MIN_SECRET_BYTES,
    InsecureSecret,
    generate_secret,
    secret_problem,
)
from passhub_shared.operations.settings import Settings

#: every value passhub's code, Compose file, benchmarks or docs ever showed as a secret
EXAMPLE_VALUES = (
    "passhub-dev-secret-change-me-0123456789",
    "passhub-compose-dev-secret-change-me",
    "passhub-attendance-qr-dev-key-change-me",
    "passhub-attendance-feedback-dev-key-change-me",
    "bench-qr-secret-0123456789abcdef",
    "bench-jwt-secret-0123456789abcdef0123",
    "a-secret-key",
    "not-the-key",
    "change-me",
    "changeme",
    "secret",
    "postgres",
)

SECRET_VARIABLES = (
    "PASSHUB_JWT_SECRET",
    "PASSHUB_ATTENDANCE_QR_SECRET",
    "PASSHUB_ATTENDANCE_FEEDBACK_GUARD_KEY",
    "PASSHUB_ATTENDANCE_FEEDBACK_GUARD_PREVIOUS_KEYS",
    "PASSHUB_SESSIONS_FEED_SECRET",
)


@pytest.fixture
def no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment without any secret (the test run puts generated ones in it)."""
    for name in SECRET_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_a_secret_must_be_set_long_and_not_an_example() -> None:
    assert secret_problem("") == "is not set"
    assert secret_problem("   ") == "is not set"
    assert "at least 32" in (secret_problem("x" * (MIN_SECRET_BYTES - 1)) or "")
    assert secret_problem("x" * MIN_SECRET_BYTES) is None
    assert secret_problem(generate_secret()) is None
    for example in EXAMPLE_VALUES:
        assert secret_problem(example) is not None, example
    assert "example value" in (secret_problem("passhub-dev-secret-change-me-0123456789") or "")


def test_the_kit_knows_every_published_example_and_only_those() -> None:
    assert {hashlib.sha256(v.encode()).hexdigest() for v in EXAMPLE_VALUES} == EXAMPLE_DIGESTS


@pytest.mark.usefixtures("no_secrets")
def test_the_kit_refuses_to_load_without_a_jwt_secret() -> None:
    with pytest.raises(InsecureSecret, match="PASSHUB_JWT_SECRET is not set"):
        Settings(_env_file=None)  # type: ignore[call-arg]
    with pytest.raises(InsecureSecret, match="PASSHUB_JWT_SECRET is 10 bytes long"):
        Settings(_env_file=None, jwt_secret="0123456789")  # type: ignore[call-arg]
    with pytest.raises(InsecureSecret, match="PASSHUB_JWT_SECRET is an example value"):
        # type: ignore[call-arg]
        Settings(_env_file=None, jwt_secret="passhub-dev-secret-change-me-0123456789")
    # type: ignore[call-arg]
    assert Settings(_env_file=None, jwt_secret="s" * 32).jwt_secret == "s" * 32


@pytest.mark.usefixtures("no_secrets")
def test_tokens_checked_with_a_public_key_only_need_no_shared_secret() -> None:
    # type: ignore[call-arg]
    settings = Settings(_env_file=None, jwt_public_key="PEM", jwt_algorithms=["RS256"])
    assert settings.jwt_secret == ""
    with pytest.raises(InsecureSecret, match="PASSHUB_JWT_SECRET"):
        Settings(_env_file=None, jwt_algorithms=["RS256", "HS256"])  # type: ignore[call-arg]


@pytest.mark.usefixtures("no_secrets")
def test_attendance_names_each_missing_key_and_never_shows_a_good_one() -> None:
    good = generate_secret()
    with pytest.raises(InsecureSecret) as refused:
        AttendanceSettings(_env_file=None, feedback_guard_key=good)  # type: ignore[call-arg]
    message = str(refused.value)
    assert "PASSHUB_ATTENDANCE_QR_SECRET is not set" in message
    assert "FEEDBACK_GUARD_KEY" not in message
    assert good not in message
    with pytest.raises(InsecureSecret, match="PASSHUB_ATTENDANCE_FEEDBACK_GUARD_KEY is not set"):
        AttendanceSettings(_env_file=None, qr_secret=good)  # type: ignore[call-arg]
    with pytest.raises(
        InsecureSecret, match="PASSHUB_ATTENDANCE_FEEDBACK_GUARD_PREVIOUS_KEYS is 5 bytes"
    ):
        AttendanceSettings(  # type: ignore[call-arg]
            _env_file=None,
            qr_secret=good,
            feedback_guard_key=good,
            feedback_guard_previous_keys=["short"],
        )


@pytest.mark.usefixtures("no_secrets")
def test_sessions_feed_links_have_a_key_of_their_own() -> None:
    with pytest.raises(InsecureSecret, match="PASSHUB_SESSIONS_FEED_SECRET is not set"):
        SessionsSettings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("service", "missing"),
    [
        ("recruitment", "PASSHUB_JWT_SECRET"),
        ("attendance", "PASSHUB_ATTENDANCE_QR_SECRET"),
        ("attendance", "PASSHUB_ATTENDANCE_FEEDBACK_GUARD_KEY"),
        ("sessions", "PASSHUB_SESSIONS_FEED_SECRET"),
    ],
)
def test_a_service_refuses_to_start_without_a_key(service: str, missing: str) -> None:
    """What uvicorn does first: import the service's app. It must fail, naming the variable."""
    env = {k: v for k, v in os.environ.items() if k != missing}
    env["PASSHUB_ENV_FILE"] = os.devnull
    env["PASSHUB_LOG_JSON"] = "false"
    started = subprocess.run(
        [sys.executable, "-c", f"import passhub_{service}.main"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode != 0
    assert f"InsecureSecret: {missing} is not set" in started.stderr
