"""Who a login is, from the identity provider's claims; and the roles a person holds at a
request. Pure: no I/O (the leader appointments come in as an argument)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from passhub_portal.settings import PortalSettings


class NoNumber(Exception):
    """The login carries no student or staff number."""


@dataclass(frozen=True)
class Identity:
    """What the portal keeps of a login (in its signed session cookie)."""

    number: str
    name: str
    staff_roles: tuple[str, ...] = ()
    kiosk_room: str | None = None

    def as_session(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "name": self.name,
            "staff_roles": list(self.staff_roles),
            "kiosk_room": self.kiosk_room,
        }

    @classmethod
    def from_session(cls, data: Mapping[str, Any]) -> Identity:
        return cls(
            number=str(data["number"]),
            name=str(data.get("name") or data["number"]),
            staff_roles=tuple(data.get("staff_roles") or ()),
            kiosk_room=data.get("kiosk_room"),
        )


def _values(claim: Any) -> list[str]:
    if claim is None:
        return []
    if isinstance(claim, str):
        return claim.replace(",", " ").split()
    if isinstance(claim, Iterable):
        return [str(v) for v in claim]
    return [str(claim)]


def identity_from_claims(settings: PortalSettings, claims: Mapping[str, Any]) -> Identity:
    number = str(claims.get(settings.number_claim) or "").strip()
    if not number:
        raise NoNumber(settings.number_claim)
    roles: set[str] = set()
    for value in _values(claims.get(settings.role_claim)):
        if value in settings.staff_role_map:
            roles.add(settings.staff_role_map[value])
    if number in settings.staff_allow_list:
        roles.add(settings.staff_allow_list[number])
    name = str(claims.get(settings.name_claim) or claims.get("given_name") or number)
    return Identity(
        number=number,
        name=name,
        staff_roles=tuple(sorted(roles)),
        kiosk_room=settings.kiosks.get(number),
    )


@dataclass(frozen=True)
class Roles:
    """The passhub roles of a person at one request."""

    staff: tuple[str, ...] = ()
    leader: bool = False
    student: bool = False
    kiosk: bool = False
    names: tuple[str, ...] = field(default=())


def roles_at_request(identity: Identity, appointed_leader: bool) -> Roles:
    """Staff roles come from the login; `leader` from recruitment's appointments, asked at every
    request; everyone else with a number is a `student` (a leader is a student too). A kiosk
    account is only a kiosk."""
    if identity.kiosk_room is not None:
        return Roles(kiosk=True)
    staff = identity.staff_roles
    student = not staff or appointed_leader
    names = [*staff]
    if appointed_leader:
        names.append("leader")
    if student:
        names.append("student")
    return Roles(staff=staff, leader=appointed_leader, student=student, names=tuple(names))
