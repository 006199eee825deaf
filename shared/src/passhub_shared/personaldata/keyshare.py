"""The published key bucket: how subscribers open the personal fields of published events.

Published events carry personal fields sealed (`passhub_shared.personaldata.keys`), exactly as they
sit in
the publisher's log. The data keys they need are in the JetStream stream ``PASSHUB_KEYS`` (the
key bucket): one message per key on the subject ``passhub.keys.<service>.<key id>`` (at most
one per subject), each wrapped by the stream key (`PASSHUB_STREAM_KEY`, held by passhub's
services and the integrations authorised to read personal data); read one with a direct get of
the subject's last message. The relay puts a service's new keys in the bucket before it
publishes the events sealed under them, and, once a person is erased, deletes the message: the
server overwrites it in its files (a secure erase), so the events in the stream can never be
opened again. Subscribers cache keys for at most `key_cache_seconds` and drop a key at
once on a ``person_erased`` event.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

import asyncpg
import nats.errors
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError, ServiceUnavailableError
from tenacity import (
    AsyncRetrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential,
)

from passhub_shared.messages.events import Recorded
from passhub_shared.personaldata.keys import DataKey, MasterKeys, StreamKeys
from passhub_shared.personaldata.personal import Privacy

log = logging.getLogger("passhub.keys")

BUCKET = "PASSHUB_KEYS"
SUBJECT_PREFIX = "passhub.keys"


def entry_name(service: str, key_id: str) -> str:
    """The subject of a key's message (also its associated data when wrapped)."""
    return f"{SUBJECT_PREFIX}.{service}.{key_id}"


#: how long a service's start waits for JetStream to answer about the key bucket: in a cluster
#: that is electing a leader, or on a loaded machine, its API requests time out for a while
START_PATIENCE_SECONDS = 60.0


async def key_bucket(js: JetStreamContext, replicas: int = 1) -> KeyBucket:
    """The key bucket, created if missing (`KeyBucket.created` then says so). A JetStream API
    request that times out, or finds JetStream unavailable, is asked again for up to
    `START_PATIENCE_SECONDS`, so a service does not fail to start on a passing hiccup."""
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type((nats.errors.TimeoutError, ServiceUnavailableError)),
        wait=wait_exponential(multiplier=0.25, max=4.0),
        stop=stop_after_delay(START_PATIENCE_SECONDS),
        before_sleep=before_sleep_log(log, logging.WARNING),
        reraise=True,
    ):
        with attempt:
            return await _key_bucket(js, replicas)
    raise AssertionError("unreachable: AsyncRetrying reraises")  # pragma: no cover


async def _key_bucket(js: JetStreamContext, replicas: int) -> KeyBucket:
    created = False
    try:
        await js.stream_info(BUCKET)
    except NotFoundError:
        created = True
        # another service may create it meanwhile
        with contextlib.suppress(BadRequestError):
            await js.add_stream(
                StreamConfig(
                    name=BUCKET,
                    subjects=[f"{SUBJECT_PREFIX}.>"],
                    storage=StorageType.FILE,
                    max_msgs_per_subject=1,
                    num_replicas=replicas,
                    allow_direct=True,
                    deny_delete=False,
                )
            )
    return KeyBucket(js, created)


class KeyBucket:
    """The key bucket on one JetStream context."""

    def __init__(self, js: JetStreamContext, created: bool = False) -> None:
        self.js = js
        #: the bucket did not exist: keys shared into a bucket lost since must be put again
        self.created = created

    async def put(self, name: str, value: bytes) -> None:
        await self.js.publish(name, value, stream=BUCKET)

    async def get(self, name: str) -> tuple[int, bytes] | None:
        try:
            msg = await self.js.get_last_msg(BUCKET, name)
        except NotFoundError:
            return None
        return (msg.seq or 0), (msg.data or b"")

    async def erase(self, name: str) -> None:
        """Remove a key for good: its message is deleted with the server's secure erase (the
        bytes are overwritten in the stream's files)."""
        found = await self.get(name)
        if found is not None:
            with contextlib.suppress(NotFoundError):
                await self.js.delete_msg(BUCKET, found[0])


_UNSHARED = "SELECT key_id, wrapped, master_id FROM subject_keys WHERE shared_at IS NULL LIMIT 500"
_UNPURGED = "SELECT key_id FROM erased_subjects WHERE purged_at IS NULL LIMIT 500"


