"""Given/when/then: launching and amending a scheme."""

from __future__ import annotations

import pytest

from passhub_sessions.domain.events import SchemeAmended
from passhub_sessions.domain.scheme import AmendScheme, LaunchScheme, scheme_decider
from passhub_shared.contracts.sessions import SchemeLaunched
from passhub_shared.web.errors import Conflict, NotFound, Rejected

LAUNCH = LaunchScheme(
    code="PHYS",
    title="Physics PASS",
    school="Physics and Astronomy",
    academic_year="2026-27",
    mode="opt_out",
    coordinator="staff-1",
    modules=("PHY1001", "PHY1002", "PHY1001"),
    organisers=("s100", " "),
)


def launched() -> list[SchemeLaunched]:
    return [e for e in scheme_decider.given_when([], LAUNCH) if isinstance(e, SchemeLaunched)]


def test_launching_a_scheme_names_it_by_year_and_code() -> None:
    [event] = launched()
    assert event.scheme_id == "2026-27-PHYS"
    assert event.modules == ["PHY1001", "PHY1002"]
    assert event.organisers == ["s100"]
    assert event.mode == "opt_out" and event.min_leaders_per_session == 2


def test_a_scheme_is_launched_once() -> None:
    with pytest.raises(Conflict):
        scheme_decider.given_when(launched(), LAUNCH)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"code": "phys"}, "invalid_code"),
        ({"code": "PH YS"}, "invalid_code"),
        ({"academic_year": "2026-2027"}, "invalid_academic_year"),
        ({"academic_year": "2026-28"}, "invalid_academic_year"),
        ({"title": "  "}, "missing_field"),
        ({"min_leaders_per_session": 0}, "invalid_minimum"),
    ],
)
def test_a_bad_scheme_is_rejected(change: dict[str, object], code: str) -> None:
    command = LaunchScheme(**{**LAUNCH.__dict__, **change})
    with pytest.raises(Rejected) as raised:
        scheme_decider.given_when([], command)
    assert raised.value.code == code


def test_amending_organisers_and_minimum() -> None:
    [event] = scheme_decider.given_when(
        launched(), AmendScheme(organisers=("s200", "s100"), min_leaders_per_session=3)
    )
    assert isinstance(event, SchemeAmended)
    assert event.organisers == ["s100", "s200"] and event.min_leaders_per_session == 3
    assert event.coordinator == "staff-1"


def test_an_amendment_that_changes_nothing_records_nothing() -> None:
    assert scheme_decider.given_when(launched(), AmendScheme(organisers=("s100",))) == []


def test_amending_an_unknown_scheme() -> None:
    with pytest.raises(NotFound):
        scheme_decider.given_when([], AmendScheme(min_leaders_per_session=3))


def test_an_amendment_keeps_the_minimum_in_range() -> None:
    with pytest.raises(Rejected) as raised:
        scheme_decider.given_when(launched(), AmendScheme(min_leaders_per_session=0))
    assert raised.value.code == "invalid_minimum"
