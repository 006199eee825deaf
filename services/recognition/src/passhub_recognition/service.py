"""The recognition service as the kit sees it: projections, consumed events, routes."""

from __future__ import annotations

from pathlib import Path

from passhub_recognition.api import activities, awards, exports, policies, progress, public
from passhub_recognition.context import start
from passhub_recognition.erasure import withdraw_awards
from passhub_recognition.projections import PROJECTIONS
from passhub_recognition.queries import FACT_TYPES
from passhub_recognition.reaction import react
from passhub_shared.contracts.recognition import (
    AwardGranted,
    AwardRevised,
    AwardWithdrawn,
    AwardWithheld,
)
from passhub_shared.events import event_class
from passhub_shared.service import ServiceDefinition


def _consumed(origin: str) -> frozenset[str]:
    return frozenset(t for t in FACT_TYPES if event_class(t).service == origin)


service = ServiceDefinition(
    name="recognition",
    title="Recognition",
    migrations=Path(__file__).parent / "migrations" / "versions",
    projections=PROJECTIONS,
    consumes={
        "recruitment": _consumed("recruitment"),
        "sessions": _consumed("sessions"),
        "attendance": _consumed("attendance"),
    },
    reaction=react,
    routers=[
        policies.router,
        progress.router,
        awards.router,
        activities.router,
        exports.router,
        public.router,
    ],
    publishes=[AwardGranted, AwardWithheld, AwardWithdrawn, AwardRevised],
    description=(
        "Recognises PASS leaders: a policy of minimum requirements per academic year, live "
        "progress, the end-of-year awards run, certificates with verification codes, HEAR and "
        "skills-award exports, and Open Badges 3.0 credentials."
    ),
    on_start=start,
    on_erase=withdraw_awards,
)
