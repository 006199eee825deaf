"""The recruitment service as the kit sees it: projections, consumed events, routes."""

from __future__ import annotations

from pathlib import Path

from passhub_shared.service import ServiceDefinition

service = ServiceDefinition(
    name="recruitment",
    title="Recruitment",
    migrations=Path(__file__).parent / "migrations" / "versions",
)
