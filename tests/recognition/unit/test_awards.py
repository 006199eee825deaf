"""Given the other services' events (and our own), when an awards decision is asked for, then
these awards are granted, withheld or withdrawn."""

from __future__ import annotations

from datetime import date

import pytest

from passhub_recognition.domain.awards import (
    DecideAwards,
    NewAward,
    Recheck,
    RecordActivity,
    RoleTitles,
    StrikeActivity,
    WithdrawAward,
    leader_decider,
)
from passhub_recognition.domain.events import ActivityRecorded
from passhub_recognition.domain.policy import AwardRules, Policy, Requirements, default_rules
from passhub_shared.contracts.recognition import (
    AwardGranted,
    AwardRevised,
    AwardWithdrawn,
    AwardWithheld,
)
from passhub_shared.web.errors import Conflict, NotFound, Rejected
from tests.recognition.builders import (
    CHEM,
    PHYS,
    YEAR,
    appointed,
    cancelled,
    delivered,
    launched,
    rescheduled,
    revoked,
    scheduled,
    signed_in,
    stood_down,
    trained,
)

TODAY = date(2027, 5, 20)
TITLES = RoleTitles(leader="PASS Mentor", organiser="Student Organiser")


def policy_with(kinds: tuple[str, ...] = ("certificate", "psa", "hear"), **requirements) -> Policy:
    """Every kind with the same requirements (defaults otherwise)."""
    req = Requirements(**requirements)
    return Policy(
        awards={
            k: default_rules(k).model_copy(update={"requirements": req})  # type: ignore[arg-type]
            for k in kinds
        }
    )


def only(kind: str, policy: Policy) -> Policy:
    """`policy` with every other kind switched off."""
    return Policy(
        awards={
            k: r if k == kind else r.model_copy(update={"enabled": False})
            for k, r in policy.awards.items()
        }
    )


def decide(policy: Policy | None = None, version: int = 1, student: str = "S1") -> DecideAwards:
    return DecideAwards(
        academic_year=YEAR,
        student_number=student,
        policy=policy or Policy(),
        policy_version=version,
        titles=TITLES,
        new_awards={
            k: NewAward(f"award-{k}-{version}", f"CODE-{k.upper()}-{version}")
            for k in ("certificate", "psa", "hear")
        },
        today=TODAY,
    )


def cert_only(policy: Policy | None = None) -> Policy:
    return only("certificate", policy or Policy())


BASE = [launched(), appointed(), trained()]


# --- the sessions requirement ---------------------------------------------------------------


def test_exactly_the_minimum_number_of_sessions_grants_every_kind() -> None:
    decided = leader_decider.given_when([*BASE, *delivered(8)], decide())
    assert [type(e) for e in decided] == [AwardGranted] * 3
    cert = decided[0]
    assert isinstance(cert, AwardGranted)
    assert cert.kind == "certificate"
    assert cert.sessions_delivered == 8 and cert.hours == 8.0
    assert cert.role == "PASS Mentor"  # the institution's vocabulary
    assert cert.schemes == [PHYS]
    assert cert.policy_version == 1
    assert cert.award_id == "award-certificate-1"
    assert cert.verification_code == "CODE-CERTIFICATE-1"
    assert cert.activity_start == date(2026, 9, 20)  # appointment
    assert cert.activity_end == date(2026, 11, 23)  # the eighth weekly session


def test_one_session_short_is_withheld_with_what_is_missing() -> None:
    decided = leader_decider.given_when([*BASE, *delivered(7)], decide(cert_only()))
    assert decided == [
        AwardWithheld(
            kind="certificate",
            student_number="S1",
            academic_year=YEAR,
            unmet=["sessions"],
            policy_version=1,
            unmet_detail=["7 of 8 sessions delivered"],
        )
    ]


def test_a_cancelled_session_does_not_count() -> None:
    given = [*BASE, *delivered(8), cancelled(3)]
    [withheld] = leader_decider.given_when(given, decide(cert_only()))
    assert isinstance(withheld, AwardWithheld)
    assert withheld.unmet_detail == ["7 of 8 sessions delivered"]


def test_a_revoked_sign_in_does_not_count_but_signing_in_again_does() -> None:
    given = [*BASE, *delivered(8), revoked(5)]
    [withheld] = leader_decider.given_when(given, decide(cert_only()))
    assert isinstance(withheld, AwardWithheld) and withheld.unmet == ["sessions"]
    [granted] = leader_decider.given_when([*given, signed_in(5)], decide(cert_only()))
    assert isinstance(granted, AwardGranted)


