"""What the routes share: role sets, settings, and the 'own data only' rule."""

from __future__ import annotations

from passhub_recruitment.settings import RecruitmentSettings, recruitment_settings
from passhub_shared.auth import Principal
from passhub_shared.errors import NotFound

STAFF = ("coordinator", "organiser")
APPLICANTS = ("student", "leader")
ANYONE = ("coordinator", "organiser", "leader", "student", "academic", "integration")
LEADER_READERS = ("coordinator", "organiser", "leader", "academic", "integration")


def settings() -> RecruitmentSettings:
    return recruitment_settings()


def own_only(principal: Principal) -> str | None:
    """None for staff (they see everyone's); otherwise the student number they are limited to."""
    return None if principal.has(*STAFF) else principal.sub


def ensure_own(principal: Principal, student_number: str, what: str) -> None:
    """Students see their own data only; another's is reported as not found (so a student
    cannot even learn whether it exists)."""
    limit = own_only(principal)
    if limit is not None and limit != student_number:
        raise NotFound(f"no {what}")
