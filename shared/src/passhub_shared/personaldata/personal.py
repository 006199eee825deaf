"""Personal fields in events, marked on the models, sealed at append and opened on load.

An event model says what is personal with annotations on its fields:

- ``StudentNumber`` (``Annotated[str, SUBJECT]``): the person the model is about. Sealed under
  that person's own key; every ``Personal`` field of the model (and of models nested in it that
  name no subject of their own) is sealed under the same key.
- ``Personal`` (e.g. ``Annotated[str, Personal()]``): a personal field (a name, an e-mail, a
  reason, free text, a mark). When the key is gone it reads as its placeholder
  (``"[erased]"`` unless the field says otherwise).
- ``StudentNumbers`` (``Annotated[list[str], SUBJECTS]``): a list of people, each sealed
  under their own key.

A model whose subject is None (anonymous feedback) has nothing to key its personal fields to:
they are kept as they are.

`Privacy` does the work for one service's store: `seal` before the events are written (one
query for the batch's keys, creating new people's keys), `open` after they are read (one query
for the batch's key ids, or a snapshot of every key for a replay). An erased person's key is
gone, so their tokens open to placeholders: the identifier becomes ``erased-<key id>``,
distinct per person and tied to nobody, so counts stay right.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, cached_property
from typing import Annotated, Any, Union
from uuid import UUID

import orjson
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_shared.messages.events import Recorded, UnknownEventType, event_class
from passhub_shared.personaldata.keys import (
    TOKEN_PREFIX,
    DataKey,
    Erased,
    MasterKeys,
    SubjectKeys,
    erased_placeholder,
    key_id_of,
    opened,
)
from passhub_shared.web.offload import off_loop

__all__ = [
    "SUBJECT",
    "SUBJECTS",
    "OptionalPersonalText",
    "Personal",
    "PersonalText",
    "Plan",
    "Privacy",
    "StudentNumber",
    "StudentNumbers",
    "plan_of",
]


class _Subject:
    def __repr__(self) -> str:
        return "SUBJECT"


class _Subjects:
    def __repr__(self) -> str:
        return "SUBJECTS"


SUBJECT = _Subject()
SUBJECTS = _Subjects()


@dataclass(frozen=True)
class Personal:
    """Marks a personal field; `placeholder` is what it reads as once its person is erased."""

    placeholder: Any = "[erased]"


StudentNumber = Annotated[str, SUBJECT]
OptionalStudentNumber = Annotated[str | None, SUBJECT]
StudentNumbers = Annotated[list[str], SUBJECTS]
PersonalText = Annotated[str, Personal()]
OptionalPersonalText = Annotated[str | None, Personal()]


@dataclass(frozen=True)
class Plan:
    """Where a model's personal data is: compiled once per model class."""

    subject: str | None = None
    subjects: tuple[str, ...] = ()
    personal: tuple[tuple[str, Any], ...] = ()
    #: (field, is a list, the nested model's plan)
    nested: tuple[tuple[str, bool, Plan], ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.subject or self.subjects or self.personal or self.nested)

    @cached_property
    def fields(self) -> tuple[tuple[str, Any], ...]:
        """The single sealed fields, each with what it reads as once erased: the subject first
        (its placeholder `_IDENTITY`: ``erased-<key id>``), then the personal fields."""
        head = ((self.subject, _IDENTITY),) if self.subject is not None else ()
        return head + self.personal

    @cached_property
    def flat(self) -> bool:
        """Only single fields, no list of people and no nested model (a sign-in, an
        appointment): opened by the fast path of `Privacy.open_with`."""
        return not (self.subjects or self.nested)


