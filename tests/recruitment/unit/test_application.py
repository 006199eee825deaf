"""Given/when/then: an application from submission to appointment and standing down."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from passhub_recruitment.domain.application import (
    AssessorOutcome,
    Reassess,
    RecordOutcomes,
    RejectApplication,
    StandDown,
    WithdrawApplication,
    application_decider,
)
from passhub_recruitment.domain.events import (
    ApplicationDetailsDeclared,
    RecordOverridden,
    StandDownReasonGiven,
)
from passhub_shared.contracts.recruitment import (
    ApplicationAssessed,
    ApplicationRejected,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    LeaderAppointed,
    LeaderStoodDown,
)
from passhub_shared.web.errors import Conflict, NotFound, Rejected
from tests.recruitment.unit.builders import (
    APPLICATION_ID,
    DESIRABLE,
    NOW,
    PERSONAL,
    TODAY,
    YEAR,
    all_personal_met,
    appoint,
    campaign,
    history,
    record,
    submit,
)

when = application_decider.given_when


# -- submission -----------------------------------------------------------------------------


def test_a_submission_is_recorded_with_its_details_and_assessed_at_once() -> None:
    events = when([], submit(statement="I loved PASS in my first year"))
    assert [type(e) for e in events] == [
        ApplicationSubmitted,
        ApplicationDetailsDeclared,
        ApplicationAssessed,
    ]
    submitted, declared, _ = events
    assert isinstance(submitted, ApplicationSubmitted)
    assert submitted.application_id == APPLICATION_ID
    assert submitted.campaign_id == YEAR
    assert isinstance(declared, ApplicationDetailsDeclared)
    assert declared.statement == "I loved PASS in my first year"
    assert not ApplicationDetailsDeclared.public


def test_double_submission_is_a_conflict() -> None:
    with pytest.raises(Conflict, match="already applied"):
        when(history(submit()), submit())


def test_after_withdrawing_a_student_may_apply_again() -> None:
    events = when(history(submit(), WithdrawApplication()), submit())
    assert isinstance(events[0], ApplicationSubmitted)
    state = application_decider.fold([*history(submit(), WithdrawApplication()), *events])
    assert state.status == "submitted"


def test_a_rejected_applicant_cannot_simply_apply_again() -> None:
    given = history(submit(), RejectApplication(reasons=["too few sessions attended"]))
    with pytest.raises(Conflict):
        when(given, submit())


def test_a_closed_campaign_takes_no_applications() -> None:
    with pytest.raises(Rejected, match="not taking applications"):
        when([], submit(campaign=campaign(closed=True)))
    with pytest.raises(Rejected, match="not taking applications"):
        when([], submit(campaign=campaign(closes_on=date(2026, 2, 28))))
    # the closing day itself still counts
    assert when([], submit(campaign=campaign(closes_on=TODAY)))


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "  "},
        {"school": ""},
        {"year_of_study": 0},
        {"exam_marks": {1: Decimal("100.01")}},
        {"exam_marks": {1: Decimal("-1")}},
        {"exam_marks": {1: Decimal("NaN")}},
        {"preferred_schemes": ["PHYS"]},
        {"preferred_schemes": ["2025-26-PHYS"]},
    ],
)
def test_a_malformed_application_is_refused(bad: dict) -> None:
    with pytest.raises(Rejected):
        when([], submit(**bad))


# -- assessment -----------------------------------------------------------------------------


def test_assessors_record_outcomes_with_notes_and_the_counts_follow() -> None:
    given = history(submit())
    events = when(
        given,
        RecordOutcomes(
            campaign=campaign(),
            assessor="coord-1",
            at=NOW,
            outcomes=[
                AssessorOutcome("friendly", True, "warm with first-years at the training day"),
                AssessorOutcome("teamwork", True, "captain of the netball team"),
                AssessorOutcome("listens", False, "talked over others in the group task"),
            ],
        ),
    )
    (assessed,) = events
    assert isinstance(assessed, ApplicationAssessed)
    by_code = {o.code: o for o in assessed.outcomes}
    assert by_code["friendly"].met is True
    assert by_code["friendly"].assessed_by == "coord-1"
    assert by_code["friendly"].evidence == "warm with first-years at the training day"
    assert by_code["listens"].met is False
    assert assessed.essentials_met == 3  # the two record checks and "friendly"
    assert assessed.desirables_met == 1
    assert assessed.appointable is False


def test_every_essential_met_on_verified_evidence_makes_an_applicant_appointable() -> None:
    given = history(submit())
    (assessed,) = when(given, all_personal_met())
    assert isinstance(assessed, ApplicationAssessed)
    assert assessed.essentials_met == assessed.essentials_total == 9
    assert assessed.appointable is True


@pytest.mark.parametrize(
    ("outcomes", "message"),
    [
        ([], "at least one"),
        ([AssessorOutcome("charisma", True, "x")], "no criterion"),
        ([AssessorOutcome("friendly", True, "  ")], "note is required"),
        (
            [AssessorOutcome("friendly", True, "a"), AssessorOutcome("friendly", False, "b")],
            "twice",
        ),
    ],
)
def test_a_malformed_assessment_is_refused(outcomes: list, message: str) -> None:
    command = RecordOutcomes(campaign=campaign(), assessor="coord-1", outcomes=outcomes, at=NOW)
    with pytest.raises(Rejected, match=message):
        when(history(submit()), command)


def test_an_assessor_cannot_overrule_a_verified_record() -> None:
    given = history(submit(record(marks={1: Decimal("59.99")})))
    command = RecordOutcomes(
        campaign=campaign(),
        assessor="coord-1",
        at=NOW,
        outcomes=[AssessorOutcome("exam_marks", True, "close enough")],
    )
    with pytest.raises(Rejected, match="decided by the student record"):
        when(given, command)


def test_an_assessor_resolves_a_mismatch_by_an_explicit_override() -> None:
    given = history(submit(school="Chemistry"))
    assert application_decider.fold(given).unresolved_mismatches()
    plain = AssessorOutcome("undergraduate", True, "transferred to Physics in January")
    with pytest.raises(Rejected, match="decided by the student record") as refused:
        when(
            given, RecordOutcomes(campaign=campaign(), assessor="coord-1", at=NOW, outcomes=[plain])
        )
    assert refused.value.code == "decided_by_record"
    overriding = replace(plain, override_reason="transfer letter seen; records update in June")
    audit, assessed = when(
        given,
        RecordOutcomes(campaign=campaign(), assessor="coord-1", at=NOW, outcomes=[overriding]),
    )
    assert isinstance(audit, RecordOverridden) and isinstance(assessed, ApplicationAssessed)
    state = application_decider.fold([*given, audit, assessed])
    assert state.unresolved_mismatches() == []
    assert state.outcomes["undergraduate"].met is True
    assert state.mismatches, "the disagreement stays on the application"


def test_a_record_pending_on_a_declared_60_is_passed_only_by_an_audited_override() -> None:
    """The record says 59.99, the applicant declared 60: pending. One plain assessor call does
    not pass it; an explicit override does, with the record's value kept beside it."""
    given = history(submit(record(marks={1: Decimal("59.99")}), exam_marks={1: Decimal("60")}))
    pending = application_decider.fold(given).outcomes["exam_marks"]
    assert pending.met is None and "59.99" in pending.evidence
    says = AssessorOutcome("exam_marks", True, "student says 60")
    with pytest.raises(Rejected, match="override_reason") as refused:
        when(
            given,
            RecordOutcomes(campaign=campaign(), assessor="assessor-7", at=NOW, outcomes=[says]),
        )
    assert refused.value.code == "decided_by_record"

    reason = "exam board minute 14/3: mark confirmed as 60 after re-marking"
    audit, assessed = when(
        given,
        RecordOutcomes(
            campaign=campaign(),
            assessor="assessor-7",
            at=NOW,
            outcomes=[replace(says, override_reason=reason)],
        ),
    )
    assert isinstance(audit, RecordOverridden)
    assert (audit.overridden_by, audit.overridden_at, audit.reason) == ("assessor-7", NOW, reason)
    assert (audit.criterion, audit.met, audit.note) == ("exam_marks", True, "student says 60")
    assert audit.record_met is None and "59.99" in audit.record_evidence
    assert [(m.field, m.on_record) for m in audit.mismatches] == [("year1_mark", "59.99")]
    assert isinstance(assessed, ApplicationAssessed)
    outcome = next(o for o in assessed.outcomes if o.code == "exam_marks")
    assert outcome.met is True and outcome.assessed_by == "assessor-7"
    assert outcome.override is not None
    assert outcome.override.reason == reason and outcome.override.by == "assessor-7"
    assert "59.99" in outcome.override.record_evidence

    # changing it again needs an override too, and still shows what the record said
    after = [*given, audit, assessed]
    back = AssessorOutcome("exam_marks", False, "appeal withdrawn")
    with pytest.raises(Rejected, match=r"59\.99"):
        when(
            after, RecordOutcomes(campaign=campaign(), assessor="coord-1", at=NOW, outcomes=[back])
        )
    # checking the records again keeps the override, with the record as it is now
    corrected = record(marks={1: Decimal("59.98")})
    (reassessed,) = when(after, Reassess(campaign=campaign(), record=corrected))
    assert isinstance(reassessed, ApplicationAssessed)
    kept = next(o for o in reassessed.outcomes if o.code == "exam_marks")
    assert kept.met is True and kept.override is not None
    assert "59.98" in kept.override.record_evidence and kept.override.reason == reason


