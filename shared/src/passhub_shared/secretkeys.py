"""Secrets and keys in settings: none has a usable default.

A settings field annotated :data:`SecretKey` must be set (in the environment or the env file) to
at least :data:`MIN_SECRET_BYTES` bytes, and must not be one of the example values passhub has
shipped in its source, Compose file or benchmarks (:data:`EXAMPLE_VALUES`). A settings class
deriving from :class:`SecretChecked` checks every such field when it is built, so a service
refuses to start with a message that names the environment variable to set.

The check raises :class:`InsecureSecret`, not a pydantic ``ValidationError``: pydantic's message
would repeat every input value of the settings, other keys included, into the log.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Self

from pydantic import model_validator
from pydantic_settings import BaseSettings

__all__ = [
    "EXAMPLE_VALUES",
    "MIN_SECRET_BYTES",
    "InsecureSecret",
    "SecretChecked",
    "SecretKey",
    "generate_secret",
    "secret_problem",
]

MIN_SECRET_BYTES = 32

#: Values that were written in passhub's code, Compose file, benchmarks or docs at one time:
#: anyone can read them, so none of them is a secret.
EXAMPLE_VALUES = frozenset(
    {
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
    }
)


class _Secret:
    """Marks a settings field as a secret (see :data:`SecretKey`)."""

    def __repr__(self) -> str:
        return "SECRET"


SECRET = _Secret()

#: A settings field holding a secret or key: checked by :class:`SecretChecked`.
SecretKey = Annotated[str, SECRET]


class InsecureSecret(Exception):
    """A required secret is missing, too short, or a published example value."""


def generate_secret() -> str:
    """A new random secret: 43 URL-safe characters (32 random bytes)."""
    return secrets.token_urlsafe(32)


def secret_problem(value: str) -> str | None:
    """What is wrong with `value` as a secret, or None."""
    if not value.strip():
        return "is not set"
    if value.strip() in EXAMPLE_VALUES:
        return "is an example value published with passhub, so it is no secret"
    size = len(value.encode())
    if size < MIN_SECRET_BYTES:
        return f"is {size} bytes long; it must be at least {MIN_SECRET_BYTES}"
    return None


class SecretChecked(BaseSettings):
    """Settings whose :data:`SecretKey` fields must all hold usable secrets once loaded.

    A subclass may override :meth:`secret_required` to waive a secret another setting makes
    unnecessary (the kit's HS256 secret when tokens are checked with a public key only).
    """

    def secret_required(self, field: str) -> bool:
        return True

    def env_name(self, field: str) -> str:
        """The environment variable of a field, e.g. ``PASSHUB_ATTENDANCE_QR_SECRET``."""
        return f"{self.model_config.get('env_prefix', '')}{field}".upper()

    @model_validator(mode="after")
    def _check_secrets(self) -> Self:
        problems = []
        for name, info in type(self).model_fields.items():
            if SECRET not in info.metadata or not self.secret_required(name):
                continue
            values = getattr(self, name)
            for value in values if isinstance(values, list) else [values]:
                problem = secret_problem(value)
                if problem is not None:
                    problems.append(f"{self.env_name(name)} {problem}")
        if problems:
            raise InsecureSecret(
                "; ".join(problems)
                + ". Set each to a random value of at least "
                + f"{MIN_SECRET_BYTES} bytes, e.g. `openssl rand -base64 48`; "
                + "`passhub dev up` makes them for a local run."
            )
        return self
