"""The machine-checkable criteria, decided from the student records.

For each datum a check needs, the student record is the evidence; what the applicant declared
is used only where the record has nothing (and the outcome is then `verified=False`). Where
both exist and disagree, the criterion stays pending (`met=None`) with the mismatch listed,
until an assessor records an outcome: a disagreement is never silently accepted.

The exam-mark rule: every relevant mark must be at least the campaign's minimum, compared as
exact decimals (59.99 fails, 60 and 60.00 pass, nothing is rounded). Relevant years are the
first and second years up to the applicant's current year of study; the current year's mark may
be missing (exams not sat yet), an earlier year's may not.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from passhub_recruitment.domain.campaign import Campaign
from passhub_recruitment.domain.records import (
    Declared,
    StudentRecord,
    canonical_level,
    is_undergraduate,
    normalise,
)
from passhub_shared.contracts.recruitment import Criterion, CriterionOutcome, RecordMismatch

SYSTEM = "system"
RELEVANT_YEARS = (1, 2)


def decimal_text(value: Decimal) -> str:
    """60.0 -> '60', 62.50 -> '62.5' (for messages; the events keep the exact value)."""
    return format(value.normalize(), "f")


def pending(criterion: Criterion, evidence: str = "") -> CriterionOutcome:
    how = ", ".join(m.replace("_", " ") for m in criterion.assessed_by)
    return CriterionOutcome(
        code=criterion.code,
        met=None,
        verified=False,
        evidence=evidence or f"awaiting an assessor ({how})",
        assessed_by=SYSTEM,
    )


def mismatches(
    campaign: Campaign, declared: Declared, record: StudentRecord | None
) -> list[RecordMismatch]:
    """Declared data that disagrees with the record, each tied to the criterion it bears on."""
    if record is None:
        return []
    enrolment = campaign.with_check("enrolment")
    marks = campaign.with_check("exam_marks")
    identity_criterion = enrolment or marks
    marks_criterion = marks or enrolment
    if identity_criterion is None or marks_criterion is None:
        return []  # nothing is decided from the record, so there is nothing to contradict
    identity_code, marks_code = identity_criterion.code, marks_criterion.code
    found: list[RecordMismatch] = []

    def compare(
        name: str,
        declared_value: str,
        record_value: str,
        code: str,
        same: Callable[[str], str] = normalise,
    ) -> None:
        if declared_value.strip() and same(declared_value) != same(record_value):
            found.append(
                RecordMismatch(
                    field=name,
                    on_application=declared_value.strip(),
                    on_record=record_value,
                    criterion=code,
                )
            )

    compare("name", declared.name, record.name, identity_code)
    compare("email", declared.email, record.email, identity_code)
    compare("school", declared.school, record.school, identity_code)
    compare("programme", declared.programme, record.programme, identity_code)
    compare("level", declared.level, record.level, identity_code, canonical_level)
    if declared.year_of_study is not None:
        compare("year_of_study", str(declared.year_of_study), str(record.year_of_study), marks_code)
    for year, mark in sorted(declared.marks.items()):
        on_record = record.marks.get(year)
        if on_record is not None and on_record != mark:
            found.append(
                RecordMismatch(
                    field=f"year{year}_mark",
                    on_application=str(mark),
                    on_record=str(on_record),
                    criterion=marks_code,
                )
            )
    return found


def _describe(found: list[RecordMismatch]) -> str:
    parts = [
        f"{m.field} (application: {m.on_application!r}; record: {m.on_record!r})" for m in found
    ]
    return "does not match the student record: " + "; ".join(parts) + "; an assessor must check"


def check_enrolment(
    criterion: Criterion,
    campaign: Campaign,
    declared: Declared,
    record: StudentRecord | None,
    found: list[RecordMismatch],
) -> CriterionOutcome:
    if found:
        return pending(criterion, _describe(found))
    if record is not None:
        level, school, verified, source = record.level, record.school, True, "student record"
    else:
        level, school, verified = declared.level, declared.school, False
        source = "self-declared, no student record"
        if not level.strip():
            return pending(
                criterion, "no student record, and the application does not give a level of study"
            )
    undergraduate = is_undergraduate(level)
    participating = campaign.participates(school)
    details = [
        f"level {level!r}" + ("" if undergraduate else " is not undergraduate"),
        f"school {school!r}" + (" participates" if participating else " is not participating"),
    ]
    return CriterionOutcome(
        code=criterion.code,
        met=undergraduate and participating,
        verified=verified,
        evidence=f"{source}: " + ", ".join(details),
        assessed_by=SYSTEM,
    )


def check_exam_marks(
    criterion: Criterion,
    campaign: Campaign,
    declared: Declared,
    record: StudentRecord | None,
    found: list[RecordMismatch],
) -> CriterionOutcome:
    if found:
        return pending(criterion, _describe(found))
    minimum = campaign.min_exam_mark
    year_of_study = record.year_of_study if record is not None else declared.year_of_study
    years = [y for y in RELEVANT_YEARS if year_of_study is None or y <= year_of_study]
    used: list[tuple[int, Decimal, bool]] = []
    missing: list[int] = []
    for year in years:
        on_record = record.marks.get(year) if record is not None else None
        if on_record is not None:
            used.append((year, on_record, True))
        elif year in declared.marks:
            used.append((year, declared.marks[year], False))
        elif year_of_study is not None and year < year_of_study:
            missing.append(year)
    if missing:
        names = ", ".join(f"year {y}" for y in missing)
        return pending(criterion, f"no exam mark for {names}, in the record or the application")
    if not used:
        return pending(criterion, "no first- or second-year exam mark yet")
    failing = [u for u in used if u[1] < minimum]
    if failing:
        verified_failing = [u for u in failing if u[2]]
        decisive = min(verified_failing or failing, key=lambda u: u[1])
        verified = decisive[2]
        met = False
    else:
        decisive = min(used, key=lambda u: u[1])
        verified = all(u[2] for u in used)
        met = True
    listed = ", ".join(
        f"year {y}: {mark} ({'record' if from_record else 'self-declared'})"
        for y, mark, from_record in used
    )
    verdict = "met" if met else "not met"
    return CriterionOutcome(
        code=criterion.code,
        met=met,
        verified=verified,
        evidence=f"{listed}; minimum {decimal_text(minimum)}: {verdict}",
        assessed_by=SYSTEM,
        mark_used=decisive[1],
    )


Check = Callable[
    [Criterion, Campaign, Declared, StudentRecord | None, list[RecordMismatch]], CriterionOutcome
]
CHECKS: dict[str, Check] = {"enrolment": check_enrolment, "exam_marks": check_exam_marks}


def automatic_outcomes(
    campaign: Campaign, declared: Declared, record: StudentRecord | None
) -> tuple[dict[str, CriterionOutcome], list[RecordMismatch]]:
    """Every criterion's outcome as far as the records can decide it (others pending)."""
    found = mismatches(campaign, declared, record)
    outcomes: dict[str, CriterionOutcome] = {}
    for criterion in campaign.criteria:
        if criterion.check is None:
            outcomes[criterion.code] = pending(criterion)
        else:
            mine = [m for m in found if m.criterion == criterion.code]
            outcomes[criterion.code] = CHECKS[criterion.check](
                criterion, campaign, declared, record, mine
            )
    return outcomes, found