def test_an_override_reason_is_refused_where_the_record_decides_nothing() -> None:
    outcome = AssessorOutcome("friendly", True, "warm", override_reason="because")
    command = RecordOutcomes(campaign=campaign(), assessor="coord-1", at=NOW, outcomes=[outcome])
    with pytest.raises(Rejected, match="nothing to override") as refused:
        when(history(submit()), command)
    assert refused.value.code == "nothing_to_override"


def test_an_override_with_a_reason_overrules_a_record_that_failed_the_rule() -> None:
    given = history(submit(record(marks={1: Decimal("59.99")})))
    outcome = AssessorOutcome(
        "exam_marks", True, "aegrotat", override_reason="mitigating circumstances accepted"
    )
    audit, assessed = when(
        given, RecordOutcomes(campaign=campaign(), assessor="coord-1", at=NOW, outcomes=[outcome])
    )
    assert isinstance(audit, RecordOverridden) and audit.record_met is False
    assert isinstance(assessed, ApplicationAssessed)
    kept = next(o for o in assessed.outcomes if o.code == "exam_marks")
    assert kept.override is not None and kept.override.record_mark_used == Decimal("59.99")


def test_an_assessor_confirms_self_declared_data() -> None:
    given = history(submit(no_record=True, exam_marks={1: Decimal("68")}))
    command = RecordOutcomes(
        campaign=campaign(),
        assessor="coord-1",
        at=NOW,
        outcomes=[
            AssessorOutcome("undergraduate", True, "enrolment letter seen"),
            AssessorOutcome("exam_marks", True, "transcript seen: 68"),
        ],
    )
    (assessed,) = when(given, command)
    assert isinstance(assessed, ApplicationAssessed)
    assert all(o.verified for o in assessed.outcomes if o.met is not None)


