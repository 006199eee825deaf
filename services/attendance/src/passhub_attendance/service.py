"""The attendance service as the kit sees it: projections, consumed events, routes."""

from __future__ import annotations

from pathlib import Path

from passhub_attendance.annual.api import router as annual_router
from passhub_attendance.annual.projections import (
    RECOGNITION_EVENTS,
    AnnualFacts,
)
from passhub_attendance.annual.projections import (
    RECRUITMENT_EVENTS as ANNUAL_RECRUITMENT_EVENTS,
)
from passhub_attendance.api import ROUTERS
from passhub_attendance.evaluation.api import router as evaluation_router
from passhub_attendance.evaluation.projections import evaluation_projections
from passhub_attendance.projections import (
    RECRUITMENT_EVENTS,
    SESSIONS_EVENTS,
    AttendancesProjection,
    FeedbackProjection,
    OrganisersProjection,
    SessionsProjection,
)
from passhub_attendance.reactions import revoke_cancelled
from passhub_attendance.settings import AttendanceSettings
from passhub_shared.contracts.attendance import (
    AttendanceRevoked,
    FeedbackSubmitted,
    LeaderSignedIn,
    StudentSignedIn,
)
from passhub_shared.contracts.sessions import SchemeAmended
from passhub_shared.operations.service import ServiceDefinition

service = ServiceDefinition(
    name="attendance",
    title="Attendance",
    migrations=Path(__file__).parent / "migrations" / "versions",
    projections=[
        SessionsProjection(),
        AttendancesProjection(),
        FeedbackProjection(),
        OrganisersProjection(),
        *evaluation_projections(),
        AnnualFacts(),
    ],
    consumes={
        "sessions": SESSIONS_EVENTS | {SchemeAmended.type_name()},
        "recruitment": RECRUITMENT_EVENTS | ANNUAL_RECRUITMENT_EVENTS,
        "recognition": RECOGNITION_EVENTS,
    },
    reaction=revoke_cancelled,
    routers=[*ROUTERS, evaluation_router, annual_router],
    own_settings=[AttendanceSettings],
    publishes=[StudentSignedIn, LeaderSignedIn, AttendanceRevoked, FeedbackSubmitted],
    description=(
        "Who attended which PASS session: QR, kiosk, leader and paper-sheet sign-in, "
        "feedback sheets, corrections, and the events other systems subscribe to."
    ),
)
