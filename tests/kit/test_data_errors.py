"""The last line of defence: a value PostgreSQL or the driver cannot hold, that got past the
request guard, is a 422 `out_of_range` (the transaction it broke has rolled back), not a 500.
The errors are PostgreSQL's own, from a real server."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from passhub_shared.web.guards import out_of_range_response

STATEMENTS = {
    # DatetimeFieldOverflowError (22008)
    "datetime overflow": ("SELECT make_timestamptz(300000, 1, 1, 0, 0, 0)", {}),
    # UntranslatableCharacterError (22P05)
    "NUL in jsonb": ("SELECT CAST(:v AS jsonb)", {"v": '{"a": "\\u0000"}'}),
    # CharacterNotInRepertoireError (22021)
    "NUL in text": ("SELECT convert_from('\\x6100'::bytea, 'UTF8')", {}),
    # NumericValueOutOfRangeError (22003)
    "integer out of range": ("SELECT CAST(:v AS integer)", {"v": "99999999999"}),
    # asyncpg's own DataError: a value it cannot encode for the parameter's type
    "bigint parameter": ("SELECT CAST(:v AS bigint)", {"v": 2**70}),
}


@pytest.mark.parametrize("name", sorted(STATEMENTS))
async def test_the_databases_data_errors_are_a_422(database_url: str, name: str) -> None:
    statement, params = STATEMENTS[name]
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError) as raised:
                await conn.execute(text(statement), params)
    finally:
        await engine.dispose()
    response = out_of_range_response(raised.value)
    assert response is not None and response.status_code == 422
    body = json.loads(bytes(response.body))
    assert body["code"] == "out_of_range" and "nothing was changed" in body["detail"]


async def test_other_database_errors_are_left_alone(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            with pytest.raises(DBAPIError) as raised:
                await conn.execute(text("SELECT * FROM no_such_table"))
    finally:
        await engine.dispose()
    assert out_of_range_response(raised.value) is None


def test_pythons_overflow_is_a_422() -> None:
    response = out_of_range_response(OverflowError("date value out of range"))
    assert response is not None and response.status_code == 422
