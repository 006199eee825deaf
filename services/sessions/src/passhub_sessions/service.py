"""The sessions service as the kit sees it: projections, consumed events, routes."""

from __future__ import annotations

from pathlib import Path

from passhub_sessions.api import ROUTERS
from passhub_sessions.domain.events import (
    AvailabilityStated,
    SeriesPlanned,
    SwapAnswered,
    SwapRequested,
)
from passhub_sessions.projections import PROJECTIONS
from passhub_sessions.reactions import react
from passhub_sessions.settings import SessionsSettings
from passhub_shared.contracts.recruitment import LeaderAppointed, LeaderStoodDown
from passhub_shared.contracts.sessions import (
    LeaderRostered,
    LeaderUnrostered,
    SchemeAmended,
    SchemeLaunched,
    SessionCancelled,
    SessionRescheduled,
    SessionScheduled,
)
from passhub_shared.operations.service import ServiceDefinition

#: internal events, registered by importing them (kept here so the import is not unused)
INTERNAL = (SeriesPlanned, AvailabilityStated, SwapRequested, SwapAnswered)

service = ServiceDefinition(
    name="sessions",
    title="Sessions",
    migrations=Path(__file__).parent / "migrations" / "versions",
    projections=PROJECTIONS,
    consumes={"recruitment": frozenset({LeaderAppointed.type_name(), LeaderStoodDown.type_name()})},
    reaction=react,
    routers=ROUTERS,
    own_settings=[SessionsSettings],
    publishes=[
        SchemeLaunched,
        SchemeAmended,
        SessionScheduled,
        SessionRescheduled,
        SessionCancelled,
        LeaderRostered,
        LeaderUnrostered,
    ],
    description=(
        "Schemes, sessions and rooms, the rota of leaders, and iCalendar feeds: scheduling "
        "over the teaching weeks, clash checks, rota generation and cancellations."
    ),
)
