"""Who may see what: coordinators see everyone; a leader or student sees only their own."""

from __future__ import annotations

from passhub_shared.auth import Principal
from passhub_shared.errors import Forbidden

#: roles that may ask about their own recognition
SELF = ("leader", "student")


def ensure_may_see(principal: Principal, student_number: str) -> None:
    if principal.has("coordinator"):
        return
    if principal.has(*SELF) and principal.sub == student_number:
        return
    raise Forbidden("you may only see your own recognition")
