"""Erasure, subject access and retention in one service's database (docs/privacy.md).

- `erase`: in one transaction that holds replay's locks (nothing appends meanwhile), run the
  service's own erasure hook (recognition withdraws the person's awards), delete the people's
  keys and leave tombstones, append ``person_erased`` (the key ids, nothing else), record the
  audit row, and rebuild every projection from the log, in which the erased people now read as
  placeholders. The relay then takes their keys out of the published key bucket.
- `subject_access`: everything the service holds about a person: their events (own and copies
  of other services'), opened, and the rows of its tables that name them.
- `last_activity_by_kind`: when each person was last named in the service's log, per kind of
  data, for retention (`passhub_shared.personaldata.retention`).

Every one of them writes an audit row (who, when, why, how many people), never whom.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_shared.messages.events import Event, Metadata, Recorded, UnknownEventType, event_class
from passhub_shared.operations.replay import projection_tables, rebuild
from passhub_shared.personaldata.keys import TOKEN_PREFIX, DataKey
from passhub_shared.personaldata.retention import OTHER, kind_of

#: the stream of a service's `person_erased` events
PRIVACY_STREAM = "privacy"


class PersonErased(Event):
    """Published by every service when it erased people: the ids of the keys it deleted. A
    subscriber drops those keys and anything it derived from fields sealed under them."""

    event_name: ClassVar[str] = "person_erased"
    key_ids: list[str]


def person_erased_class(service: str) -> type[PersonErased]:
    """The `person_erased` event of `service` (registered once per service)."""
    try:
        found = event_class(f"passhub.{service}.person_erased.v1")
    except UnknownEventType:
        found = type(
            f"{service.title()}PersonErased",
            (PersonErased,),
            {"service": service, "__module__": __name__},
        )
    assert issubclass(found, PersonErased)
    return found


for _service in ("recruitment", "sessions", "attendance", "recognition"):
    person_erased_class(_service)


#: a service's own erasure step, run in the erasure's transaction before the keys go (e.g.
#: withdraw the person's awards): (connection, runtime, subjects)
EraseHook = Callable[[AsyncConnection, Any, Sequence[str]], Awaitable[None]]


async def audit(
    conn: AsyncConnection,
    action: str,
    actor: str,
    reason: str,
    people: int,
    detail: dict[str, Any] | None = None,
) -> None:
    await conn.exec_driver_sql(
        "INSERT INTO privacy_audit (action, actor, reason, people, detail)"
        " VALUES ($1, $2, $3, $4, $5::jsonb)",
        (action, actor, reason, people, orjson.dumps(detail or {}).decode()),
    )


@dataclass
class ErasureReport:
    service: str
    people: int
    keys_deleted: int
    events_in_log: int
    seconds: float
    tables: list[str] = field(default_factory=list)


async def erase(
    runtime: Any,
    subjects: Sequence[str],
    *,
    reason: str,
    actor: str,
    action: str = "erasure",
) -> ErasureReport:
    """Erase `subjects` from the service `runtime` runs (see the module's docstring)."""
    store = runtime.store
    privacy = store.privacy
    assert privacy is not None, "erasure needs the service's key table"
    people = sorted({s.strip() for s in subjects if s and s.strip()})
    hook: EraseHook | None = getattr(runtime.definition, "on_erase", None)
    deleted: dict[str, str] = {}

    async def prepare(conn: AsyncConnection) -> None:
        nonlocal deleted
        if hook is not None and people:
            await hook(conn, runtime, people)
        deleted = await privacy.keys.erase(conn, people)
        if deleted:
            cls = person_erased_class(store.service)
            version = await store.version(conn, PRIVACY_STREAM)
            await store.append(
                conn,
                PRIVACY_STREAM,
                version,
                [cls(key_ids=sorted(deleted.values()))],
                Metadata(actor=None),
            )
        await audit(conn, action, actor, reason, len(people), {"keys_deleted": len(deleted)})
        privacy.forget()

    report = await rebuild(runtime.engine, store, commit=True, prepare=prepare)
    return ErasureReport(
        store.service,
        len(people),
        len(deleted),
        report.events,
        report.seconds,
        sorted(report.after),
    )


# -- subject access ----------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    return orjson.loads(
        orjson.dumps(value, default=str, option=orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS)
    )