def test_no_assessment_after_a_decision() -> None:
    given = history(submit(), RejectApplication(reasons=["no"]))
    with pytest.raises(Rejected, match="rejected"):
        when(given, all_personal_met())


# -- reassessment after a records import ------------------------------------------------------


def test_a_new_record_turns_unverified_into_verified() -> None:
    given = history(submit(no_record=True, exam_marks={1: Decimal("70")}))
    (assessed,) = when(
        given, Reassess(campaign=campaign(), record=record(marks={1: Decimal("70")}))
    )
    assert isinstance(assessed, ApplicationAssessed)
    marks = next(o for o in assessed.outcomes if o.code == "exam_marks")
    assert (marks.met, marks.verified, marks.mark_used) == (True, True, Decimal("70"))


def test_reassessment_keeps_assessors_outcomes() -> None:
    given = history(submit(no_record=True), all_personal_met())
    (assessed,) = when(given, Reassess(campaign=campaign(), record=record()))
    assert isinstance(assessed, ApplicationAssessed)
    assert assessed.appointable is True
    friendly = next(o for o in assessed.outcomes if o.code == "friendly")
    assert friendly.assessed_by == "coord-1"


def test_reassessment_with_nothing_new_decides_nothing() -> None:
    assert when(history(submit()), Reassess(campaign=campaign(), record=record())) == []


