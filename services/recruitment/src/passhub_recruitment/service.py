"""The recruitment service as the kit sees it: projections, published events, routes."""

from __future__ import annotations

from pathlib import Path

from passhub_recruitment.api import routers
from passhub_recruitment.projections import PROJECTIONS
from passhub_shared.contracts.recruitment import (
    ApplicationAssessed,
    ApplicationRejected,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CampaignOpened,
    LeaderAppointed,
    LeaderStoodDown,
    TrainingCompleted,
)
from passhub_shared.contracts.sessions import SchemeAmended, SchemeLaunched
from passhub_shared.operations.service import ServiceDefinition

service = ServiceDefinition(
    name="recruitment",
    title="Recruitment",
    migrations=Path(__file__).parent / "migrations" / "versions",
    projections=PROJECTIONS,
    #: appointments must name a scheme the sessions service launched; an organiser sees the
    #: applicants to the schemes they organise
    consumes={"sessions": frozenset({SchemeLaunched.type_name(), SchemeAmended.type_name()})},
    routers=routers(),
    publishes=[
        CampaignOpened,
        ApplicationSubmitted,
        ApplicationAssessed,
        ApplicationRejected,
        ApplicationWithdrawn,
        TrainingCompleted,
        LeaderAppointed,
        LeaderStoodDown,
    ],
    description=(
        "Recruits PASS leaders and student organisers: campaigns with a person "
        "specification, student-records evidence, applications, assessment, shortlisting, "
        "core training and appointment to schemes."
    ),
)
