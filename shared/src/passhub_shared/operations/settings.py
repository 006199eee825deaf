"""Settings from the environment (and from `var/passhub.env`, which `make run` writes).

A service process reads `PASSHUB_DATABASE_URL`. Tools that act on a named service (the
`passhub` command line) read `PASSHUB_<SERVICE>_DATABASE_URL` first, so one shell can reach
all four databases.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from passhub_shared.operations.secretkeys import SECRET, SecretChecked, SecretKey

ENV_FILE = Path(os.environ.get("PASSHUB_ENV_FILE", "var/passhub.env"))


class Settings(SecretChecked):
    model_config = SettingsConfigDict(
        env_prefix="PASSHUB_", env_file=ENV_FILE, extra="ignore", env_file_encoding="utf-8"
    )

    service: str = ""
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:15432/postgres"
    nats_url: str = "nats://127.0.0.1:14222"

    # JetStream
    stream_replicas: int = 1
    duplicate_window_seconds: float = 120.0
    consumer_max_deliver: int = 5
    consumer_ack_wait_seconds: float = 30.0
    consumer_batch_size: int = 1000
    #: after a batch's first message, wait this long for more before applying it
    consumer_linger_seconds: float = 0.05
    relay_batch_size: int = 500
    relay_poll_seconds: float = 5.0

    # Auth: HS256 with a shared secret (dev, tests) or RS256/ES256/EdDSA with a PEM public key
    # (an institution's single sign-on). No default: the secret is required while an HS*
    # algorithm is accepted (`passhub dev up` generates one).
    jwt_secret: SecretKey = ""
    jwt_public_key: str = ""
    jwt_algorithms: list[str] = Field(default_factory=lambda: ["HS256"])
    jwt_issuer: str = "passhub"
    jwt_audience: str = "passhub"
    #: longest token accepted, from its `iat` to its `exp` (tokens without `iat` are refused)
    jwt_max_lifetime_seconds: int = 8 * 3600
    #: the portal's JWKS (`<portal>/.well-known/jwks.json`): tokens naming a key id are verified
    #: with its keys, fetched and cached; empty: none are accepted that way
    jwt_jwks_url: str = ""

    # Personal data (docs/privacy.md). The master key wraps this service's per-person data keys;
    # a rotated-out master stays readable while listed in the previous keys (a JSON list) until
    # `passhub keys rotate` has re-wrapped every data key. The stream key wraps the data keys
    # published in the key bucket, for passhub's other services and authorised integrations.
    privacy_master_key: SecretKey = ""
    privacy_previous_master_keys: Annotated[list[str], SECRET] = []
    stream_key: SecretKey = ""
    stream_previous_keys: Annotated[list[str], SECRET] = []
    #: seconds a consumer keeps a key fetched from the bucket before asking again
    key_cache_seconds: float = 60.0
    #: years personal data is kept after a person's last activity (the end of the registered
    #: student relationship), before `passhub retention run` erases them
    retention_years: int = 6
    #: years per kind of data (a JSON object, e.g. `{"feedback": 2, "records": 1}`; the kinds
    #: are in `passhub_shared.personaldata.retention.KINDS`), kept after the person's last event of
    # that
    #: kind; kinds not listed keep `retention_years`
    retention_years_by_kind: dict[str, int] = Field(default_factory=dict)

    @field_validator("retention_years_by_kind")
    @classmethod
    def _known_kinds(cls, value: dict[str, int]) -> dict[str, int]:
        from passhub_shared.personaldata.retention import check_kinds

        check_kinds(value)
        return value

    log_level: str = "INFO"
    log_json: bool = True
    run_migrations: bool = True

    # Institution vocabulary
    leader_title: str = "PASS Leader"
    organiser_title: str = "Student Organiser"

    def secret_required(self, field: str) -> bool:
        if field == "jwt_secret":
            return any(a.upper().startswith("HS") for a in self.jwt_algorithms)
        return True


def load_settings(service: str | None = None, **overrides: object) -> Settings:
    """Settings for `service`: its own `PASSHUB_<SERVICE>_DATABASE_URL` wins when set."""
    settings = Settings(**overrides)  # type: ignore[arg-type]
    if service:
        settings.service = service
        key = f"PASSHUB_{service.upper()}_DATABASE_URL"
        specific = os.environ.get(key) or _from_env_file(key)
        if specific and "database_url" not in overrides:
            settings.database_url = specific
    return settings


def _from_env_file(key: str) -> str | None:
    if not ENV_FILE.exists():
        return None
    for line in ENV_FILE.read_text().splitlines():
        name, _, value = line.partition("=")
        if name.strip() == key:
            return value.strip()
    return None
