"""An application, from submission to appointment (or rejection, withdrawal, standing down).

One stream per student per campaign. The campaign's terms, the student record and the core
training completed are read by the caller and handed in with each command, so every decision
here is a pure function of its inputs, and the inputs it used are written into the events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from passhub_recruitment.domain.campaign import Campaign
from passhub_recruitment.domain.eligibility import SYSTEM, automatic_outcomes, decimal_text
from passhub_recruitment.domain.events import (
    ApplicationDetailsDeclared,
    RecordOverridden,
    StandDownReasonGiven,
)
from passhub_recruitment.domain.identifiers import check_scheme_id
from passhub_recruitment.domain.records import Declared, StudentRecord
from passhub_shared.contracts.recruitment import (
    ApplicationAssessed,
    ApplicationRejected,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CriterionOutcome,
    LeaderAppointed,
    LeaderStoodDown,
    RecordMismatch,
    RecordOverride,
    Role,
)
from passhub_shared.messages.events import Event
from passhub_shared.storage.decider import Decider
from passhub_shared.web.errors import Conflict, NotFound, Rejected

Status = Literal["new", "submitted", "withdrawn", "rejected", "appointed", "stood_down"]
#: statuses in which assessors may still record outcomes and the records may still change them
OPEN: frozenset[str] = frozenset({"submitted"})
MAX_YEAR_OF_STUDY = 7


@dataclass(frozen=True)
class Held:
    """A scheme the applicant is appointed to."""

    role: Role
    appointed_on: date


@dataclass(frozen=True)
class Application:
    status: Status = "new"
    application_id: str = ""
    campaign_id: str = ""
    academic_year: str = ""
    student_number: str = ""
    name: str = ""
    email: str = ""
    role_sought: Role = "leader"
    declared: Declared | None = None
    outcomes: Mapping[str, CriterionOutcome] = field(default_factory=dict)
    mismatches: tuple[RecordMismatch, ...] = ()
    schemes: Mapping[str, Held] = field(default_factory=dict)

    def unresolved_mismatches(self) -> list[RecordMismatch]:
        """Mismatches whose criterion no assessor has ruled on yet."""
        return [
            m
            for m in self.mismatches
            if (o := self.outcomes.get(m.criterion)) is None or o.assessed_by == SYSTEM
        ]


# -- commands -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitApplication:
    application_id: str
    campaign: Campaign
    student_number: str
    name: str
    email: str
    school: str
    today: date
    record: StudentRecord | None = None
    programme: str = ""
    level: str = ""
    year_of_study: int | None = None
    exam_marks: Mapping[int, Decimal] = field(default_factory=dict)
    role_sought: Role = "leader"
    preferred_schemes: Sequence[str] = ()
    statement: str = ""


@dataclass(frozen=True)
class Reassess:
    """Check the machine-checkable criteria again (after a student-records import)."""

    campaign: Campaign
    record: StudentRecord | None


@dataclass(frozen=True)
class AssessorOutcome:
    code: str
    met: bool
    note: str
    #: required, and only allowed, to overrule what the student record decides
    override_reason: str = ""


@dataclass(frozen=True)
class RecordOutcomes:
    campaign: Campaign
    assessor: str
    outcomes: Sequence[AssessorOutcome]
    #: when (recorded with an override)
    at: datetime


@dataclass(frozen=True)
class RejectApplication:
    reasons: Sequence[str]


@dataclass(frozen=True)
class WithdrawApplication:
    pass


@dataclass(frozen=True)
class Appoint:
    campaign: Campaign
    role: Role
    schemes: Sequence[str]
    appointed_on: date
    #: core training hours this student completed in the campaign's academic year
    core_training_hours: Decimal
    #: which of `schemes` the sessions service has launched (as far as its events have
    #: reached recruitment)
    launched: frozenset[str]


@dataclass(frozen=True)
class StandDown:
    effective_from: date
    reason: str
    #: empty: every scheme held
    schemes: Sequence[str] = ()


ApplicationCommand = (
    SubmitApplication
    | Reassess
    | RecordOutcomes
    | RejectApplication
    | WithdrawApplication
    | Appoint
    | StandDown
)


# -- rules ----------------------------------------------------------------------------------


def assessed(
    state: Application | SubmitApplication,
    campaign: Campaign,
    outcomes: Mapping[str, CriterionOutcome],
    found: Sequence[RecordMismatch],
) -> ApplicationAssessed:
    """The assessment event: every criterion's outcome, counted against the specification."""
    ordered = [outcomes[c.code] for c in campaign.criteria]
    essentials = [
        o for c, o in zip(campaign.criteria, ordered, strict=True) if c.importance == "essential"
    ]
    desirables = [
        o for c, o in zip(campaign.criteria, ordered, strict=True) if c.importance == "desirable"
    ]
    return ApplicationAssessed(
        application_id=state.application_id,
        student_number=state.student_number,
        outcomes=ordered,
        essentials_met=sum(1 for o in essentials if o.met is True),
        essentials_total=len(essentials),
        desirables_met=sum(1 for o in desirables if o.met is True),
        appointable=all(o.met is True and o.verified for o in essentials),
        mismatches=list(found),
    )


