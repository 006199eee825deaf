"""Request and response models of the recognition service's routes.

Every route that answers JSON declares one of these. The JSON is what the routes answered
before they had models (the portal reads it): figures that may be whole numbers or fractions
keep whichever they are.

The pages and files (the verification page, certificates, credentials, exports) answer their
own media types and have no model here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from passhub_recognition.domain.events import ActivityKind
from passhub_recognition.domain.policy import Policy
from passhub_recognition.domain.progress import Status
from passhub_shared.contracts.recognition import AwardKind

#: a figure that is a whole number or a fraction, kept as it is (12 stays 12, 12.5 12.5)
Figure = int | float


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests -------------------------------------------------------------------------------


class RunIn(_In):
    academic_year: str


class WithdrawIn(_In):
    reason: str = Field(min_length=1, max_length=1000)


class ActivityIn(_In):
    academic_year: str
    student_number: str = Field(min_length=1, max_length=64)
    kind: ActivityKind
    held_on: date
    hours: float = Field(ge=0, le=24)
    note: str = Field(default="", max_length=1000)


class StrikeIn(_In):
    reason: str = Field(min_length=1, max_length=1000)


class CredentialIn(_In):
    credential: str = Field(min_length=1, max_length=100_000, description="the VC-JWT")


# --- policy ---------------------------------------------------------------------------------


class PolicyOut(BaseModel):
    academic_year: str
    #: 0: the defaults, not yet adopted
    version: int
    adopted: bool
    policy: Policy
    #: each kind's criteria in words
    criteria: dict[str, str]


class PolicyVersionOut(BaseModel):
    version: int
    set_at: datetime
    set_by: str | None
    #: the policy as it was set
    policy: dict[str, Any]


# --- progress -------------------------------------------------------------------------------


class CheckOut(BaseModel):
    code: str
    met: bool
    detail: str
    actual: Figure | None = None
    required: Figure | None = None


class KindProgressOut(BaseModel):
    kind: AwardKind
    title: str
    enabled: bool
    eligible: bool
    requirements: list[CheckOut]
    missing: list[str]
    status: Status
    award_id: str | None


class LeaderProgressOut(BaseModel):
    academic_year: str
    student_number: str
    name: str
    role: str
    schemes: list[str]
    policy_version: int
    sessions_delivered: int
    session_hours: Figure
    training_completed: bool
    training_admin_hours: Figure
    mentor_meetings: int
    stood_down_on: date | None
    awards: list[KindProgressOut]


# --- awards ---------------------------------------------------------------------------------


class PreviewLineOut(BaseModel):
    student_number: str
    name: str
    kind: AwardKind
    title: str
    outcome: Literal["grant", "withhold", "unchanged"]
    status: str
    reasons: list[str]


class RunSummaryOut(BaseModel):
    academic_year: str
    policy_version: int
    leaders: int
    granted: int
    withheld: int
    unchanged: int


class RunPreviewOut(RunSummaryOut):
    lines: list[PreviewLineOut]


#: a job's state: queued (recorded, not begun), running, done, failed (with why)
JobState = Literal["queued", "running", "done", "failed"]


class AwardsRunOut(BaseModel):
    """An awards run, worked off the request: how far it is and, once done, what it decided."""

    run_id: str
    academic_year: str
    state: JobState
    requested_by: str | None
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    #: the policy version it applies (adopted when it begins)
    policy_version: int | None
    leaders_done: int
    #: the leaders appointed when the run began (0 until then)
    leaders_total: int
    #: what it decided, once done: the same summary the one-transaction run gives
    result: RunSummaryOut | None
    error: str | None


class CertificateBatchOut(BaseModel):
    """A certificate batch, made off the request: pages drawn of the total, and where its
    PDF is once done."""

    batch_id: str
    academic_year: str
    state: JobState
    requested_by: str | None
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    pages_done: int
    pages_total: int
    #: the path of the PDF, once done
    pdf: str | None
    error: str | None


class AwardOut(BaseModel):
    award_id: str
    kind: AwardKind
    kind_title: str
    academic_year: str
    student_number: str
    name: str
    role: str
    #: the schemes' titles
    schemes: list[str]
    scheme_ids: list[str]
    sessions_delivered: int
    hours: Figure
    policy_version: int
    verification_code: str
    activity_start: date | None
    activity_end: date | None
    granted_at: datetime
    status: Literal["granted", "withdrawn"]
    withdrawn_at: datetime | None
    withdrawn_reason: str | None
    revised_at: datetime | None
    revised_reason: str | None
    verify_url: str


# --- activities -----------------------------------------------------------------------------


class ActivityOut(BaseModel):
    """An activity as recorded."""

    activity_id: str
    academic_year: str
    student_number: str
    kind: ActivityKind
    held_on: date
    hours: Figure
    note: str


class ActivityRowOut(ActivityOut):
    """An activity as listed: who recorded it, and whether it was struck."""

    recorded_by: str | None
    struck: bool
    struck_reason: str | None


class StruckOut(BaseModel):
    activity_id: str
    struck: bool
    #: the awards withdrawn because they no longer hold without the activity
    withdrawn_awards: list[str]


# --- public: verifying a credential, the issuer's documents ---------------------------------


class PublicAwardOut(BaseModel):
    """What a certificate shows, with the figures that hold now, whether it stands, and the
    days it was issued, withdrawn and last revised (not why)."""

    verification_code: str
    status: Literal["valid", "withdrawn"]
    award: str
    name: str
    role: str
    schemes: list[str]
    academic_year: str
    sessions_delivered: int
    hours: Figure
    issued_on: str
    withdrawn_on: str | None
    revised_on: str | None
    institution: str
    verifying_body: str


class CredentialCheckOut(BaseModel):
    """`valid`: the signature and the issuer; `status`: whether the award still stands
    (`invalid` with `error` when the credential is not valid)."""

    valid: bool
    status: Literal["invalid", "unknown", "active", "withdrawn"]
    error: str | None = None
    award: PublicAwardOut | None = None


class PublicJwk(BaseModel):
    kty: str
    crv: str
    x: str


class Jwk(PublicJwk):
    kid: str
    use: str
    alg: str


class JwksOut(BaseModel):
    keys: list[Jwk]


class VerificationMethod(BaseModel):
    id: str
    type: str
    controller: str
    publicKeyJwk: PublicJwk


class DidDocumentOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    context: list[str] = Field(alias="@context")
    id: str
    verificationMethod: list[VerificationMethod]
    assertionMethod: list[str]
    authentication: list[str]


class ProfileOut(BaseModel):
    id: str
    type: list[str]
    name: str
    url: str


class CriteriaOut(BaseModel):
    narrative: str


class AchievementOut(BaseModel):
    id: str
    type: list[str]
    achievementType: str
    name: str
    criteria: CriteriaOut
    creator: ProfileOut
