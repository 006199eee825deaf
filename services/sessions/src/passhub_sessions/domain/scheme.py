"""Decider for a scheme (stream `scheme-<scheme_id>`): launched once per academic year, then
amended by the coordinator (organisers, leaders needed per session)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from passhub_sessions.domain.events import SchemeAmended
from passhub_sessions.domain.terms import check_academic_year
from passhub_shared.contracts.sessions import Mode, SchemeLaunched
from passhub_shared.messages.events import Event
from passhub_shared.storage.decider import Decider
from passhub_shared.web.errors import Conflict, NotFound, Rejected

CODE = re.compile(r"^[A-Z0-9]+(?:[-_][A-Z0-9]+)*$")
MAX_LEADERS_PER_SESSION = 8


def make_scheme_id(academic_year: str, code: str) -> str:
    return f"{academic_year}-{code}"


def code_of(scheme_id: str) -> str:
    """The code in a scheme id made by `make_scheme_id` (`2026-27-CHEM-Y1` -> `CHEM-Y1`)."""
    return scheme_id[len("2026-27-") :]


def stream_id(scheme_id: str) -> str:
    return f"scheme-{scheme_id}"


@dataclass(frozen=True)
class LaunchScheme:
    code: str
    title: str
    school: str
    academic_year: str
    mode: Mode
    coordinator: str
    modules: tuple[str, ...] = ()
    organisers: tuple[str, ...] = ()
    min_leaders_per_session: int = 2


@dataclass(frozen=True)
class AmendScheme:
    coordinator: str | None = None
    organisers: tuple[str, ...] | None = None
    min_leaders_per_session: int | None = None


@dataclass(frozen=True)
class Scheme:
    scheme_id: str = ""
    launched: bool = False
    coordinator: str = ""
    organisers: tuple[str, ...] = ()
    min_leaders_per_session: int = 2


def _check_min(value: int) -> None:
    if not 1 <= value <= MAX_LEADERS_PER_SESSION:
        raise Rejected(
            f"leaders per session must be 1 to {MAX_LEADERS_PER_SESSION}", code="invalid_minimum"
        )


def _distinct(values: Sequence[str]) -> list[str]:
    return sorted({v.strip() for v in values if v.strip()})


def decide(command: LaunchScheme | AmendScheme, state: Scheme) -> Sequence[Event]:
    if isinstance(command, LaunchScheme):
        if state.launched:
            raise Conflict(f"scheme {state.scheme_id} has already been launched")
        try:
            check_academic_year(command.academic_year)
        except ValueError as exc:
            raise Rejected(str(exc), code="invalid_academic_year") from None
        if not CODE.match(command.code) or len(command.code) > 24:
            raise Rejected(
                "a scheme code is up to 24 capital letters and digits, e.g. PHYS or CHEM-Y1",
                code="invalid_code",
            )
        if not command.title.strip() or not command.school.strip():
            raise Rejected("a scheme needs a title and a school", code="missing_field")
        if not command.coordinator.strip():
            raise Rejected("a scheme needs a coordinator", code="missing_field")
        _check_min(command.min_leaders_per_session)
        return [
            SchemeLaunched(
                scheme_id=make_scheme_id(command.academic_year, command.code),
                code=command.code,
                title=command.title.strip(),
                school=command.school.strip(),
                academic_year=command.academic_year,
                modules=_distinct(command.modules),
                mode=command.mode,
                coordinator=command.coordinator.strip(),
                organisers=_distinct(command.organisers),
                min_leaders_per_session=command.min_leaders_per_session,
            )
        ]
    if not state.launched:
        raise NotFound("no such scheme")
    coordinator = (command.coordinator or state.coordinator).strip()
    organisers = (
        _distinct(command.organisers) if command.organisers is not None else state.organisers
    )
    minimum = (
        command.min_leaders_per_session
        if command.min_leaders_per_session is not None
        else state.min_leaders_per_session
    )
    _check_min(minimum)
    if (coordinator, tuple(organisers), minimum) == (
        state.coordinator,
        tuple(state.organisers),
        state.min_leaders_per_session,
    ):
        return []
    return [
        SchemeAmended(
            scheme_id=state.scheme_id,
            coordinator=coordinator,
            organisers=list(organisers),
            min_leaders_per_session=minimum,
        )
    ]


def evolve(state: Scheme, event: Event) -> Scheme:
    if isinstance(event, SchemeLaunched):
        return Scheme(
            event.scheme_id,
            True,
            event.coordinator,
            tuple(event.organisers),
            event.min_leaders_per_session,
        )
    if isinstance(event, SchemeAmended):
        return Scheme(
            state.scheme_id,
            True,
            event.coordinator,
            tuple(event.organisers),
            event.min_leaders_per_session,
        )
    return state


scheme_decider = Decider[LaunchScheme | AmendScheme, Scheme](
    initial=Scheme, decide=decide, evolve=evolve
)