def test_revoking_a_student_attendance_at_the_session_changes_nothing() -> None:
    given = [*BASE, *delivered(8), revoked(5, role="student")]
    [granted] = leader_decider.given_when(given, decide(cert_only()))
    assert isinstance(granted, AwardGranted) and granted.sessions_delivered == 8


def test_signing_in_twice_at_a_session_is_one_session() -> None:
    given = [*BASE, *delivered(7), signed_in(7), signed_in(7)]
    [withheld] = leader_decider.given_when(given, decide(cert_only()))
    assert isinstance(withheld, AwardWithheld)
    assert withheld.unmet_detail == ["7 of 8 sessions delivered"]


def test_sessions_in_several_schemes_add_up_and_are_all_named() -> None:
    given = [
        *BASE,
        launched(CHEM, "Chemistry"),
        *delivered(5),
        scheduled(1, CHEM),
        signed_in(1, scheme_id=CHEM),
        scheduled(2, CHEM),
        signed_in(2, scheme_id=CHEM),
        scheduled(3, CHEM),
        signed_in(3, scheme_id=CHEM),
    ]
    [granted] = leader_decider.given_when(given, decide(cert_only()))
    assert isinstance(granted, AwardGranted)
    assert granted.sessions_delivered == 8 and granted.schemes == [CHEM, PHYS]


def test_a_sign_in_whose_schedule_has_not_arrived_counts_without_hours() -> None:
    given = [*BASE, *delivered(7), signed_in(8)]
    [granted] = leader_decider.given_when(given, decide(cert_only()))
    assert isinstance(granted, AwardGranted)
    assert granted.sessions_delivered == 8 and granted.hours == 7.0


# --- training -------------------------------------------------------------------------------


def test_without_core_training_the_award_is_withheld() -> None:
    given = [launched(), appointed(), *delivered(10)]
    [withheld] = leader_decider.given_when(given, decide(cert_only()))
    assert isinstance(withheld, AwardWithheld)
    assert withheld.unmet == ["training"]
    assert withheld.unmet_detail == ["core training not completed"]


def test_everything_missing_is_named() -> None:
    [withheld] = leader_decider.given_when(
        [appointed(), *delivered(6)], decide(cert_only(policy_with(min_mentor_meetings=2)))
    )
    assert isinstance(withheld, AwardWithheld)
    assert withheld.unmet == ["training", "sessions", "mentor_meetings"]
    assert withheld.unmet_detail == [
        "core training not completed",
        "6 of 8 sessions delivered",
        "0 of 2 mentor meetings attended",
    ]


# --- the hours rule -------------------------------------------------------------------------

HOURS_RULE = policy_with(min_sessions=None, min_session_hours=15, min_training_admin_hours=10)


def test_hours_rule_met_by_training_and_admin_plus_session_hours() -> None:
    given = [
        launched(),
        appointed(),
        trained(hours=6),
        *delivered(10, hours=1.5),  # 15 hours of sessions
        ActivityRecorded(
            activity_id="a1",
            academic_year=YEAR,
            student_number="S1",
            kind="admin",
            held_on=date(2026, 12, 1),
            hours=4,
        ),
    ]
    [granted] = leader_decider.given_when(given, decide(cert_only(HOURS_RULE)))
    assert isinstance(granted, AwardGranted)
    assert granted.hours == 15.0 and granted.sessions_delivered == 10


def test_hours_rule_short_on_both_counts() -> None:
    given = [
        launched(),
        appointed(),
        trained(hours=6),
        *delivered(10, hours=1.5),
        rescheduled(4, 1),
    ]
    [withheld] = leader_decider.given_when(given, decide(cert_only(HOURS_RULE)))
    assert isinstance(withheld, AwardWithheld)
    assert withheld.unmet == ["session_hours", "training_admin_hours"]
    # the rescheduled session now lasts one hour, not one and a half
    assert withheld.unmet_detail == [
        "14.5 of 15 hours of sessions delivered",
        "6 of 10 hours of training and admin",
    ]


# --- standing down --------------------------------------------------------------------------

STAY_UNTIL_MAY = policy_with(not_stood_down_before=date(2027, 5, 1))


def test_stood_down_mid_year_fails_a_not_stood_down_before_requirement() -> None:
    given = [*BASE, *delivered(10), stood_down(date(2027, 2, 1))]
    [withheld] = leader_decider.given_when(given, decide(cert_only(STAY_UNTIL_MAY)))
    assert isinstance(withheld, AwardWithheld)
    assert withheld.unmet == ["stood_down"]
    assert withheld.unmet_detail == ["stood down on 2027-02-01, before 2027-05-01"]


