"""A recruitment campaign: one per academic year, with its person specification."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from passhub_recruitment.domain.events import CampaignAmended, CampaignClosed
from passhub_recruitment.domain.identifiers import check_academic_year
from passhub_recruitment.domain.records import normalise
from passhub_recruitment.domain.spec import validate_criteria
from passhub_shared.contracts.recruitment import CampaignOpened, Criterion
from passhub_shared.messages.events import Event
from passhub_shared.storage.decider import Decider
from passhub_shared.web.errors import Conflict, NotFound, Rejected


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    academic_year: str
    leader_title: str
    organiser_title: str
    participating_schools: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    min_exam_mark: Decimal
    core_training_hours: Decimal
    closes_on: date | None = None
    closed: bool = False

    def criterion(self, code: str) -> Criterion | None:
        return next((c for c in self.criteria if c.code == code), None)

    def participates(self, school: str) -> bool:
        wanted = normalise(school)
        return any(normalise(s) == wanted for s in self.participating_schools)

    def accepts_applications_on(self, today: date) -> bool:
        return not self.closed and (self.closes_on is None or today <= self.closes_on)

    def with_check(self, check: str) -> Criterion | None:
        return next((c for c in self.criteria if c.check == check), None)


@dataclass(frozen=True)
class OpenCampaign:
    academic_year: str
    leader_title: str
    organiser_title: str
    participating_schools: Sequence[str]
    criteria: Sequence[Criterion]
    min_exam_mark: Decimal
    core_training_hours: Decimal
    today: date
    closes_on: date | None = None


@dataclass(frozen=True)
class CloseCampaign:
    today: date


@dataclass(frozen=True)
class AmendCampaign:
    """Change an open campaign's terms; a field left None stays as it is. The schools, the
    person specification, the minimum mark and the training hours change only before the first
    application (applications are assessed against them); the closing date at any time."""

    today: date
    #: applications submitted to the campaign so far
    applications: int
    participating_schools: Sequence[str] | None = None
    criteria: Sequence[Criterion] | None = None
    min_exam_mark: Decimal | None = None
    core_training_hours: Decimal | None = None
    closes_on: date | None = None
    #: set to remove the closing date (applications until the campaign is closed)
    no_closing_date: bool = False


CampaignCommand = OpenCampaign | CloseCampaign | AmendCampaign


def _schools(listed: Sequence[str]) -> list[str]:
    schools = [" ".join(s.split()) for s in listed]
    if not schools or any(not s for s in schools):
        raise Rejected(
            "list at least one participating school (no blank names)", code="bad_schools"
        )
    if len({normalise(s) for s in schools}) != len(schools):
        raise Rejected("a participating school is listed twice", code="bad_schools")
    return schools


def _check_terms(mark: Decimal, hours: Decimal, closes_on: date | None, today: date) -> None:
    if not Decimal(0) < mark <= Decimal(100):
        raise Rejected("the minimum exam mark must be above 0 and at most 100", code="bad_mark")
    if not Decimal(0) < hours <= Decimal(200):
        raise Rejected(
            "core training hours must be above 0 and at most 200", code="bad_training_hours"
        )
    if closes_on is not None and closes_on < today:
        raise Rejected("the closing date is in the past", code="bad_closing_date")


def _amend(command: AmendCampaign, state: Campaign) -> list[Event]:
    schools = (
        _schools(command.participating_schools)
        if command.participating_schools is not None
        else list(state.participating_schools)
    )
    criteria = list(command.criteria) if command.criteria is not None else list(state.criteria)
    mark = command.min_exam_mark if command.min_exam_mark is not None else state.min_exam_mark
    hours = (
        command.core_training_hours
        if command.core_training_hours is not None
        else state.core_training_hours
    )
    closes_on = None if command.no_closing_date else (command.closes_on or state.closes_on)
    validate_criteria(criteria)
    _check_terms(mark, hours, closes_on if closes_on != state.closes_on else None, command.today)
    terms_changed = (
        schools != list(state.participating_schools)
        or criteria != list(state.criteria)
        or mark != state.min_exam_mark
        or hours != state.core_training_hours
    )
    if terms_changed and command.applications:
        raise Conflict(
            f"{command.applications} applications were assessed against this campaign's terms: "
            "its schools, person specification, minimum mark and training hours stay as they "
            "are; only the closing date can change"
        )
    if not terms_changed and closes_on == state.closes_on:
        return []
    return [
        CampaignAmended(
            campaign_id=state.campaign_id,
            participating_schools=schools,
            criteria=criteria,
            min_exam_mark=mark,
            core_training_hours=hours,
            closes_on=closes_on,
        )
    ]


def _open(command: OpenCampaign, state: Campaign | None) -> list[Event]:
    if state is not None:
        raise Conflict(f"the {command.academic_year} campaign is already open")
    check_academic_year(command.academic_year)
    if not command.leader_title.strip() or not command.organiser_title.strip():
        raise Rejected("the leader and organiser titles must not be blank", code="bad_title")
    schools = _schools(command.participating_schools)
    validate_criteria(command.criteria)
    _check_terms(
        command.min_exam_mark, command.core_training_hours, command.closes_on, command.today
    )
    return [
        CampaignOpened(
            campaign_id=command.academic_year,
            academic_year=command.academic_year,
            leader_title=command.leader_title.strip(),
            organiser_title=command.organiser_title.strip(),
            participating_schools=schools,
            criteria=list(command.criteria),
            min_exam_mark=float(command.min_exam_mark),
            core_training_hours=float(command.core_training_hours),
            closes_on=command.closes_on,
        )
    ]


def decide(command: CampaignCommand, state: Campaign | None) -> list[Event]:
    if isinstance(command, OpenCampaign):
        return _open(command, state)
    if state is None:
        raise NotFound("no such campaign")
    if state.closed:
        raise Rejected(f"the {state.academic_year} campaign is already closed", code="closed")
    if isinstance(command, AmendCampaign):
        return _amend(command, state)
    return [CampaignClosed(campaign_id=state.campaign_id, closed_on=command.today)]


def exact(value: float) -> Decimal:
    """A contract float as the decimal it was written as (60.0 -> 60.0, 62.55 -> 62.55)."""
    return Decimal(str(value))


def evolve(state: Campaign | None, event: Event) -> Campaign | None:
    if isinstance(event, CampaignOpened):
        return Campaign(
            campaign_id=event.campaign_id,
            academic_year=event.academic_year,
            leader_title=event.leader_title,
            organiser_title=event.organiser_title or "Student Organiser",
            participating_schools=tuple(event.participating_schools),
            criteria=tuple(event.criteria),
            min_exam_mark=exact(event.min_exam_mark),
            core_training_hours=exact(event.core_training_hours or 0.0),
            closes_on=event.closes_on,
        )
    if isinstance(event, CampaignClosed) and state is not None:
        return replace(state, closed=True)
    if isinstance(event, CampaignAmended) and state is not None:
        return replace(
            state,
            participating_schools=tuple(event.participating_schools),
            criteria=tuple(event.criteria),
            min_exam_mark=event.min_exam_mark,
            core_training_hours=event.core_training_hours,
            closes_on=event.closes_on,
        )
    return state


def _initial() -> Campaign | None:
    return None


campaign_decider: Decider[CampaignCommand, Campaign | None] = Decider(
    initial=_initial, decide=decide, evolve=evolve
)
