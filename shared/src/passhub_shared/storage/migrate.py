"""Run a service's Alembic migrations (the kit's branch and the service's own) to `heads`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from passhub_shared.storage import locks

KIT_DIR = Path(__file__).parent / "migrations"


def alembic_config(service_versions: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(KIT_DIR))
    config.set_main_option("version_locations", f"{KIT_DIR / 'versions'} {service_versions}")
    config.set_main_option("path_separator", "space")
    return config


def _upgrade(connection: Connection, config: Config) -> None:
    locks.hold_sync(connection, "passhub-migrate")
    config.attributes["connection"] = connection
    command.upgrade(config, "heads")


async def migrate(database_url: str, service_versions: Path) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade, alembic_config(service_versions))
    finally:
        await engine.dispose()
