"""Each service's `tables.py` (and the kit's `schema.py`) describes exactly what its migrations
create: Alembic's `compare_metadata` against a database migrated from empty, on the real
PostgreSQL of the test fixtures. A column added to a table without a migration, or a migration
that the table definitions do not follow, fails here rather than in production."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
from types import ModuleType
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Index, MetaData, text
from sqlalchemy.ext.asyncio import create_async_engine

from passhub_shared.operations.service import load_service
from passhub_shared.storage.migrate import migrate
from passhub_shared.storage.schema import kit_metadata

SERVICES = ("recruitment", "sessions", "attendance", "recognition")


def _tables_modules(service: str) -> list[ModuleType]:
    """Every `tables` module of the service's package (`tables.py`, `evaluation/tables.py`)."""
    package = importlib.import_module(f"passhub_{service}")
    names = [package.__name__ + ".tables"] + [
        m.name
        for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
        if m.name.endswith(".tables") and m.name != package.__name__ + ".tables"
    ]
    return [importlib.import_module(n) for n in names]


def _described(service: str) -> MetaData:
    """The kit's tables and every table of the service, in one `MetaData`, with the indexes the
    service adds to the kit's tables (`KIT_INDEXES`)."""
    modules = _tables_modules(service)
    described = MetaData()
    for metadata in (kit_metadata, *(m.metadata for m in modules)):
        for table in metadata.tables.values():
            table.to_metadata(described)
    for module in modules:
        for table, name, columns, where in getattr(module, "KIT_INDEXES", ()):
            target = described.tables[table]
            Index(name, *(target.c[c] for c in columns), postgresql_where=text(where))
    return described


def _differences(conn: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(
        conn, opts={"compare_type": True, "compare_server_default": False}
    )
    return [
        diff
        for diff in compare_metadata(context, metadata)
        # Alembic's own version table is the migrations' bookkeeping, not a service table
        if not (diff[0] == "remove_table" and diff[1].name == "alembic_version")
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_the_migrations_create_what_tables_py_describes(service: str, database_url: str) -> None:
    definition = load_service(service)

    async def check() -> list[Any]:
        await migrate(database_url, definition.migrations)
        engine = create_async_engine(database_url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(_differences, _described(service))
        finally:
            await engine.dispose()

    assert asyncio.run(check()) == []