def essentials_missing(state: Application, campaign: Campaign) -> list[str]:
    """Why the applicant is not appointable: each essential not met on verified evidence."""
    missing = []
    for criterion in campaign.criteria:
        if criterion.importance != "essential":
            continue
        outcome = state.outcomes.get(criterion.code)
        if outcome is None or outcome.met is None:
            missing.append(f"{criterion.code} ({criterion.description}): not assessed yet")
        elif outcome.met is False:
            missing.append(f"{criterion.code} ({criterion.description}): not met")
        elif not outcome.verified:
            missing.append(
                f"{criterion.code} ({criterion.description}): met only on self-declared data"
            )
    return missing


def _check_declared(command: SubmitApplication) -> None:
    if not command.name.strip():
        raise Rejected("the application needs the applicant's name", code="bad_application")
    if not command.school.strip():
        raise Rejected("the application needs the applicant's school", code="bad_application")
    if command.year_of_study is not None and not 1 <= command.year_of_study <= MAX_YEAR_OF_STUDY:
        raise Rejected(f"year of study must be 1 to {MAX_YEAR_OF_STUDY}", code="bad_application")
    for year, mark in command.exam_marks.items():
        if not 1 <= year <= MAX_YEAR_OF_STUDY:
            raise Rejected(f"exam marks are for years 1 to {MAX_YEAR_OF_STUDY}", code="bad_mark")
        if not mark.is_finite() or not Decimal(0) <= mark <= Decimal(100):
            raise Rejected(f"the year {year} mark must be between 0 and 100", code="bad_mark")
    for scheme in command.preferred_schemes:
        check_scheme_id(scheme, command.campaign.academic_year)


def _submit(command: SubmitApplication, state: Application) -> list[Event]:
    campaign = command.campaign
    if state.status not in ("new", "withdrawn"):
        raise Conflict(
            f"{command.student_number} has already applied in the {campaign.academic_year} "
            f"campaign (application {command.application_id}, {state.status})"
        )
    if not campaign.accepts_applications_on(command.today):
        raise Rejected(
            f"the {campaign.academic_year} campaign is not taking applications", code="closed"
        )
    _check_declared(command)
    declared = Declared(
        name=command.name,
        email=command.email,
        school=command.school,
        programme=command.programme,
        level=command.level,
        year_of_study=command.year_of_study,
        marks=dict(command.exam_marks),
    )
    outcomes, found = automatic_outcomes(campaign, declared, command.record)
    return [
        ApplicationSubmitted(
            application_id=command.application_id,
            campaign_id=campaign.campaign_id,
            academic_year=campaign.academic_year,
            student_number=command.student_number,
            name=command.name.strip(),
            email=command.email.strip(),
            school=command.school.strip(),
            role_sought=command.role_sought,
            preferred_schemes=list(command.preferred_schemes),
        ),
        ApplicationDetailsDeclared(
            application_id=command.application_id,
            programme=command.programme.strip(),
            level=command.level.strip(),
            year_of_study=command.year_of_study,
            exam_marks={str(y): m for y, m in sorted(command.exam_marks.items())},
            statement=command.statement.strip(),
            student_number=command.student_number,
        ),
        assessed(command, campaign, outcomes, found),
    ]


