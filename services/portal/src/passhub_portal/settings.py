"""Settings of the portal (environment variables `PASSHUB_PORTAL_*`, or `var/passhub.env`).

The identity provider, the portal's own secrets and the services' addresses have no default:
the portal refuses to start without them (`passhub dev up` generates and writes them).
"""

from __future__ import annotations

from functools import cached_property
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from passhub_shared.operations.secretkeys import InsecureSecret, secret_problem
from passhub_shared.operations.settings import ENV_FILE

STAFF_ROLES = ("coordinator", "organiser", "academic")


class PortalSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="PASSHUB_PORTAL_", env_file=ENV_FILE, extra="ignore"
    )

    # -- the institution's OpenID Connect provider ------------------------------------------
    #: the provider's issuer URL (discovery at `<issuer>/.well-known/openid-configuration`)
    oidc_issuer: str
    oidc_client_id: str
    oidc_client_secret: SecretStr
    oidc_scopes: str = "openid profile email"
    #: the claim carrying the student or staff number (e.g. `employeeid` on Entra ID)
    number_claim: str = "student_number"
    #: the claim carrying the person's name
    name_claim: str = "name"
    #: the claim whose values map to staff roles (groups, affiliation, ...)
    role_claim: str = "groups"
    #: claim value -> staff role (coordinator, organiser, academic), JSON in the environment
    staff_role_map: dict[str, str] = Field(default_factory=dict)
    #: student/staff number -> staff role, for people the claims do not describe
    staff_allow_list: dict[str, str] = Field(default_factory=dict)
    #: number of a kiosk account -> the room whose sessions its device signs in to
    kiosks: dict[str, str] = Field(default_factory=dict)

    # -- the portal's own secrets -------------------------------------------------------------
    #: key of the signed session cookie (any long random string)
    session_secret: SecretStr
    #: PEM private key (Ed25519 or P-256) the portal signs people's bearer tokens with
    signing_key: SecretStr
    #: lifetime of the bearer tokens the portal issues
    token_ttl_seconds: int = Field(default=300, ge=30, le=3600)
    #: a login lasts this long; then the person logs in again
    login_ttl_seconds: int = Field(default=12 * 3600, ge=60)

    # -- where things are ---------------------------------------------------------------------
    #: the address people reach the portal at (QR codes and the login callback point here);
    #: its scheme decides whether cookies are marked Secure
    public_url: str
    recruitment_url: str
    sessions_url: str
    attendance_url: str
    recognition_url: str
    #: timeout of one call to a service
    service_timeout_seconds: float = 10.0

    # -- pages --------------------------------------------------------------------------------
    timezone: str = "Europe/London"
    #: as in "log in with your university account" (e.g. "Northumbria")
    institution: str = "university"
    leader_title: str = "PASS Leader"
    #: the leader's QR screen asks for a new code and the headcount this often
    poll_seconds: int = Field(default=5, ge=1, le=60)
    #: and fetches a new code when the one shown expires within this many seconds
    code_refresh_margin_seconds: int = Field(default=25, ge=5)

    @field_validator("staff_role_map", "staff_allow_list")
    @classmethod
    def _staff_roles_only(cls, value: dict[str, str]) -> dict[str, str]:
        wrong = sorted({role for role in value.values() if role not in STAFF_ROLES})
        if wrong:
            raise ValueError(f"unknown staff roles {wrong}; choose from {STAFF_ROLES}")
        return value

    @field_validator(
        "public_url",
        "oidc_issuer",
        "recruitment_url",
        "sessions_url",
        "attendance_url",
        "recognition_url",
    )
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _usable_session_secret(self) -> PortalSettings:
        """The cookie key is held to the kit's rule for secrets (long, not a published example);
        the refusal names the variable and never repeats the value."""
        problem = secret_problem(self.session_secret.get_secret_value())
        if problem is not None:
            raise InsecureSecret(f"PASSHUB_PORTAL_SESSION_SECRET {problem}")
        return self

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def scopes(self) -> str:
        return self.oidc_scopes