class KeyPublisher:
    """The relay's side: new keys into the bucket, erased keys out of it, before publishing."""

    def __init__(
        self, service: str, masters: MasterKeys, stream_keys: StreamKeys, replicas: int = 1
    ) -> None:
        self.service = service
        self.masters = masters
        self.stream_keys = stream_keys
        self.replicas = replicas
        self._kv: KeyBucket | None = None

    async def sync(self, conn: asyncpg.Connection, js: JetStreamContext) -> None:
        """Erased keys out of the bucket first, then new keys in. After a failure the next call
        looks at the bucket afresh (it may have been lost, and is then filled again)."""
        try:
            await self._sync(conn, js)
        except BaseException:
            self._kv = None
            raise

    async def _sync(self, conn: asyncpg.Connection, js: JetStreamContext) -> None:
        if self._kv is None:
            kv = await key_bucket(js, self.replicas)
            # A bucket lost or rebuilt since keys were shared: every live key goes in again.
            sample = await conn.fetchval(
                "SELECT key_id FROM subject_keys WHERE shared_at IS NOT NULL LIMIT 1"
            )
            if sample is not None and await kv.get(entry_name(self.service, sample)) is None:
                log.warning("the key bucket lacks %s's keys: putting them in again", self.service)
                await conn.execute("UPDATE subject_keys SET shared_at = NULL")
            self._kv = kv
        kv = self._kv
        while rows := await conn.fetch(_UNPURGED):
            for row in rows:
                await kv.erase(entry_name(self.service, row["key_id"]))
            await conn.execute(
                "UPDATE erased_subjects SET purged_at = now() WHERE key_id = ANY($1::text[])",
                [r["key_id"] for r in rows],
            )
        while rows := await conn.fetch(_UNSHARED):
            for row in rows:
                name = entry_name(self.service, row["key_id"])
                raw = self.masters.unwrap(row["key_id"], bytes(row["wrapped"]), row["master_id"])
                await kv.put(name, self.stream_keys.wrap(name, raw))
            await conn.execute(
                "UPDATE subject_keys SET shared_at = now() WHERE key_id = ANY($1::text[])",
                [r["key_id"] for r in rows],
            )


class ForeignKeys:
    """A consumer's side: opens the sealed fields of events other services published, with
    keys from the bucket (cached for `ttl` seconds; an absent key is an erased person)."""

    def __init__(self, stream_keys: StreamKeys, privacy: Privacy, ttl: float = 60.0) -> None:
        self.stream_keys = stream_keys
        self.privacy = privacy
        self.ttl = ttl
        self._kv: KeyBucket | None = None
        self._cache: dict[str, tuple[float, DataKey | None]] = {}

    def bind(self, kv: KeyBucket) -> None:
        self._kv = kv

    def forget(self, key_ids: Sequence[str]) -> None:
        for kid in key_ids:
            self._cache.pop(kid, None)

    async def open(self, events: list[Recorded]) -> list[Recorded]:
        """Open `events` in place (copies of the received events: the caller owns them)."""
        kids = self.privacy.key_ids(events)
        if not kids:
            return events
        now = time.monotonic()
        keys: dict[str, DataKey] = {}
        by_kid_origin = _origins_of(events, self.privacy)
        for kid in kids:
            cached = self._cache.get(kid)
            if cached is not None and now - cached[0] < self.ttl:
                if cached[1] is not None:
                    keys[kid] = cached[1]
                continue
            key = await self._fetch(by_kid_origin.get(kid, ""), kid)
            self._cache[kid] = (now, key)
            if key is not None:
                keys[kid] = key
        if len(self._cache) > 200_000:
            self._cache.clear()
        return self.privacy.open_with(keys, events)

    async def _fetch(self, origin: str, kid: str) -> DataKey | None:
        if self._kv is None or not origin:
            return None
        name = entry_name(origin, kid)
        found = await self._kv.get(name)
        if found is None or not found[1]:
            return None
        return DataKey(kid, self.stream_keys.unwrap(name, found[1]))


def _origins_of(events: Sequence[Recorded], privacy: Privacy) -> dict[str, str]:
    found: dict[str, str] = {}
    for event in events:
        for kid in privacy.key_ids([event]):
            found.setdefault(kid, event.origin)
    return found


def stream_keys_of(settings: Any) -> StreamKeys:
    return StreamKeys(settings.stream_key, settings.stream_previous_keys)


def master_keys_of(settings: Any) -> MasterKeys:
    return MasterKeys(settings.privacy_master_key, settings.privacy_previous_master_keys)
