"""Core training: sessions held, and who completed them (for how many hours).

Appointment needs the campaign's core training hours: the sum of the hours a student completed
in core sessions of that academic year (`core_hours`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from passhub_recruitment.domain.events import TrainingSessionRecorded
from passhub_recruitment.domain.identifiers import check_academic_year, is_student_number
from passhub_shared.contracts.recruitment import TrainingCompleted
from passhub_shared.messages.events import Event
from passhub_shared.storage.decider import Decider
from passhub_shared.web.errors import Conflict, NotFound, Rejected

MAX_SESSION_HOURS = Decimal(24)


@dataclass(frozen=True)
class TrainingSession:
    training_id: str = ""
    academic_year: str = ""
    title: str = ""
    held_on: date | None = None
    hours: Decimal = Decimal(0)
    core: bool = True
    #: student number -> hours completed
    completed: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return bool(self.training_id)


@dataclass(frozen=True)
class RecordTrainingSession:
    training_id: str
    academic_year: str
    title: str
    held_on: date
    hours: Decimal
    core: bool = True


@dataclass(frozen=True)
class Completion:
    student_number: str
    #: None: the whole session
    hours: Decimal | None = None


@dataclass(frozen=True)
class RecordCompletions:
    completions: Sequence[Completion]


TrainingCommand = RecordTrainingSession | RecordCompletions


def _record_session(command: RecordTrainingSession, state: TrainingSession) -> list[Event]:
    if state.exists:
        raise Conflict(f"training session {command.training_id} is already recorded")
    check_academic_year(command.academic_year)
    if not command.title.strip():
        raise Rejected("the training session needs a title", code="bad_training")
    if not Decimal(0) < command.hours <= MAX_SESSION_HOURS:
        raise Rejected(
            f"a training session lasts more than 0 and at most {MAX_SESSION_HOURS} hours",
            code="bad_training",
        )
    return [
        TrainingSessionRecorded(
            training_id=command.training_id,
            academic_year=command.academic_year,
            title=command.title.strip(),
            held_on=command.held_on,
            hours=command.hours,
            core=command.core,
        )
    ]


def _record_completions(command: RecordCompletions, state: TrainingSession) -> list[Event]:
    if not state.exists or state.held_on is None:
        raise NotFound("no such training session")
    if not command.completions:
        raise Rejected("list at least one student who completed the session", code="bad_training")
    numbers = [c.student_number for c in command.completions]
    repeated = sorted({n for n in numbers if numbers.count(n) > 1})
    if repeated:
        raise Rejected(f"listed twice: {', '.join(repeated)}", code="bad_training")
    bad = [n for n in numbers if not is_student_number(n)]
    if bad:
        raise Rejected(f"not student numbers: {', '.join(bad)}", code="bad_training")
    already = [n for n in numbers if n in state.completed]
    if already:
        raise Conflict(f"already recorded as completing {state.training_id}: {', '.join(already)}")
    decided: list[Event] = []
    for completion in command.completions:
        hours = state.hours if completion.hours is None else completion.hours
        if not Decimal(0) < hours <= state.hours:
            raise Rejected(
                f"{completion.student_number}: hours must be more than 0 and at most the "
                f"session's {state.hours}",
                code="bad_training",
            )
        decided.append(
            TrainingCompleted(
                student_number=completion.student_number,
                academic_year=state.academic_year,
                training_id=state.training_id,
                completed_on=state.held_on,
                hours=float(hours),
            )
        )
    return decided


def decide(command: TrainingCommand, state: TrainingSession) -> list[Event]:
    if isinstance(command, RecordTrainingSession):
        return _record_session(command, state)
    return _record_completions(command, state)


def evolve(state: TrainingSession, event: Event) -> TrainingSession:
    if isinstance(event, TrainingSessionRecorded):
        return TrainingSession(
            training_id=event.training_id,
            academic_year=event.academic_year,
            title=event.title,
            held_on=event.held_on,
            hours=event.hours,
            core=event.core,
        )
    if isinstance(event, TrainingCompleted):
        completed = {**state.completed, event.student_number: Decimal(str(event.hours))}
        return replace(state, completed=completed)
    return state


def core_hours(completions: Iterable[tuple[Decimal, bool]]) -> Decimal:
    """Hours that count towards appointment: those of core sessions only."""
    return sum((hours for hours, core in completions if core), Decimal(0))


training_decider: Decider[TrainingCommand, TrainingSession] = Decider(
    initial=TrainingSession, decide=decide, evolve=evolve
)