def _require(state: Application) -> None:
    if state.status == "new":
        raise NotFound("no such application")


def _reassess(command: Reassess, state: Application) -> list[Event]:
    _require(state)
    if state.status not in OPEN or state.declared is None:
        return []  # decided applications keep the evidence they were decided on
    automatic, found = automatic_outcomes(command.campaign, state.declared, command.record)
    outcomes = {
        code: _kept(state.outcomes[code], outcome)
        if code in state.outcomes and state.outcomes[code].assessed_by != SYSTEM
        else outcome
        for code, outcome in automatic.items()
    }
    if outcomes == dict(state.outcomes) and tuple(found) == state.mismatches:
        return []
    return [assessed(state, command.campaign, outcomes, found)]


def decided_by_record(state: Application, code: str) -> bool:
    """The student record decides the criterion: it met or failed it on the record, the record
    disagrees with the application on it (pending until overridden), or it was overridden."""
    current = state.outcomes.get(code)
    if current is None:
        return False
    if current.override is not None:
        return True
    if current.assessed_by == SYSTEM and current.verified and current.met is not None:
        return True
    return any(m.criterion == code for m in state.mismatches)


def _record_view(state: Application, code: str) -> str:
    """What the record says about `code`, for a message."""
    current = state.outcomes[code]
    if current.override is not None:
        return current.override.record_evidence
    return current.evidence


def _override(
    state: Application, given: AssessorOutcome, command: RecordOutcomes
) -> tuple[RecordOverride, RecordOverridden]:
    current = state.outcomes[given.code]
    reason = given.override_reason.strip()
    if current.override is not None:  # overridden again: the record's outcome stays the same
        record_met = current.override.record_met
        record_evidence = current.override.record_evidence
        record_mark = current.override.record_mark_used
    else:
        record_met, record_evidence, record_mark = current.met, current.evidence, current.mark_used
    override = RecordOverride(
        reason=reason,
        by=command.assessor,
        at=command.at,
        record_met=record_met,
        record_evidence=record_evidence,
        record_mark_used=record_mark,
    )
    audit = RecordOverridden(
        application_id=state.application_id,
        student_number=state.student_number,
        criterion=given.code,
        met=given.met,
        note=given.note.strip(),
        reason=reason,
        overridden_by=command.assessor,
        overridden_at=command.at,
        record_met=record_met,
        record_evidence=record_evidence,
        record_mark_used=record_mark,
        mismatches=[m for m in state.mismatches if m.criterion == given.code],
    )
    return override, audit


def _kept(assessor: CriterionOutcome, record: CriterionOutcome) -> CriterionOutcome:
    """An assessor's outcome stays when the records are checked again; an override shows the
    record's outcome as it is now beside it."""
    if assessor.override is None:
        return assessor
    return assessor.model_copy(
        update={
            "override": assessor.override.model_copy(
                update={
                    "record_met": record.met,
                    "record_evidence": record.evidence,
                    "record_mark_used": record.mark_used,
                }
            )
        }
    )


