"""Who a login is, and the roles a person holds at a request (pure rules)."""

from __future__ import annotations

import pytest

from passhub_portal.identity import NoNumber, identity_from_claims, roles_at_request
from passhub_portal.settings import PortalSettings


def settings(**overrides: object) -> PortalSettings:
    values: dict[str, object] = {
        "oidc_issuer": "https://login.example.ac.uk",
        "oidc_client_id": "passhub",
        "oidc_client_secret": "s",
        "session_secret": "s" * 32,
        "signing_key": "unused here",
        "public_url": "https://pass.example.ac.uk",
        "recruitment_url": "http://recruitment",
        "sessions_url": "http://sessions",
        "attendance_url": "http://attendance",
        "recognition_url": "http://recognition",
        "staff_role_map": {"pass-coordinators": "coordinator", "academics": "academic"},
        "staff_allow_list": {"E42": "organiser"},
        "kiosks": {"KIOSK-1": "Library 0.01"},
    }
    values.update(overrides)
    return PortalSettings(**values)  # type: ignore[arg-type]


def test_a_student_with_a_number_is_a_student_and_a_leader_when_appointed() -> None:
    who = identity_from_claims(settings(), {"student_number": " S1 ", "name": "Ada"})
    assert (who.number, who.name, who.staff_roles) == ("S1", "Ada", ())
    assert roles_at_request(who, appointed_leader=False).names == ("student",)
    assert roles_at_request(who, appointed_leader=True).names == ("leader", "student")


def test_staff_roles_come_from_the_claim_mapping_or_the_allow_list() -> None:
    s = settings()
    coordinator = identity_from_claims(
        s, {"student_number": "E1", "groups": ["pass-coordinators", "staff"]}
    )
    assert roles_at_request(coordinator, False).names == ("coordinator",)
    spaced = identity_from_claims(s, {"student_number": "E2", "groups": "academics other"})
    assert spaced.staff_roles == ("academic",)
    listed = identity_from_claims(s, {"student_number": "E42"})
    assert roles_at_request(listed, False).names == ("organiser",)


def test_a_kiosk_account_is_only_a_kiosk() -> None:
    kiosk = identity_from_claims(settings(), {"student_number": "KIOSK-1"})
    assert kiosk.kiosk_room == "Library 0.01"
    roles = roles_at_request(kiosk, appointed_leader=True)
    assert roles.kiosk and roles.names == () and not roles.student


def test_a_login_without_the_number_claim_is_refused() -> None:
    with pytest.raises(NoNumber):
        identity_from_claims(settings(), {"name": "Val", "email": "val@example.org"})
    with pytest.raises(NoNumber):
        identity_from_claims(settings(), {"student_number": "  "})


def test_the_number_claim_is_a_setting() -> None:
    who = identity_from_claims(settings(number_claim="employeeid"), {"employeeid": "E7"})
    assert who.number == "E7"


def test_unknown_staff_roles_and_non_http_urls_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown staff roles"):
        settings(staff_role_map={"g": "leader"})
    with pytest.raises(ValueError, match="not an http"):
        settings(public_url="pass.example.ac.uk")


def test_after_login_only_paths_on_this_site_are_followed() -> None:
    from passhub_portal.auth import safe_next

    assert safe_next("/s/abc.def.ghi") == "/s/abc.def.ghi"
    for bad in ("https://evil.example", "//evil.example/x", "/\\evil.example", "", None, "me"):
        assert safe_next(bad) == "/"