def test_decided_applications_are_not_reassessed() -> None:
    given = history(submit(), all_personal_met(), appoint())
    later = record(marks={1: Decimal("40")})
    assert when(given, Reassess(campaign=campaign(), record=later)) == []


# -- rejection and withdrawal -----------------------------------------------------------------


def test_rejection_gives_reasons_the_applicant_can_read() -> None:
    (rejected,) = when(history(submit()), RejectApplication(reasons=[" Not enough availability "]))
    assert isinstance(rejected, ApplicationRejected)
    assert rejected.reasons == ["Not enough availability"]


@pytest.mark.parametrize("reasons", [[], ["  "], ["fine", ""]])
def test_rejection_without_reasons_is_refused(reasons: list[str]) -> None:
    with pytest.raises(Rejected, match="reason"):
        when(history(submit()), RejectApplication(reasons=reasons))


def test_withdrawing_an_open_application() -> None:
    (withdrawn,) = when(history(submit()), WithdrawApplication())
    assert isinstance(withdrawn, ApplicationWithdrawn)
    with pytest.raises(Rejected, match="withdrawn"):
        when(history(submit(), WithdrawApplication()), WithdrawApplication())


def test_withdraw_after_appointment_is_refused() -> None:
    given = history(submit(), all_personal_met(), appoint())
    with pytest.raises(Rejected, match="stands them down"):
        when(given, WithdrawApplication())


def test_no_application_no_withdrawal() -> None:
    with pytest.raises(NotFound):
        when([], WithdrawApplication())


# -- appointment ------------------------------------------------------------------------------


def test_appointment_to_schemes_with_training_and_every_essential() -> None:
    given = history(submit(), all_personal_met())
    (appointed,) = when(given, appoint(schemes=(f"{YEAR}-PHYS", f"{YEAR}-MATH")))
    assert isinstance(appointed, LeaderAppointed)
    assert appointed.schemes == [f"{YEAR}-PHYS", f"{YEAR}-MATH"]
    assert appointed.role == "leader"
    assert appointed.student_number == "S1000001"
    assert appointed.application_id == APPLICATION_ID
    assert appointed.academic_year == YEAR


def test_appointment_without_completed_training_is_refused() -> None:
    given = history(submit(), all_personal_met())
    with pytest.raises(Rejected, match=r"core training not completed: 5\.5 of 6 hours") as err:
        when(given, appoint(hours="5.5"))
    assert err.value.code == "training_incomplete"


def test_appointment_when_an_essential_is_unmet_is_refused() -> None:
    given = history(
        submit(),
        all_personal_met(),
        RecordOutcomes(
            campaign=campaign(),
            assessor="coord-1",
            at=NOW,
            outcomes=[AssessorOutcome("reliable", False, "missed two of three training slots")],
        ),
    )
    with pytest.raises(Rejected, match=r"reliable .*: not met") as err:
        when(given, appoint())
    assert err.value.code == "not_appointable"


def test_appointment_with_essentials_pending_or_unverified_is_refused() -> None:
    with pytest.raises(Rejected, match=r"friendly .*not assessed yet"):
        when(history(submit()), appoint())
    unverified = history(submit(no_record=True, exam_marks={1: Decimal("80")}), all_personal_met())
    with pytest.raises(Rejected, match="self-declared"):
        when(unverified, appoint())


def test_desirables_are_not_needed_for_appointment() -> None:
    given = history(submit(), all_personal_met(), all_personal_met(False, DESIRABLE))
    assert when(given, appoint())


def test_appointment_of_a_withdrawn_or_rejected_applicant_is_refused() -> None:
    for ending in (WithdrawApplication(), RejectApplication(reasons=["no"])):
        given = history(submit(), all_personal_met(), ending)
        with pytest.raises(Rejected, match="cannot lead to an appointment"):
            when(given, appoint())


