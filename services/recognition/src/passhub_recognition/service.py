"""The recognition service as the kit sees it: projections, consumed events, routes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_recognition.api import router
from passhub_recognition.api.awards import certificate_of
from passhub_recognition.api.deps import JOBS_KEY, STATE_KEY, Recognition, role_titles
from passhub_recognition.certificates import register_fonts
from passhub_recognition.handlers import context, withdraw_awards_of
from passhub_recognition.jobs import Jobs
from passhub_recognition.projections import PROJECTIONS
from passhub_recognition.queries import FACT_TYPES
from passhub_recognition.reactions import react
from passhub_recognition.settings import RecognitionSettings
from passhub_recognition.signing import IssuerKey, did_web, key_from_database, key_from_file
from passhub_shared.contracts.recognition import (
    AwardGranted,
    AwardRevised,
    AwardWithdrawn,
    AwardWithheld,
)
from passhub_shared.messages.events import event_class
from passhub_shared.operations.service import Runtime, ServiceDefinition


def _consumed(origin: str) -> frozenset[str]:
    return frozenset(t for t in FACT_TYPES if event_class(t).service == origin)


async def start(runtime: Runtime) -> None:
    """`on_start`: load or make the signing key, register fonts, take up the awards runs and
    certificate batches left under way."""
    settings = RecognitionSettings()
    if settings.signing_key_path:
        private = key_from_file(settings.signing_key_path)
    else:
        async with runtime.transaction() as conn:
            private = await key_from_database(conn)
    recognition = Recognition(
        settings=settings,
        key=IssuerKey(private, did_web(settings.public_base_url)),
        fonts=register_fonts(settings.font_path, settings.bold_font_path),
        titles=role_titles(runtime),
    )
    runtime.state[STATE_KEY] = recognition
    jobs = Jobs(
        runtime,
        recognition.titles,
        settings.run_batch_size,
        recognition.fonts,
        lambda view: certificate_of(view, recognition),
    )
    runtime.state[JOBS_KEY] = jobs
    await jobs.resume()


async def erase(conn: AsyncConnection, runtime: Runtime, people: Sequence[str]) -> None:
    """`on_erase`: the people's standing awards are withdrawn (`handlers.withdraw_awards_of`)."""
    await withdraw_awards_of(conn, context(runtime.store, role_titles(runtime)), people)


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
    routers=[router],
    publishes=[AwardGranted, AwardWithheld, AwardWithdrawn, AwardRevised],
    description=(
        "Recognises PASS leaders: a policy of minimum requirements per academic year, live "
        "progress, the end-of-year awards run, certificates with verification codes, HEAR and "
        "skills-award exports, and Open Badges 3.0 credentials."
    ),
    on_start=start,
    on_erase=erase,
)