def _record_outcomes(command: RecordOutcomes, state: Application) -> list[Event]:
    _require(state)
    if state.status not in OPEN:
        raise Rejected(
            f"application {state.application_id} is {state.status}: no more assessment",
            code="not_open",
        )
    if not command.outcomes:
        raise Rejected("record at least one criterion's outcome", code="bad_assessment")
    codes = [o.code for o in command.outcomes]
    if len(set(codes)) != len(codes):
        raise Rejected("a criterion appears twice in one assessment", code="bad_assessment")
    outcomes = dict(state.outcomes)
    audits: list[Event] = []
    for given in command.outcomes:
        criterion = command.campaign.criterion(given.code)
        if criterion is None:
            raise Rejected(f"no criterion {given.code!r} in this campaign", code="bad_assessment")
        if not given.note.strip():
            verdict = "met" if given.met else "not met"
            raise Rejected(
                f"say why {given.code!r} is {verdict} (a note is required)",
                code="bad_assessment",
            )
        override: RecordOverride | None = None
        if criterion.check is not None and decided_by_record(state, given.code):
            if not given.override_reason.strip():
                raise Rejected(
                    f"{given.code!r} is decided by the student record "
                    f"({_record_view(state, given.code)}); import corrected records, or overrule "
                    "the record explicitly by giving an override_reason (it is recorded with "
                    "your name, and the record's value stays shown beside your outcome)",
                    code="decided_by_record",
                )
            override, audit = _override(state, given, command)
            audits.append(audit)
        elif given.override_reason.strip():
            raise Rejected(
                f"{given.code!r} is not decided by the student record: there is nothing to "
                "override (record the outcome without an override_reason)",
                code="nothing_to_override",
            )
        outcomes[given.code] = CriterionOutcome(
            code=given.code,
            met=given.met,
            verified=True,
            evidence=given.note.strip(),
            assessed_by=command.assessor,
            override=override,
        )
    return [*audits, assessed(state, command.campaign, outcomes, state.mismatches)]


def _reject(command: RejectApplication, state: Application) -> list[Event]:
    _require(state)
    if state.status in ("appointed", "stood_down"):
        raise Rejected(
            "an appointed applicant is stood down, not rejected", code="already_appointed"
        )
    if state.status not in OPEN:
        raise Rejected(f"application {state.application_id} is {state.status}", code="not_open")
    reasons = [r.strip() for r in command.reasons if r.strip()]
    if not reasons or len(reasons) != len(command.reasons):
        raise Rejected(
            "give the applicant at least one reason, and no blank ones", code="bad_reasons"
        )
    return [
        ApplicationRejected(
            application_id=state.application_id,
            student_number=state.student_number,
            reasons=reasons,
        )
    ]


def _withdraw(command: WithdrawApplication, state: Application) -> list[Event]:
    _require(state)
    if state.status in ("appointed", "stood_down"):
        raise Rejected(
            "this applicant has been appointed: a coordinator stands them down instead",
            code="already_appointed",
        )
    if state.status != "submitted":
        raise Rejected(f"application {state.application_id} is {state.status}", code="not_open")
    return [
        ApplicationWithdrawn(
            application_id=state.application_id, student_number=state.student_number
        )
    ]


def _appoint(command: Appoint, state: Application) -> list[Event]:
    _require(state)
    campaign = command.campaign
    if state.status not in ("submitted", "appointed", "stood_down"):
        raise Rejected(
            f"application {state.application_id} is {state.status}: it cannot lead to an "
            "appointment",
            code="not_open",
        )
    if not command.schemes:
        raise Rejected("appoint to at least one scheme", code="bad_scheme")
    if len(set(command.schemes)) != len(command.schemes):
        raise Rejected("a scheme is listed twice", code="bad_scheme")
    for scheme in command.schemes:
        check_scheme_id(scheme, campaign.academic_year)
        if scheme in state.schemes:
            raise Conflict(f"{state.student_number} is already appointed to {scheme}")
    unknown = [s for s in command.schemes if s not in command.launched]
    if unknown:
        raise Rejected(
            f"no scheme {', '.join(unknown)} has been launched: launch it in the sessions service "
            "first. A scheme launched in the last few seconds may not have reached recruitment "
            "yet; if so, try again shortly.",
            code="unknown_scheme",
        )
    missing = essentials_missing(state, campaign)
    if missing:
        raise Rejected(
            "not appointable: essential criteria not met: " + "; ".join(missing),
            code="not_appointable",
        )
    required = campaign.core_training_hours
    if command.core_training_hours < required:
        raise Rejected(
            f"core training not completed: {decimal_text(command.core_training_hours)} of "
            f"{decimal_text(required)} hours recorded for {campaign.academic_year}",
            code="training_incomplete",
        )
    return [
        LeaderAppointed(
            student_number=state.student_number,
            name=state.name,
            email=state.email,
            academic_year=campaign.academic_year,
            role=command.role,
            schemes=list(command.schemes),
            appointed_on=command.appointed_on,
            application_id=state.application_id,
        )
    ]