def test_stood_down_after_the_date_is_fine() -> None:
    given = [*BASE, *delivered(10), stood_down(date(2027, 5, 10))]
    [granted] = leader_decider.given_when(given, decide(cert_only(STAY_UNTIL_MAY)))
    assert isinstance(granted, AwardGranted)


def test_stood_down_from_one_of_two_schemes_is_not_stood_down() -> None:
    given = [
        launched(),
        appointed(schemes=[PHYS, CHEM]),
        trained(),
        *delivered(10),
        stood_down(date(2027, 2, 1), schemes=[CHEM]),
    ]
    [granted] = leader_decider.given_when(given, decide(cert_only(STAY_UNTIL_MAY)))
    assert isinstance(granted, AwardGranted)


def test_appointed_again_after_standing_down_is_active_again() -> None:
    given = [*BASE, *delivered(10), stood_down(date(2027, 2, 1)), appointed(on=date(2027, 2, 10))]
    [granted] = leader_decider.given_when(given, decide(cert_only(STAY_UNTIL_MAY)))
    assert isinstance(granted, AwardGranted)


def test_without_a_date_in_the_policy_standing_down_alone_withholds_nothing() -> None:
    given = [*BASE, *delivered(8), stood_down(date(2027, 2, 1))]
    [granted] = leader_decider.given_when(given, decide(cert_only()))
    assert isinstance(granted, AwardGranted)


# --- mentor meetings ------------------------------------------------------------------------


def meeting(activity_id: str, hours: float = 1.0) -> ActivityRecorded:
    return ActivityRecorded(
        activity_id=activity_id,
        academic_year=YEAR,
        student_number="S1",
        kind="mentor_meeting",
        held_on=date(2026, 11, 1),
        hours=hours,
    )


def test_mentor_meetings_count_towards_their_requirement() -> None:
    policy = cert_only(policy_with(min_mentor_meetings=2))
    [withheld] = leader_decider.given_when([*BASE, *delivered(8), meeting("m1")], decide(policy))
    assert isinstance(withheld, AwardWithheld)
    assert withheld.unmet_detail == ["1 of 2 mentor meetings attended"]
    [granted] = leader_decider.given_when(
        [*BASE, *delivered(8), meeting("m1"), meeting("m2")], decide(policy)
    )
    assert isinstance(granted, AwardGranted)


# --- kinds with their own requirements ------------------------------------------------------


def test_each_kind_has_its_own_requirements() -> None:
    policy = Policy(
        awards={
            "certificate": default_rules("certificate").model_copy(
                update={"requirements": Requirements(min_sessions=4)}
            ),
            "hear": default_rules("hear").model_copy(
                update={"requirements": Requirements(min_sessions=10)}
            ),
            "psa": default_rules("psa").model_copy(update={"enabled": False}),
        }
    )
    decided = leader_decider.given_when([*BASE, *delivered(6)], decide(policy))
    assert [(type(e).__name__, e.kind) for e in decided] == [  # type: ignore[attr-defined]
        ("AwardGranted", "certificate"),
        ("AwardWithheld", "hear"),
    ]


def test_an_organiser_gets_the_organiser_title() -> None:
    given = [launched(), appointed(role="organiser"), trained(), *delivered(8)]
    [granted] = leader_decider.given_when(given, decide(cert_only()))
    assert isinstance(granted, AwardGranted) and granted.role == "Student Organiser"


def test_someone_never_appointed_cannot_be_decided() -> None:
    with pytest.raises(Rejected, match="not an appointed leader"):
        leader_decider.given_when([trained(), *delivered(8)], decide())


# --- idempotence ----------------------------------------------------------------------------


def test_deciding_again_grants_nothing_twice() -> None:
    history = [*BASE, *delivered(8)]
    first = leader_decider.given_when(history, decide())
    assert len(first) == 3
    assert leader_decider.given_when([*history, *first], decide()) == []


def test_an_unchanged_withholding_is_not_repeated_but_a_changed_one_is() -> None:
    history = [*BASE, *delivered(6)]
    first = leader_decider.given_when(history, decide(cert_only()))
    assert leader_decider.given_when([*history, *first], decide(cert_only())) == []
    [again] = leader_decider.given_when(
        [*history, *first, *delivered(1, start=7)], decide(cert_only())
    )
    assert isinstance(again, AwardWithheld) and again.unmet_detail == ["7 of 8 sessions delivered"]
    # and once the eighth session is delivered, the run grants
    [granted] = leader_decider.given_when(
        [*history, *first, *delivered(2, start=7)], decide(cert_only())
    )
    assert isinstance(granted, AwardGranted)


