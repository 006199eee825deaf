"""Settings of the xAPI bridge, from environment variables `PASSHUB_XAPI_*`.

The stream key (which opens the sealed personal fields), the LRS endpoint and credentials, the
institution's account home page and the activity id base have no default: a bridge that would
post to a made-up LRS, or under someone else's identifiers, must not start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class BridgeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PASSHUB_XAPI_", extra="ignore")

    #: NATS server(s) holding passhub's streams (a cluster's nodes comma-separated)
    nats_url: str = "nats://127.0.0.1:4222"
    #: the durable consumers' names (keep them across restarts: the server remembers where
    #: each got to)
    durable: str = "xapi-bridge"

    #: passhub's stream key (`PASSHUB_STREAM_KEY`), given to authorised integrations: it
    #: unwraps the data keys in `PASSHUB_KEYS` that open the sealed personal fields
    stream_key: SecretStr = Field(min_length=1)
    #: earlier stream keys (a JSON list), kept while passhub re-wraps the key bucket's keys
    #: under a new one: a key is tried under `stream_key` first, then under each of these
    stream_previous_keys: list[SecretStr] = Field(default_factory=list)

    #: the LRS's xAPI endpoint, e.g. https://lrs.example.ac.uk/data/xAPI
    lrs_endpoint: AnyHttpUrl
    #: how the bridge authenticates: HTTP Basic (key and secret) or an OAuth 2 client
    #: credentials grant at `lrs_token_url`
    lrs_auth: Literal["basic", "oauth"] = "basic"
    lrs_username: str = ""
    lrs_password: SecretStr = SecretStr("")
    lrs_token_url: AnyHttpUrl | None = None
    lrs_client_id: str = ""
    lrs_client_secret: SecretStr = SecretStr("")
    lrs_scope: str = ""
    #: seconds one LRS request may take
    lrs_timeout_seconds: float = 30.0
    #: longest pause between two tries while the LRS is down
    lrs_max_backoff_seconds: float = 30.0

    #: the institution's account home page: actors are accounts on it named by student number
    account_home_page: AnyHttpUrl
    #: base of the activity ids: a session is `<base>/sessions/<session_id>`
    activity_base: AnyHttpUrl
    #: `context.platform`
    platform: str = "passhub"
    #: the event type's description in the statements (`event_type_description`)
    event_type_description: str = "PASS session"
    #: language tag of names and descriptions
    language: str = "en-GB"

    #: the bridge's own small store: sessions, sign-ins to void, parked statements
    store_path: Path = Path("var/xapi/bridge.sqlite3")
    #: statements per POST
    batch_size: int = Field(default=500, ge=1, le=5000)
    #: POSTs in flight at once during `resend` (a backfill); the live bridge posts one at a
    #: time, in stream order
    resend_concurrency: int = Field(default=2, ge=1, le=16)
    #: seconds a fetch waits for more events before posting what it has
    fetch_wait_seconds: float = 1.0
    #: JetStream redelivers an event unacknowledged this long (the bridge extends it while
    #: it retries)
    ack_wait_seconds: float = 60.0

    @model_validator(mode="after")
    def _credentials(self) -> BridgeSettings:
        if self.lrs_auth == "basic":
            if not self.lrs_username or not self.lrs_password.get_secret_value():
                raise ValueError(
                    "PASSHUB_XAPI_LRS_USERNAME and PASSHUB_XAPI_LRS_PASSWORD are required "
                    "for Basic authentication"
                )
        elif (
            self.lrs_token_url is None
            or not self.lrs_client_id
            or not self.lrs_client_secret.get_secret_value()
        ):
            raise ValueError(
                "PASSHUB_XAPI_LRS_TOKEN_URL, PASSHUB_XAPI_LRS_CLIENT_ID and "
                "PASSHUB_XAPI_LRS_CLIENT_SECRET are required for OAuth"
            )
        return self

    @model_validator(mode="after")
    def _previous_keys(self) -> BridgeSettings:
        if any(not key.get_secret_value() for key in self.stream_previous_keys):
            raise ValueError("PASSHUB_XAPI_STREAM_PREVIOUS_KEYS holds an empty key")
        return self

    @property
    def stream_keys(self) -> list[str]:
        """The stream keys to try, the current one first."""
        return [self.stream_key.get_secret_value()] + [
            key.get_secret_value() for key in self.stream_previous_keys
        ]

    @property
    def statements_url(self) -> str:
        return str(self.lrs_endpoint).rstrip("/") + "/statements"

    @property
    def home_page(self) -> str:
        return str(self.account_home_page).rstrip("/")

    @property
    def base(self) -> str:
        return str(self.activity_base).rstrip("/")