def _stand_down(command: StandDown, state: Application) -> list[Event]:
    _require(state)
    if not state.schemes:
        raise Rejected(
            f"{state.student_number} holds no appointment to stand down from",
            code="not_appointed",
        )
    schemes = list(command.schemes) or sorted(state.schemes)
    if len(set(schemes)) != len(schemes):
        raise Rejected("a scheme is listed twice", code="bad_scheme")
    for scheme in schemes:
        held = state.schemes.get(scheme)
        if held is None:
            raise Rejected(
                f"{state.student_number} is not appointed to {scheme}", code="bad_scheme"
            )
        if command.effective_from < held.appointed_on:
            raise Rejected(
                f"standing down from {scheme} cannot take effect before the appointment "
                f"({held.appointed_on.isoformat()})",
                code="bad_date",
            )
    if not command.reason.strip():
        raise Rejected("give a reason for standing down", code="bad_reason")
    return [
        LeaderStoodDown(
            student_number=state.student_number,
            academic_year=state.academic_year,
            schemes=schemes,
            effective_from=command.effective_from,
        ),
        StandDownReasonGiven(
            student_number=state.student_number, schemes=schemes, reason=command.reason.strip()
        ),
    ]


def decide(command: ApplicationCommand, state: Application) -> list[Event]:
    match command:
        case SubmitApplication():
            return _submit(command, state)
        case Reassess():
            return _reassess(command, state)
        case RecordOutcomes():
            return _record_outcomes(command, state)
        case RejectApplication():
            return _reject(command, state)
        case WithdrawApplication():
            return _withdraw(command, state)
        case Appoint():
            return _appoint(command, state)
        case StandDown():
            return _stand_down(command, state)
    raise TypeError(f"unknown command {command!r}")


def evolve(state: Application, event: Event) -> Application:
    match event:
        case ApplicationSubmitted():
            return Application(
                status="submitted",
                application_id=event.application_id,
                campaign_id=event.campaign_id,
                academic_year=event.academic_year,
                student_number=event.student_number,
                name=event.name,
                email=event.email,
                role_sought=event.role_sought,
                declared=Declared(name=event.name, email=event.email, school=event.school),
            )
        case ApplicationDetailsDeclared():
            assert state.declared is not None
            return replace(
                state,
                declared=replace(
                    state.declared,
                    programme=event.programme,
                    level=event.level,
                    year_of_study=event.year_of_study,
                    marks={int(y): m for y, m in event.exam_marks.items()},
                ),
            )
        case ApplicationAssessed():
            return replace(
                state,
                outcomes={o.code: o for o in event.outcomes},
                mismatches=tuple(event.mismatches),
            )
        case ApplicationRejected():
            return replace(state, status="rejected")
        case ApplicationWithdrawn():
            return replace(state, status="withdrawn")
        case LeaderAppointed():
            held = dict(state.schemes)
            for scheme in event.schemes:
                held[scheme] = Held(role=event.role, appointed_on=event.appointed_on)
            return replace(state, status="appointed", schemes=held)
        case LeaderStoodDown():
            held = {s: h for s, h in state.schemes.items() if s not in event.schemes}
            return replace(state, status="appointed" if held else "stood_down", schemes=held)
    return state


application_decider: Decider[ApplicationCommand, Application] = Decider(
    initial=Application, decide=decide, evolve=evolve
)
