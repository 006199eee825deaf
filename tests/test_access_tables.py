"""docs/access.md itself: every table reads, and a call without a token is allowed only where
the design says so (health, metrics, certificate verification, and what those need: the API
descriptions, the verification page's styles and the issuer's keys)."""

from __future__ import annotations

import pytest

from tests.access import CALLERS, read_table

SERVICES = ("recruitment", "sessions", "attendance", "recognition")

#: every route a call without a token may reach, and why
PUBLIC = {
    # health and metrics, the API's descriptions (no data)
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
    "GET /openapi.json",
    "GET /docs",
    "GET /docs/assets/{name}",
    "GET /asyncapi.json",
    # certificate verification, and the issuer's keys and achievements it checks against
    "GET /verify/{code}",
    "GET /verify/{code}.json",
    "GET /verify.css",
    "POST /verify/credential",
    "GET /.well-known/jwks.json",
    "GET /did.json",
    "GET /.well-known/did.json",
    "GET /achievements/{academic_year}/{kind}",
}


@pytest.mark.parametrize("service", SERVICES)
def test_a_call_without_a_token_reaches_only_the_public_routes(service: str) -> None:
    rules = read_table(service)
    public = {key for key, rule in rules.items() if rule.allowed["no token"]}
    assert public <= PUBLIC, f"public routes the design does not allow: {public - PUBLIC}"
    for key in public:
        assert all(rules[key].allowed[c] for c in CALLERS), f"{key}: public, but not for all"


def test_a_malformed_table_is_refused() -> None:
    header = "| route | " + " | ".join(CALLERS) + " | scope |\n|" + "---|" * 9 + "\n"
    every = (
        "## every service\n\n"
        + header
        + "| `GET /h` | yes | yes | yes | yes | yes | yes | yes | |\n"
    )
    good = every + "## x\n\n" + header + "| `GET /a` | yes | no | no | no | no | no | no | |\n"
    rules = read_table("x", good)
    assert rules["GET /a"].allowed["coordinator"] is True and "GET /h" in rules
    with pytest.raises(AssertionError, match="yes or no"):
        read_table("x", good.replace("| yes |", "| maybe |"))
    with pytest.raises(AssertionError, match="twice"):
        read_table("x", good + "| `GET /a` | yes | no | no | no | no | no | no | |\n")
    with pytest.raises(AssertionError, match="no section"):
        read_table("y", good)