# --- a policy changed mid-year --------------------------------------------------------------


def test_a_policy_change_applies_to_decisions_made_after_it() -> None:
    stricter = cert_only(policy_with(min_sessions=10))
    # decided under version 1 (8 sessions): granted, and it records version 1
    history = [*BASE, *delivered(8)]
    [granted] = leader_decider.given_when(history, decide(cert_only(), version=1))
    assert isinstance(granted, AwardGranted) and granted.policy_version == 1
    # a later run under version 2 (10 sessions) leaves the award alone...
    assert leader_decider.given_when([*history, granted], decide(stricter, version=2)) == []
    # ...and re-checks still hold it to the version it was granted under
    policies = {1: cert_only(), 2: stricter}
    recheck = Recheck(YEAR, "S1", policies, "session 2 rescheduled")
    assert leader_decider.given_when([*history, granted], recheck) == []
    # while a leader first decided after the change needs 10
    [withheld] = leader_decider.given_when(history, decide(stricter, version=2))
    assert isinstance(withheld, AwardWithheld)
    assert withheld.policy_version == 2 and withheld.unmet_detail == ["8 of 10 sessions delivered"]


# --- withdrawal -----------------------------------------------------------------------------


def test_a_correction_that_breaks_a_requirement_withdraws_with_the_reason() -> None:
    history = [*BASE, *delivered(8)]
    granted = leader_decider.given_when(history, decide())
    withdrawn = leader_decider.given_when(
        [*history, *granted, revoked(3)],
        Recheck(YEAR, "S1", {1: Policy()}, "sign-in at session X revoked (wrong person)"),
    )
    # type: ignore[attr-defined]
    assert [e.kind for e in withdrawn] == ["certificate", "psa", "hear"]
    hear = withdrawn[2]
    assert isinstance(hear, AwardWithdrawn)
    assert hear.award_id == "award-hear-1"
    assert hear.reason == ("sign-in at session X revoked (wrong person): 7 of 8 sessions delivered")
    assert not hear.by_coordinator


def test_a_recheck_that_still_holds_withdraws_nothing_and_changes_nothing_unchanged() -> None:
    history = [*BASE, *delivered(9)]
    granted = leader_decider.given_when(history, decide())
    # a student's attendance revoked: the leader's figures are as granted
    after = [*history, *granted, revoked(2, role="student")]
    assert leader_decider.given_when(after, Recheck(YEAR, "S1", {1: Policy()}, "x")) == []


def test_an_award_that_still_holds_is_reissued_with_the_figures_that_hold_now() -> None:
    history = [*BASE, *delivered(9)]
    granted = leader_decider.given_when(history, decide())
    revised = leader_decider.given_when(
        [*history, *granted, cancelled(9)], Recheck(YEAR, "S1", {1: Policy()}, "cancelled")
    )
    assert [type(e) for e in revised] == [AwardRevised] * 3
    hear = revised[2]
    assert isinstance(hear, AwardRevised)
    assert (hear.award_id, hear.sessions_delivered, hear.hours) == ("award-hear-1", 8, 8.0)
    assert hear.activity_end == scheduled(8).starts_at.date()  # the last session left
    assert hear.reason == "cancelled: 8 sessions (8 hours), was 9 sessions (9 hours)"
    # checked again with nothing new: nothing to re-issue
    again = [*history, *granted, cancelled(9), *revised]
    assert leader_decider.given_when(again, Recheck(YEAR, "S1", {1: Policy()}, "again")) == []