def _model_in(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The pydantic model `annotation` holds (directly, in a list, or optional), and whether in
    a list."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        for arg in typing.get_args(annotation):
            model, many = _model_in(arg)
            if model is not None:
                return model, many
        return None, False
    if origin in (list, tuple, Sequence):
        args = typing.get_args(annotation)
        if args:
            model, _ = _model_in(args[0])
            return model, model is not None
        return None, False
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


@cache
def plan_of(model: type[BaseModel]) -> Plan:
    subject: str | None = None
    subjects: list[str] = []
    personal: list[tuple[str, Any]] = []
    nested: list[tuple[str, bool, Plan]] = []
    for name, field in model.model_fields.items():
        marks = field.metadata
        if any(m is SUBJECT for m in marks):
            if subject is not None:
                raise TypeError(f"{model.__name__} names two subjects: {subject}, {name}")
            subject = name
            continue
        if any(m is SUBJECTS for m in marks):
            subjects.append(name)
            continue
        mark = next((m for m in marks if isinstance(m, Personal)), None)
        if mark is not None:
            personal.append((name, mark.placeholder))
            continue
        inner, many = _model_in(field.annotation)
        if inner is not None and not (p := plan_of(inner)).empty:
            nested.append((name, many, p))
    return Plan(subject, tuple(subjects), tuple(personal), tuple(nested))


_EMPTY = Plan()
#: stands for "the placeholder of an identifier" (``erased-<key id>``) where a field's own
#: placeholder would go
_IDENTITY: Any = object()


@cache
def _plan_for_type(type_name: str) -> Plan:
    try:
        return plan_of(event_class(type_name))
    except UnknownEventType:
        return _EMPTY


# -- walking a body ----------------------------------------------------------------------------


def _subjects_in(data: Mapping[str, Any], plan: Plan, outer: str | None, out: set[str]) -> None:
    subject = outer
    if plan.subject is not None:
        value = data.get(plan.subject)
        subject = value if isinstance(value, str) and not _is_token(value) else None
        if subject is not None:
            out.add(subject)
    for name in plan.subjects:
        for value in data.get(name) or ():
            if isinstance(value, str) and not _is_token(value):
                out.add(value)
    for name, many, inner in plan.nested:
        value = data.get(name)
        if value is None:
            continue
        for item in value if many else (value,):
            if isinstance(item, Mapping):
                _subjects_in(item, inner, subject, out)


def _is_token(value: str) -> bool:
    return value.startswith(TOKEN_PREFIX)


Sealer = Callable[[str, Any, Any], Any]


def _seal(data: Mapping[str, Any], plan: Plan, seal: Sealer, outer: str | None) -> dict[str, Any]:
    out = dict(data)
    subject = outer
    if plan.subject is not None:
        value = data.get(plan.subject)
        subject = value if isinstance(value, str) and not _is_token(value) else None
        if subject is not None:
            out[plan.subject] = seal(subject, subject, _IDENTITY)
    if subject is not None:
        for name, placeholder in plan.personal:
            value = data.get(name)
            if value is not None and not (isinstance(value, str) and _is_token(value)):
                out[name] = seal(subject, value, placeholder)
    for name in plan.subjects:
        values = data.get(name)
        if values:
            out[name] = [
                seal(v, v, _IDENTITY) if isinstance(v, str) and not _is_token(v) else v
                for v in values
            ]
    for name, many, inner in plan.nested:
        value = data.get(name)
        if value is None:
            continue
        if many:
            out[name] = [
                _seal(item, inner, seal, subject) if isinstance(item, Mapping) else item
                for item in value
            ]
        elif isinstance(value, Mapping):
            out[name] = _seal(value, inner, seal, subject)
    return out


def _key_ids_in(data: Mapping[str, Any], plan: Plan, out: set[str]) -> None:
    if plan.subject is not None:
        _add_kid(data.get(plan.subject), out)
    for name, _ in plan.personal:
        _add_kid(data.get(name), out)
    for name in plan.subjects:
        for value in data.get(name) or ():
            _add_kid(value, out)
    for name, many, inner in plan.nested:
        value = data.get(name)
        if value is None:
            continue
        for item in value if many else (value,):
            if isinstance(item, Mapping):
                _key_ids_in(item, inner, out)


def _add_kid(value: Any, out: set[str]) -> None:
    if isinstance(value, str) and (kid := key_id_of(value)) is not None:
        out.add(kid)


# -- the service's side ------------------------------------------------------------------------


class Privacy:
    """Seals and opens one service's events with its key table."""

    def __init__(self, masters: MasterKeys) -> None:
        self.keys = SubjectKeys(masters)
        #: opened tokens: a token always opens to the same value while its key exists, and
        #: whether it exists is asked of the table for every batch
        self._opened: dict[str, Any] = {}
        self._sealed: dict[tuple[str, bytes], str] = {}
        self._names: dict[str, str] = {}
        self._plans: dict[str, Plan] = {}

    def forget(self) -> None:
        """Drop the caches of opened and sealed values (after an erasure in this process)."""
        self._opened.clear()
        self._sealed.clear()
        self.keys.forget()

    @staticmethod
    def plan(type_name: str) -> Plan:
        return _plan_for_type(type_name)

    # sealing ---------------------------------------------------------------------------------
    def subjects(self, batch: Sequence[Recorded]) -> set[str]:
        found: set[str] = set()
        for event in batch:
            plan = _plan_for_type(event.type)
            if not plan.empty:
                _subjects_in(event.data, plan, None, found)
            if event.actor:
                found.add(event.actor)
        return found

    async def seal(
        self, conn: AsyncConnection, batch: Sequence[Recorded], *, large: bool = False
    ) -> tuple[list[Recorded], list[Recorded]]:
        """(written, seen): copies of `batch` with every personal field (and the actor) sealed
        under its person's key, which is what is written to the log; and the batch as the
        projections must see it: as it is, except that the fields of an erased person (an
        event about them still in flight) are already their placeholders, so that nothing
        readable of them reaches a table. One query (two with new people). `large`: an
        import's thousands of rows, sealed on a worker thread, off the event loop."""
        wanted = await off_loop(self.subjects, batch) if large else self.subjects(batch)
        if not wanted:
            return list(batch), list(batch)
        keys = await self.keys.for_subjects(conn, wanted, large=large)
        sealed_cache = self._sealed
        if len(sealed_cache) > 200_000:
            sealed_cache.clear()
        erased = any(isinstance(k, Erased) for k in keys.values())

        def seal(subject: str, value: Any, placeholder: Any) -> Any:
            key = keys[subject]
            if isinstance(key, Erased):
                return key.placeholder if placeholder is _IDENTITY else placeholder
            plain = orjson.dumps(value)
            cached = sealed_cache.get((key.key_id, plain))
            if cached is None:
                cached = sealed_cache[(key.key_id, plain)] = key.seal(plain)
            return cached

        def hide(subject: str, value: Any, placeholder: Any) -> Any:
            key = keys[subject]
            if isinstance(key, Erased):
                return key.placeholder if placeholder is _IDENTITY else placeholder
            return value

        def both() -> tuple[list[Recorded], list[Recorded]]:
            written: list[Recorded] = []
            seen: list[Recorded] = []
            for e in batch:
                plan = _plan_for_type(e.type)
                written.append(_with(e, plan, seal))
                seen.append(_with(e, plan, hide) if erased else e)
            return written, seen

        return await off_loop(both) if large else both()

    async def pseudonyms(self, conn: AsyncConnection, subjects: Iterable[str]) -> dict[str, str]:
        """A stable, meaningless name for each subject: their key id (created if new), for
        stream ids and the like, so the log never names a person outside a sealed field. It
        never changes, erasure included (the tombstone keeps it), so it is cached for the
        process and costs no query once known: the one query per batch is `seal`'s."""
        out: dict[str, str] = {}
        missing: list[str] = []
        for subject in subjects:
            name = self._names.get(subject)
            if name is None:
                missing.append(subject)
            else:
                out[subject] = name
        if missing:
            if len(self._names) > 500_000:
                self._names.clear()
            for subject, key in (await self.keys.for_subjects(conn, missing)).items():
                out[subject] = self._names[subject] = key.key_id
        return out

    async def sealed(self, conn: AsyncConnection, subject: str) -> str | None:
        """`subject` as it is sealed in the log (as an actor, say), to look it up by equality;
        None if they have no key."""
        key = (await self.keys.for_subjects(conn, [subject], create=False)).get(subject)
        return key.seal(orjson.dumps(subject)) if isinstance(key, DataKey) else None

    async def open_rows(
        self, conn: AsyncConnection, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Open the `data` and `actor` of rows read from `events` (with a `type`) in place."""
        batch = [
            Recorded(
                _NO_ID,
                r.get("stream_id", ""),
                0,
                r["type"],
                "",
                r["data"],
                _NO_TIME,
                0,
                None,
                None,
                None,
                r.get("actor"),
            )
            for r in rows
        ]
        await self.open(conn, batch)
        for row, event in zip(rows, batch, strict=True):
            row["data"] = event.data
            if "actor" in row:
                row["actor"] = event.actor
        return rows

    async def pseudonym(self, conn: AsyncConnection, subject: str) -> str:
        return (await self.pseudonyms(conn, [subject]))[subject]

    # opening ---------------------------------------------------------------------------------
    def key_ids(self, batch: Iterable[Recorded]) -> set[str]:
        found: set[str] = set()
        for event in batch:
            plan = _plan_for_type(event.type)
            if not plan.empty:
                _key_ids_in(event.data, plan, found)
            if event.actor:
                _add_kid(event.actor, found)
        return found

    async def open(self, conn: Any, batch: list[Recorded]) -> list[Recorded]:
        """Open `batch` in place (its events are fresh from the log): one query for its keys."""
        kids = self.key_ids(batch)
        if not kids:
            return batch
        known = self.keys.known(conn)
        missing = kids - known.keys()
        if missing:  # the keys this transaction has seen already count: no query for them
            known = {**known, **await self.keys.by_ids(conn, missing)}
        return self.open_with(known, batch)

    def open_with(self, keys: Mapping[str, DataKey], batch: list[Recorded]) -> list[Recorded]:
        """Open `batch` in place with `keys` (a snapshot, or the batch's own lookup).

        A token always opens to the same value while its key exists, so each distinct token is
        decrypted once per process (`_opened`) and then only looked up; whether its key still
        exists is asked of `keys` every time, so an erased person's tokens read as
        placeholders at once. The bodies are changed in place (they are fresh from the log or
        the wire): a replay opens hundreds of thousands of events, and copying each body would
        cost more than opening it."""
        if len(self._opened) > 500_000:
            self._opened.clear()
        _Opener(keys, self._opened).events(batch, self._plans)
        return batch


class _Opener:
    """Opens tokens with one set of keys, through the process's cache of opened tokens."""

    __slots__ = ("cache", "get", "keys")

    def __init__(self, keys: Mapping[str, DataKey], cache: dict[str, Any]) -> None:
        self.keys = keys
        self.cache = cache
        self.get = cache.get

    def decrypt(self, token: str, placeholder: Any) -> Any:
        """`token` opened (or its placeholder, its key being gone), and cached."""
        kid = key_id_of(token)
        key = self.keys.get(kid) if kid is not None else None
        if key is None:
            return erased_placeholder(kid or "") if placeholder is _IDENTITY else placeholder
        value = self.get(token, _MISSING)
        if value is _MISSING:
            raw = opened(key, token)
            if raw is None:
                return erased_placeholder(key.key_id) if placeholder is _IDENTITY else placeholder
            value = self.cache[token] = orjson.loads(raw)
        return value

    def open(self, token: str, placeholder: Any) -> Any:
        # The key id of a token is its characters 4 to 24 (`new_key_id`). A token under a key
        # id of another length is never found in `keys` by this slice: `decrypt` reads it.
        value = self.get(token, _MISSING)
        if value is _MISSING or token[_KID] not in self.keys:
            return self.decrypt(token, placeholder)
        return value

    def into(self, data: dict[str, Any], plan: Plan) -> None:
        """Open the sealed fields of `data` (laid out as `plan` says) in place."""
        for name, placeholder in plan.fields:
            token = data.get(name)
            if token.__class__ is str and token.startswith(TOKEN_PREFIX):
                data[name] = self.open(token, placeholder)
        for name in plan.subjects:
            values = data.get(name)
            if values:
                data[name] = [
                    self.open(v, _IDENTITY) if isinstance(v, str) and _is_token(v) else v
                    for v in values
                ]
        for name, many, inner in plan.nested:
            value = data.get(name)
            if value is None:
                continue
            items = value if many else (value,)
            if inner.flat:
                self.rows(items, inner.fields)
                continue
            for item in items:
                if isinstance(item, dict):
                    self.into(item, inner)

    def rows(self, items: Iterable[Any], fields: tuple[tuple[str, Any], ...]) -> None:
        """Open `fields` of each dict of `items` (an import's thousands of rows) in place: the
        loop of `into` written out, no call per row."""
        get, keys, decrypt = self.get, self.keys, self.decrypt
        for item in items:
            if item.__class__ is not dict:
                continue
            for name, placeholder in fields:
                token = item.get(name)
                if token.__class__ is str and token.startswith(TOKEN_PREFIX):
                    value = get(token, _MISSING)
                    if value is _MISSING or token[_KID] not in keys:
                        value = decrypt(token, placeholder)
                    item[name] = value

    def events(self, batch: Sequence[Recorded], plans: dict[str, Plan]) -> None:
        get, keys, decrypt = self.get, self.keys, self.decrypt
        for e in batch:
            plan = plans.get(e.type)
            if plan is None:
                plan = plans[e.type] = _plan_for_type(e.type)
            if plan.flat:
                # the common case (a sign-in): a few fields, their tokens cached; `open`
                # written out, one call fewer per field of every event
                data = e.data
                for name, placeholder in plan.fields:
                    token = data.get(name)
                    if token.__class__ is str and token.startswith(TOKEN_PREFIX):
                        value = get(token, _MISSING)
                        if value is _MISSING or token[_KID] not in keys:
                            value = decrypt(token, placeholder)
                        data[name] = value
            else:
                self.into(e.data, plan)
            actor = e.actor
            if actor and actor.startswith(TOKEN_PREFIX):
                e.actor = self.open(actor, _IDENTITY)


def _with(e: Recorded, plan: Plan, seal: Sealer) -> Recorded:
    """`e` with its personal fields and actor passed through `seal` (`e` itself if unchanged)."""
    data = e.data if plan.empty else _seal(e.data, plan, seal, None)
    actor = seal(e.actor, e.actor, _IDENTITY) if e.actor else e.actor
    if data == e.data and actor == e.actor:
        return e
    return Recorded(
        e.id, e.stream_id, e.stream_version, e.type, e.origin, data, e.occurred_at, e.position,
        e.correlation_id, e.causation_id, e.traceparent, actor,
    )  # fmt: skip


_MISSING = object()
#: where a token's key id is (`pii:` and 20 characters: `keys.new_key_id`)
_KID = slice(len(TOKEN_PREFIX), len(TOKEN_PREFIX) + 20)
_NO_ID = UUID(int=0)
_NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)
