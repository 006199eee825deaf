"""Contracts published by the recognition service (`passhub.recognition.*`).

One decision per leader, academic year and award kind: `award_granted` or `award_withheld`
(with the requirements not met). A later correction that breaks a requirement, or a
coordinator's withdrawal for a breach of the scheme's rules, is `award_withdrawn`. As elsewhere,
`student_number` is the institution's pseudonymous identifier: no names are published.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field

from passhub_shared.messages.events import Event
from passhub_shared.personaldata.personal import Personal, PersonalText, StudentNumber

AwardKind = Literal["certificate", "psa", "hear"]


class _Recognition(Event):
    service = "recognition"


class AwardGranted(_Recognition):
    event_name = "award_granted"
    award_id: str
    kind: AwardKind
    student_number: StudentNumber
    academic_year: str
    #: the role title in the institution's vocabulary (e.g. "PASS Leader")
    role: str
    #: scheme ids (`<academic_year>-<code>`) the leader was appointed to or delivered sessions in
    schemes: list[str]
    #: leader sign-ins at uncancelled sessions, not revoked
    sessions_delivered: int
    #: scheduled length of those sessions, in hours
    hours: float
    #: version of the year's recognition policy the decision applied
    policy_version: int
    #: printed on the certificate; anyone can check it at the verification page
    verification_code: str
    #: first and last day of the activity (appointment or first session, last session)
    activity_start: date | None = None
    activity_end: date | None = None


class AwardWithheld(_Recognition):
    event_name = "award_withheld"
    kind: AwardKind
    student_number: StudentNumber
    academic_year: str
    #: codes of the requirements not met: training, sessions, session_hours,
    #: training_admin_hours, mentor_meetings, stood_down
    unmet: list[str]
    policy_version: int
    #: the same, in words: e.g. "6 of 8 sessions delivered"
    unmet_detail: Annotated[list[str], Personal([])] = Field(default_factory=list)


class AwardWithdrawn(_Recognition):
    event_name = "award_withdrawn"
    award_id: str
    kind: AwardKind
    student_number: StudentNumber
    academic_year: str
    reason: PersonalText
    #: withdrawn by a coordinator (e.g. a breach of the scheme's rules) rather than by a
    #: correction; a later awards run does not grant this kind to the leader again that year
    by_coordinator: bool = False


class AwardRevised(_Recognition):
    """A correction changed what a standing award states (sessions delivered, hours, schemes,
    dates) without breaking its requirements: the award stands, re-issued with these figures,
    which replace those of the grant (or of the last revision)."""

    event_name = "award_revised"
    award_id: str
    kind: AwardKind
    student_number: StudentNumber
    academic_year: str
    schemes: list[str]
    sessions_delivered: int
    hours: float
    activity_start: date | None = None
    activity_end: date | None = None
    #: what changed, in words: e.g. "sign-in at session 2026-27-PHYS-s03 revoked (signed in
    #: by mistake): 8 sessions (9 hours), was 9 sessions (10 hours)"
    reason: PersonalText