def test_two_revoked_sign_ins_withdraw_the_kinds_they_break_and_reissue_the_hear_entry() -> None:
    """Certificate and PSA need 8 sessions, the HEAR entry 6 (a policy may ask less of it):
    9 sessions (11 hours) less two revoked leaves 7 sessions (9 hours)."""
    hear_six = Requirements(min_sessions=6)
    policy = Policy(
        awards={
            **policy_with().awards,
            "hear": default_rules("hear").model_copy(update={"requirements": hear_six}),
        }
    )
    history = [*BASE, *delivered(7), *delivered(2, start=8, hours=2.0)]
    granted = leader_decider.given_when(history, decide(policy))
    # type: ignore[attr-defined]
    assert [(e.kind, e.sessions_delivered, e.hours) for e in granted] == [
        ("certificate", 9, 11.0),
        ("psa", 9, 11.0),
        ("hear", 9, 11.0),
    ]
    first = "sign-in at session s02 revoked (wrong person)"
    after_one = leader_decider.given_when(
        [*history, *granted, revoked(2)], Recheck(YEAR, "S1", {1: policy}, first)
    )
    assert [(type(e), e.sessions_delivered) for e in after_one] == [  # type: ignore[attr-defined]
        (AwardRevised, 8),
        (AwardRevised, 8),
        (AwardRevised, 8),
    ]
    second = "sign-in at session s03 revoked (wrong person)"
    after_two = leader_decider.given_when(
        [*history, *granted, revoked(2), *after_one, revoked(3)],
        Recheck(YEAR, "S1", {1: policy}, second),
    )
    assert [(type(e), e.kind) for e in after_two] == [  # type: ignore[attr-defined]
        (AwardWithdrawn, "certificate"),
        (AwardWithdrawn, "psa"),
        (AwardRevised, "hear"),
    ]
    hear = after_two[2]
    assert isinstance(hear, AwardRevised)
    assert (hear.sessions_delivered, hear.hours) == (7, 9.0)
    assert hear.reason == f"{second}: 7 sessions (9 hours), was 8 sessions (10 hours)"


def test_after_a_correction_withdrawal_meeting_the_rules_again_grants_anew() -> None:
    history = [*BASE, *delivered(8)]
    granted = leader_decider.given_when(history, decide(cert_only()))
    withdrawn = leader_decider.given_when(
        [*history, *granted, revoked(3)], Recheck(YEAR, "S1", {1: cert_only()}, "revoked")
    )
    later = [*history, *granted, revoked(3), *withdrawn, *delivered(1, start=9)]
    [regranted] = leader_decider.given_when(later, decide(cert_only(), version=1))
    assert isinstance(regranted, AwardGranted)


def test_a_coordinator_withdrawal_bars_the_kind_for_the_year() -> None:
    history = [*BASE, *delivered(8)]
    granted = leader_decider.given_when(history, decide(cert_only()))
    [withdrawn] = leader_decider.given_when(
        [*history, *granted],
        WithdrawAward(YEAR, "S1", "award-certificate-1", "breach of the code of conduct"),
    )
    assert isinstance(withdrawn, AwardWithdrawn) and withdrawn.by_coordinator
    assert leader_decider.given_when([*history, *granted, withdrawn], decide(cert_only())) == []
    with pytest.raises(Conflict):
        leader_decider.given_when(
            [*history, *granted, withdrawn],
            WithdrawAward(YEAR, "S1", "award-certificate-1", "again"),
        )
    with pytest.raises(NotFound):
        leader_decider.given_when(history, WithdrawAward(YEAR, "S1", "nope", "x"))


# --- activities -----------------------------------------------------------------------------


def test_recording_an_activity_needs_an_appointed_leader_and_a_fresh_id() -> None:
    command = RecordActivity("m1", YEAR, "S1", "mentor_meeting", date(2026, 11, 1), 1.0)
    assert leader_decider.given_when(BASE, command) == [meeting("m1")]
    with pytest.raises(Conflict):
        leader_decider.given_when([*BASE, meeting("m1")], command)
    with pytest.raises(Rejected, match="not an appointed leader"):
        leader_decider.given_when([], command)


def test_striking_an_activity_withdraws_the_award_it_was_needed_for() -> None:
    policy = cert_only(policy_with(min_mentor_meetings=1))
    history = [*BASE, *delivered(8), meeting("m1")]
    [granted] = leader_decider.given_when(history, decide(policy))
    struck, withdrawn = leader_decider.given_when(
        [*history, granted], StrikeActivity("m1", YEAR, "S1", "did not attend", {1: policy})
    )
    assert struck.activity_id == "m1"  # type: ignore[attr-defined]
    assert isinstance(withdrawn, AwardWithdrawn)
    assert withdrawn.reason == (
        "mentor meeting of 2026-11-01 struck (did not attend): 0 of 1 mentor meeting attended"
    )


def test_rules_without_requirements_cannot_be_enabled() -> None:
    from passhub_recognition.domain.policy import check_policy

    empty = AwardRules(
        **{
            **default_rules("certificate").model_dump(),
            "requirements": Requirements(training=False, min_sessions=None),
        }
    )
    with pytest.raises(Rejected, match="at least one requirement"):
        check_policy(Policy(awards={"certificate": empty}))
