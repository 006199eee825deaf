"""Builders for the given/when/then tests: a campaign, student records, past events."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from passhub_recruitment.domain.application import (
    Appoint,
    AssessorOutcome,
    RecordOutcomes,
    SubmitApplication,
    application_decider,
)
from passhub_recruitment.domain.campaign import Campaign, OpenCampaign, campaign_decider
from passhub_recruitment.domain.records import StudentRecord
from passhub_recruitment.domain.spec import DEFAULT_CRITERIA
from passhub_shared.messages.events import Event

YEAR = "2026-27"
TODAY = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
APPLICATION_ID = f"{YEAR}-S1000001"
PERSONAL = [c.code for c in DEFAULT_CRITERIA if c.check is None and c.importance == "essential"]
DESIRABLE = [c.code for c in DEFAULT_CRITERIA if c.importance == "desirable"]


def campaign(**changes: Any) -> Campaign:
    opened = campaign_decider.decide(
        OpenCampaign(
            academic_year=YEAR,
            leader_title="PASS Leader",
            organiser_title="Student Organiser",
            participating_schools=["Physics", "Mathematics"],
            criteria=list(DEFAULT_CRITERIA),
            min_exam_mark=Decimal("60"),
            core_training_hours=Decimal("6"),
            today=TODAY,
        ),
        None,
    )
    state = campaign_decider.fold(opened)
    assert state is not None
    return replace(state, **changes) if changes else state


def record(**changes: Any) -> StudentRecord:
    values: dict[str, Any] = {
        "student_number": "S1000001",
        "name": "Ada Lovelace",
        "email": "ada@example.ac.uk",
        "school": "Physics",
        "programme": "BSc Physics",
        "level": "undergraduate",
        "year_of_study": 2,
        "marks": {1: Decimal("71.50")},
    }
    values.update(changes)
    return StudentRecord(**values)


def submit(
    the_record: StudentRecord | None = None, *, no_record: bool = False, **changes: Any
) -> SubmitApplication:
    the_record = None if no_record else (the_record or record())
    values: dict[str, Any] = {
        "application_id": APPLICATION_ID,
        "campaign": campaign(),
        "student_number": "S1000001",
        "name": "Ada Lovelace",
        "email": "ada@example.ac.uk",
        "school": "Physics",
        "today": TODAY,
        "record": the_record,
        "programme": "BSc Physics",
        "level": "undergraduate",
        "year_of_study": the_record.year_of_study if the_record else 2,
    }
    values.update(changes)
    return SubmitApplication(**values)


def history(*commands: Any) -> list[Event]:
    """The events the commands decide, one after the other (each must be accepted)."""
    events: list[Event] = []
    for command in commands:
        events += application_decider.given_when(events, command)
    return events


def all_personal_met(met: bool = True, codes: list[str] | None = None) -> RecordOutcomes:
    return RecordOutcomes(
        campaign=campaign(),
        assessor="coord-1",
        at=NOW,
        outcomes=[
            AssessorOutcome(code=code, met=met, note="strong at interview and training day")
            for code in (codes if codes is not None else PERSONAL)
        ],
    )


def appoint(
    hours: str = "6",
    schemes: tuple[str, ...] = (f"{YEAR}-PHYS",),
    launched: tuple[str, ...] | None = None,
) -> Appoint:
    """An appointment; every scheme named was launched unless `launched` says otherwise."""
    return Appoint(
        campaign=campaign(),
        role="leader",
        schemes=list(schemes),
        appointed_on=date(2026, 6, 1),
        core_training_hours=Decimal(hours),
        launched=frozenset(schemes if launched is None else launched),
    )