@pytest.mark.parametrize("schemes", [(), ("PHYS",), ("2025-26-PHYS",), (f"{YEAR}-PHYS",) * 2])
def test_appointment_to_bad_schemes_is_refused(schemes: tuple[str, ...]) -> None:
    with pytest.raises(Rejected):
        when(history(submit(), all_personal_met()), appoint(schemes=schemes))


def test_appointment_to_a_scheme_not_launched_is_refused_saying_to_try_again_shortly() -> None:
    schemes = (f"{YEAR}-PHYS", f"{YEAR}-ASTRO")
    given = history(submit(), all_personal_met())
    with pytest.raises(Rejected, match=f"no scheme {YEAR}-ASTRO has been launched") as refused:
        when(given, appoint(schemes=schemes, launched=(f"{YEAR}-PHYS",)))
    assert refused.value.code == "unknown_scheme"
    assert "try again shortly" in refused.value.message
    (appointed,) = when(given, appoint(schemes=schemes))
    assert isinstance(appointed, LeaderAppointed)


def test_appointing_again_to_a_held_scheme_is_a_conflict_but_adding_one_is_fine() -> None:
    given = history(submit(), all_personal_met(), appoint())
    with pytest.raises(Conflict):
        when(given, appoint())
    (more,) = when(given, appoint(schemes=(f"{YEAR}-MATH",)))
    assert isinstance(more, LeaderAppointed)


# -- standing down ----------------------------------------------------------------------------


def test_standing_down_from_every_scheme_by_default() -> None:
    given = history(submit(), all_personal_met(), appoint(schemes=(f"{YEAR}-PHYS", f"{YEAR}-MATH")))
    stood, why = when(given, StandDown(effective_from=date(2026, 11, 1), reason="placement year"))
    assert isinstance(stood, LeaderStoodDown)
    assert stood.schemes == [f"{YEAR}-MATH", f"{YEAR}-PHYS"]
    assert stood.effective_from == date(2026, 11, 1)
    # the published event does not say why: that stays in recruitment, for coordinators
    assert stood.reason == ""
    assert isinstance(why, StandDownReasonGiven) and not why.public
    assert (why.reason, why.schemes) == ("placement year", stood.schemes)
    assert application_decider.fold([*given, stood, why]).status == "stood_down"


def test_standing_down_from_one_scheme_keeps_the_other() -> None:
    given = history(submit(), all_personal_met(), appoint(schemes=(f"{YEAR}-PHYS", f"{YEAR}-MATH")))
    command = StandDown(
        effective_from=date(2026, 11, 1), reason="timetable clash", schemes=[f"{YEAR}-MATH"]
    )
    stood, why = when(given, command)
    state = application_decider.fold([*given, stood, why])
    assert state.status == "appointed"
    assert list(state.schemes) == [f"{YEAR}-PHYS"]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (StandDown(effective_from=date(2026, 11, 1), reason=" "), "reason"),
        (StandDown(effective_from=date(2026, 5, 31), reason="r"), "before the appointment"),
        (
            StandDown(effective_from=date(2026, 11, 1), reason="r", schemes=[f"{YEAR}-CHEM"]),
            "not appointed to",
        ),
    ],
)
def test_a_bad_stand_down_is_refused(command: StandDown, message: str) -> None:
    given = history(submit(), all_personal_met(), appoint())
    with pytest.raises(Rejected, match=message):
        when(given, command)


def test_no_appointment_no_standing_down() -> None:
    with pytest.raises(Rejected, match="no appointment"):
        when(history(submit()), StandDown(effective_from=date(2026, 11, 1), reason="r"))


def test_a_stood_down_leader_may_be_appointed_again() -> None:
    given = history(
        submit(),
        all_personal_met(),
        appoint(),
        StandDown(effective_from=date(2026, 11, 1), reason="illness"),
    )
    (again,) = when(given, appoint())
    assert isinstance(again, LeaderAppointed)


def test_personal_criteria_list_matches_the_default_specification() -> None:
    assert len(PERSONAL) == 7 and len(DESIRABLE) == 3
