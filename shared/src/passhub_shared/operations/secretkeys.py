"""Secrets and keys in settings: none has a usable default.

A settings field annotated :data:`SecretKey` must be set (in the environment or the env file) to
at least :data:`MIN_SECRET_BYTES` bytes, and must not be one of the example values passhub has
shipped in its source, Compose file or benchmarks (:data:`EXAMPLE_DIGESTS`). A settings class
deriving from :class:`SecretChecked` checks every such field when it is built, so a service
refuses to start with a message that names the environment variable to set.

The check raises :class:`InsecureSecret`, not a pydantic ``ValidationError``: pydantic's message
would repeat every input value of the settings, other keys included, into the log.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Annotated, Self

from pydantic import model_validator
from pydantic_settings import BaseSettings

__all__ = [
    "EXAMPLE_DIGESTS",
    "MIN_SECRET_BYTES",
    "InsecureSecret",
    "SecretChecked",
    "SecretKey",
    "generate_secret",
    "is_example",
    "secret_problem",
]

MIN_SECRET_BYTES = 32

#: SHA-256 digests of values that were written in passhub's code, Compose file, benchmarks or docs
#: at one time: anyone can read them, so none of them is a secret. Kept as digests so that no
#: such value stands in the source to be copied into a deployment (the tests hold the values).
EXAMPLE_DIGESTS = frozenset(
    {
        "84a0c25817e93fdcff7e3be701acc7ed3f9859e86abd772e45c242f2b22b7a4c",
        "2ecfce321458b891bcf37a073582f566d57694a1cfc44cc0102cb1a55eb42675",
        "6e0d2eaed64ce4e68bf2d491364efe0f67887e01ffb7b5c56e5f152d3962d52d",
        "a9ce26e75d94511ab5de8654bbeed1d28054c5a5e7fd88a750fcf3c93629ea19",
        "e3fae52899820533d8f9ab408964d0f83f7e990e086966a2ea28edadc2d96e52",
        "8eaab80a3f4152e4cc9979ba16bf4c0c32f33815fa0dc4f683743843b67a8bc8",
        "bf8061f00bac730cb63cc24bc76f81ec26b449bf6d465075843ce0bf8100f606",
        "97d19226e08d49aa97dec12327f561d7993080882bf5afaf49897f91e4732d6e",
        "e2186dbdb1bb4193608605e84f33208765b5693b55edd4f730a719a100eeea6f",
        "057ba03d6c44104863dc7361fe4578965d1887360f90a0895882e58a6248fc86",
        "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b",
        "a942b37ccfaf5a813b1432caa209a43b9d144e47ad0de1549c289c253e556cd5",
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


def is_example(value: str) -> bool:
    """Whether `value` is one of the values passhub has published (:data:`EXAMPLE_DIGESTS`)."""
    return hashlib.sha256(value.strip().encode()).hexdigest() in EXAMPLE_DIGESTS


def secret_problem(value: str) -> str | None:
    """What is wrong with `value` as a secret, or None."""
    if not value.strip():
        return "is not set"
    if is_example(value):
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