async def subject_access(runtime: Any, subject: str, *, actor: str, reason: str) -> dict[str, Any]:
    """What the service holds about `subject`, as JSON-ready data; audited."""
    store = runtime.store
    privacy = store.privacy
    assert privacy is not None
    async with runtime.engine.begin() as conn:
        keys = await privacy.keys.for_subjects(conn, [subject], create=False)
        key = keys.get(subject)
        key_id = key.key_id if key is not None else None
        held: dict[str, Any] = {"service": store.service, "events": [], "tables": {}}
        if not isinstance(key, DataKey):
            held["status"] = "erased" if key is not None else "unknown"
        else:
            held["status"] = "held"
            pattern = f"%{TOKEN_PREFIX}{key_id}:%"
            rows = await conn.exec_driver_sql(
                "SELECT position, id, stream_id, stream_version, type, origin, data,"
                " occurred_at, correlation_id, causation_id, traceparent, actor FROM events"
                " WHERE data::text LIKE $1 OR actor LIKE $1 ORDER BY position",
                (pattern,),
            )
            found = [
                Recorded(
                    position=r[0],
                    id=r[1],
                    stream_id=r[2],
                    stream_version=r[3],
                    type=r[4],
                    origin=r[5],
                    data=r[6],
                    occurred_at=r[7],
                    correlation_id=r[8],
                    causation_id=r[9],
                    traceparent=r[10],
                    actor=r[11],
                )
                for r in rows
            ]
            for e in await privacy.open(conn, found):
                held["events"].append(
                    {
                        "id": str(e.id),
                        "type": e.type,
                        "from": e.origin,
                        "time": e.occurred_at,
                        "by_them": e.actor == subject,
                        "data": e.data,
                    }
                )
            held["tables"] = await _rows_naming(conn, runtime, subject)
        await audit(conn, "subject_access", actor, reason, 1, {"status": held["status"]})
    return _jsonable(held)


async def _rows_naming(conn: AsyncConnection, runtime: Any, subject: str) -> dict[str, Any]:
    """Rows of the service's projection tables with a text column equal to `subject` (or a
    text array holding it)."""
    out: dict[str, Any] = {}
    for table in projection_tables(runtime.store.projections):
        conditions = []
        for column in table.columns:
            kind = str(column.type).upper()
            if kind in ("TEXT", "VARCHAR") or kind.startswith("VARCHAR"):
                conditions.append(f'"{column.name}" = :s')
            elif kind in ("TEXT[]", "ARRAY", "VARCHAR[]"):
                conditions.append(f':s = ANY("{column.name}")')
        if not conditions:
            continue
        rows = await conn.execute(
            text(f'SELECT * FROM "{table.name}" WHERE ' + " OR ".join(conditions)),
            {"s": subject},
        )
        found = [dict(r._mapping) for r in rows]
        if found:
            out[table.name] = found
    return out


# -- retention ---------------------------------------------------------------------------------

_LAST_ACTIVITY = r"""
WITH named AS (
    SELECT m[1] AS key_id, e.type, max(e.occurred_at) AS last
    FROM events e,
         regexp_matches(e.data::text || ' ' || coalesce(e.actor, ''),
                        'pii:([0-9a-f]{20}):', 'g') AS m
    GROUP BY 1, 2
)
SELECT k.subject, n.type, coalesce(n.last, k.created_at) AS last
FROM subject_keys k LEFT JOIN named n ON n.key_id = k.key_id
"""


async def last_activity_by_kind(runtime: Any) -> dict[str, dict[str, dt.datetime]]:
    """subject -> kind of data (`passhub_shared.personaldata.retention`) -> when the service's log
    last
    named them in an event of that kind (a key never used in an event: its creation, as
    `other`)."""
    out: dict[str, dict[str, dt.datetime]] = {}
    async with runtime.engine.connect() as conn:
        for subject, type_, last in await conn.exec_driver_sql(_LAST_ACTIVITY):
            kinds = out.setdefault(subject, {})
            kind = kind_of(type_) if type_ is not None else OTHER
            if kind not in kinds or last > kinds[kind]:
                kinds[kind] = last
    return out


async def last_activity(runtime: Any) -> dict[str, dt.datetime]:
    """subject -> when the service's log last named them (their key's creation if never)."""
    return {s: max(k.values()) for s, k in (await last_activity_by_kind(runtime)).items()}


async def audit_rows(runtime: Any) -> list[dict[str, Any]]:
    async with runtime.engine.connect() as conn:
        rows = await conn.exec_driver_sql(
            "SELECT id, at, action, actor, reason, people, detail FROM privacy_audit ORDER BY id"
        )
        return [_jsonable(dict(r._mapping)) for r in rows]
