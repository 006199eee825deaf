"""What ``make run`` adds for the portal: a real OIDC provider with a few people to log in as,
and the portal's settings, with its secrets generated once under ``var/``.

* ``var/oidc/oidc.log``: the provider's log (it keeps nothing else; its users are given on
  its command line each start);
* ``var/portal-signing-key.pem``: the Ed25519 key the portal signs people's tokens with;
* ``var/portal-session-secret``, ``var/portal-oidc-client-secret``: random strings.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from rich.console import Console

from passhub_shared.dev.demo.people import KIOSK, KIOSK_ROOM, STAFF_GROUP, dev_logins
from passhub_shared.dev.oidcserver import OidcProvider

OIDC_PORT = 9400

#: who you can log in as on the provider's form (type the name, or press its button): the
#: demo's own people (passhub_shared.dev.demo.people), so `make demo` gives each of them a year
DEV_LOGINS = dev_logins()
DEV_USERS: tuple[dict[str, object], ...] = tuple(login.claims() for login in DEV_LOGINS)


def _kept(path: Path, make: Callable[[], str]) -> str:
    """A secret generated on the first run and kept, readable only by its owner."""
    with contextlib.suppress(OSError):
        existing = path.read_text().strip()
        if existing:
            return existing + ("\n" if existing.startswith("-----") else "")
    value: str = make()
    path.touch(mode=0o600)
    path.write_text(value if value.endswith("\n") else value + "\n")
    return value


def _signing_key() -> str:
    return (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def oidc_provider(var_dir: Path, port: int = OIDC_PORT) -> OidcProvider:
    return OidcProvider(var_dir / "oidc", port=port, users=DEV_USERS)


def portal_env(
    var_dir: Path, issuer: str, portal_url: str, service_urls: dict[str, str]
) -> dict[str, str]:
    """The portal's environment on a laptop."""
    return {
        "PASSHUB_PORTAL_OIDC_ISSUER": issuer,
        "PASSHUB_PORTAL_OIDC_CLIENT_ID": "passhub-portal",
        "PASSHUB_PORTAL_OIDC_CLIENT_SECRET": _kept(
            var_dir / "portal-oidc-client-secret", lambda: secrets.token_urlsafe(32)
        ),
        "PASSHUB_PORTAL_SESSION_SECRET": _kept(
            var_dir / "portal-session-secret", lambda: secrets.token_urlsafe(32)
        ),
        "PASSHUB_PORTAL_SIGNING_KEY": _kept(var_dir / "portal-signing-key.pem", _signing_key),
        "PASSHUB_PORTAL_PUBLIC_URL": portal_url,
        "PASSHUB_PORTAL_RECRUITMENT_URL": service_urls["recruitment"],
        "PASSHUB_PORTAL_SESSIONS_URL": service_urls["sessions"],
        "PASSHUB_PORTAL_ATTENDANCE_URL": service_urls["attendance"],
        "PASSHUB_PORTAL_RECOGNITION_URL": service_urls["recognition"],
        "PASSHUB_PORTAL_STAFF_ROLE_MAP": json.dumps({STAFF_GROUP: "coordinator"}),
        "PASSHUB_PORTAL_KIOSKS": json.dumps({KIOSK.student_number: KIOSK_ROOM}),
    }


def print_portal(console: Console, portal_url: str, issuer: str) -> None:
    console.print(f"\n[bold]Open passhub: {portal_url}[/]")
    console.print(
        f"The login page ({issuer}) lets you type who you are; try (after "
        "[bold]make demo[/], each has a year behind them):"
    )
    for login in DEV_LOGINS:
        console.print(f"  {login.username:<12} {login.what}")
