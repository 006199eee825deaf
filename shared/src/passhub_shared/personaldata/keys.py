"""Per-person data keys, wrapped by a master key (envelope encryption), for crypto-shredding.

Each service keeps its own key table (`subject_keys`): one random 256-bit data key per person
(the *subject*, e.g. a student number) under a random key id, stored wrapped (AES-GCM) by the
master key from `PASSHUB_PRIVACY_MASTER_KEY`. Rotating the master key re-wraps the data keys
(`passhub keys rotate`); the old master stays readable while listed in
`PASSHUB_PRIVACY_PREVIOUS_MASTER_KEYS`. Erasing a person deletes their row and leaves a
tombstone: a keyed digest of the subject (never the subject) and the key id they had.

A value sealed under a data key is a *token*, ``pii:<key id>:<base64url(nonce | ciphertext)>``:
AES-256-GCM with the key id as associated data and a synthetic nonce (an HMAC of the value
under a key derived from the data key), so one value under one key always seals to one token.
That leaks only what the key id already says (two events are about the same person), and lets
readers cache opened tokens: a replay decrypts each person's student number once, not once per
event.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.ext.asyncio import AsyncConnection

from passhub_shared.web.offload import off_loop

TOKEN_PREFIX = "pii:"
#: what an erased person's identifier reads as: distinct per person, tied to nobody
ERASED_PREFIX = "erased-"
_NONCE = 12


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key_id() -> str:
    return secrets.token_hex(10)


def erased_placeholder(key_id: str) -> str:
    return ERASED_PREFIX + key_id


def key_id_of(token: str) -> str | None:
    """The key id of a token, or None when `token` is no token."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    kid, sep, _ = token[len(TOKEN_PREFIX) :].partition(":")
    return kid if sep else None


class DataKey:
    """One person's data key: seals and opens values, deterministically."""

    __slots__ = ("_aad", "_aead", "_mac", "_prefix", "key_id")

    def __init__(self, key_id: str, raw: bytes) -> None:
        self.key_id = key_id
        self._aead = AESGCM(raw)
        self._mac = hashlib.sha256(b"passhub-synthetic-nonce" + raw).digest()
        self._aad = key_id.encode()
        self._prefix = f"{TOKEN_PREFIX}{key_id}:"

    def seal(self, plain: bytes) -> str:
        nonce = hmac.new(self._mac, plain, hashlib.sha256).digest()[:_NONCE]
        return self._prefix + _b64(nonce + self._aead.encrypt(nonce, plain, self._aad))

    def open(self, token: str) -> bytes:
        raw = _unb64(token[len(self._prefix) :])
        return self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], self._aad)


class UnknownMasterKey(LookupError):
    """A data key was wrapped by a master key that is not configured (any more)."""


def _master_bytes(secret: str) -> bytes:
    return hashlib.sha256(b"passhub-master-key" + secret.encode()).digest()


def master_id(secret: str) -> str:
    """A short public name for a master key (not the key): which master wrapped a data key."""
    return hashlib.sha256(b"passhub-master-id" + secret.encode()).hexdigest()[:12]


class MasterKeys:
    """The current master key and any previous ones (still accepted for unwrapping and for
    recognising tombstones, while a rotation completes)."""

    def __init__(self, current: str, previous: Sequence[str] = ()) -> None:
        if not current:
            raise ValueError("a master key is required")
        self.current_id = master_id(current)
        self._keys: dict[str, AESGCM] = {}
        self._digest_keys: list[bytes] = []
        for secret in [current, *previous]:
            if not secret:
                continue
            raw = _master_bytes(secret)
            self._keys.setdefault(master_id(secret), AESGCM(raw))
            self._digest_keys.append(hashlib.sha256(b"passhub-tombstone" + raw).digest())

    def wrap(self, key_id: str, raw: bytes) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        return nonce + self._keys[self.current_id].encrypt(nonce, raw, key_id.encode())

    def unwrap(self, key_id: str, wrapped: bytes, master: str) -> bytes:
        aead = self._keys.get(master)
        if aead is None:
            raise UnknownMasterKey(
                f"data key {key_id} is wrapped by master key {master}, which is not configured"
            )
        return aead.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], key_id.encode())

    def digests(self, subject: str) -> list[bytes]:
        """The tombstone digests of `subject` under each configured master key."""
        data = subject.encode()
        return [hmac.new(k, data, hashlib.sha256).digest() for k in self._digest_keys]

    def digest(self, subject: str) -> bytes:
        return self.digests(subject)[0]


class StreamKeys:
    """The key that wraps data keys for the published key bucket (`PASSHUB_STREAM_KEY`), held
    by passhub's services and by the integrations authorised to read personal fields."""

    def __init__(self, current: str, previous: Sequence[str] = ()) -> None:
        self.current_id = master_id(current)
        self._keys = {master_id(s): AESGCM(_master_bytes(s)) for s in [current, *previous] if s}

    def wrap(self, name: str, raw: bytes) -> bytes:
        nonce = secrets.token_bytes(_NONCE)
        body = nonce + self._keys[self.current_id].encrypt(nonce, raw, name.encode())
        return self.current_id.encode() + b"." + body

    def unwrap(self, name: str, value: bytes) -> bytes:
        kid, _, body = value.partition(b".")
        aead = self._keys.get(kid.decode())
        if aead is None:
            raise UnknownMasterKey(f"bucket entry {name} is wrapped by an unknown stream key")
        return aead.decrypt(body[:_NONCE], body[_NONCE:], name.encode())


@dataclass(frozen=True)
class Erased:
    """A subject that was erased: only the key id they had remains."""

    key_id: str

    @property
    def placeholder(self) -> str:
        return erased_placeholder(self.key_id)


async def _rows(conn: AsyncConnection | asyncpg.Connection, sql: str, *args: Any) -> list[Any]:
    if isinstance(conn, AsyncConnection):
        result = await conn.exec_driver_sql(sql, tuple(args))
        return list(result.all()) if result.returns_rows else []
    return list(await conn.fetch(sql, *args))


_BY_SUBJECT = """
SELECT subject, key_id, wrapped, master_id, NULL::bytea FROM subject_keys
WHERE subject = ANY($1::text[])
UNION ALL
SELECT NULL, key_id, NULL, NULL, digest FROM erased_subjects WHERE digest = ANY($2::bytea[])
"""

_CREATE = """
INSERT INTO subject_keys (subject, key_id, wrapped, master_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[])
ON CONFLICT (subject) DO NOTHING
"""

_BY_ID = "SELECT key_id, wrapped, master_id FROM subject_keys WHERE key_id = ANY($1::text[])"


@dataclass(frozen=True)
class Lookup:
    """The people whose keys a statement should read: `subjects`, and their tombstone digests
    (`by_digest`: digest -> subject)."""

    subjects: list[str]
    by_digest: dict[bytes, str]


def _transaction_cache(conn: Any) -> dict[str, DataKey | Erased] | None:
    """A cache of keys living as long as `conn`'s current transaction."""
    if not isinstance(conn, AsyncConnection):
        return None
    transaction = conn.get_transaction()
    if transaction is None:
        return None
    held = conn.info.get("passhub_keys")
    if held is None or held[0] is not transaction:
        held = conn.info["passhub_keys"] = (transaction, {})
    cache: dict[str, DataKey | Erased] = held[1]
    return cache


class SubjectKeys:
    """The key table of one service's database. Every method is one query, or two when new
    people appear; unwrapped keys are cached by (key id, wrapped bytes), but whether a key
    still exists is asked of the table every time, so an erasure elsewhere is seen at once."""

    def __init__(self, masters: MasterKeys) -> None:
        self.masters = masters
        self._unwrapped: dict[tuple[str, bytes], DataKey] = {}

    def forget(self) -> None:
        self._unwrapped.clear()

    def _key(self, key_id: str, wrapped: bytes, master: str) -> DataKey:
        found = self._unwrapped.get((key_id, wrapped))
        if found is None:
            if len(self._unwrapped) > 200_000:
                self._unwrapped.clear()
            found = DataKey(key_id, self.masters.unwrap(key_id, bytes(wrapped), master))
            self._unwrapped[(key_id, bytes(wrapped))] = found
        return found

    async def for_subjects(
        self,
        conn: AsyncConnection,
        subjects: Iterable[str],
        *,
        create: bool = True,
        large: bool = False,
    ) -> dict[str, DataKey | Erased]:
        """The key of each subject, created if new (unless erased, or `create` is False: a
        subject with no key is then left out). `large`: thousands of people (an import); the
        hashing, wrapping and unwrapping run on a worker thread, off the event loop."""
        asked = set(subjects)
        if not asked:
            return {}
        # Within one transaction a person's key does not change (an erasure takes replay's
        # locks, which wait for this transaction): the stream ids and the append of one batch
        # share one lookup.
        cache = _transaction_cache(conn)
        found: dict[str, DataKey | Erased] = {}
        if cache is not None:
            for subject in asked:
                if (hit := cache.get(subject)) is not None:
                    found[subject] = hit
        wanted = sorted(asked - found.keys())
        if not wanted:
            return found

        def digests() -> dict[bytes, str]:
            by_digest: dict[bytes, str] = {}
            for subject in wanted:
                for d in self.masters.digests(subject):
                    by_digest[d] = subject
            return by_digest

        def take(rows: Sequence[Any], by_digest: Mapping[bytes, str]) -> None:
            for row in rows:
                if row[4] is not None:
                    found[by_digest[bytes(row[4])]] = Erased(row[1])
                else:
                    found[row[0]] = self._key(row[1], row[2], row[3])

        def new_keys(count: int) -> tuple[list[str], list[bytes]]:
            ids = [new_key_id() for _ in range(count)]
            raws = [secrets.token_bytes(32) for _ in range(count)]
            return ids, [self.masters.wrap(k, r) for k, r in zip(ids, raws, strict=True)]

        by_digest = await _work(large, digests)
        await _work(large, take, await _rows(conn, _BY_SUBJECT, wanted, list(by_digest)), by_digest)
        missing = [s for s in wanted if s not in found]
        if missing and create:
            ids, wrapped = await _work(large, new_keys, len(missing))
            await _rows(
                conn, _CREATE, missing, ids, wrapped, [self.masters.current_id] * len(missing)
            )
            # A concurrent writer may have created some of them first: read back what holds.
            await _work(large, take, await _rows(conn, _BY_SUBJECT, missing, []), {})
        if cache is not None:
            cache.update(found)
        return found

    def to_look_up(self, conn: AsyncConnection, subjects: Iterable[str]) -> Lookup | None:
        """What a query must ask for the keys of `subjects` not yet known in this transaction
        (None: nothing), for a caller that folds the lookup into a statement of its own
        (`EventStore.load_many`), then hands the rows to `take`."""
        cache = _transaction_cache(conn)
        wanted = sorted({s for s in subjects if cache is None or s not in cache})
        if not wanted:
            return None
        by_digest = {d: s for s in wanted for d in self.masters.digests(s)}
        return Lookup(wanted, by_digest)

    def take(self, conn: AsyncConnection, lookup: Lookup, rows: Iterable[Any]) -> None:
        """Keep, for the rest of the transaction, the keys and tombstones found by a query for
        `lookup`: rows of (subject, key id, wrapped, master id, digest); a tombstone has a
        digest and no subject. People found in neither are left for `for_subjects`."""
        cache = _transaction_cache(conn)
        if cache is None:
            return
        for subject, key_id, wrapped, master, digest in rows:
            if digest is not None:
                cache[lookup.by_digest[bytes(digest)]] = Erased(key_id)
            else:
                cache[subject] = self._key(key_id, wrapped, master)

    def known(self, conn: Any) -> dict[str, DataKey]:
        """key id -> key, for the keys this transaction has looked up (they still exist: an
        erasure waits for the transaction)."""
        cache = _transaction_cache(conn)
        if not cache:
            return {}
        return {k.key_id: k for k in cache.values() if isinstance(k, DataKey)}

    async def by_ids(
        self, conn: AsyncConnection | asyncpg.Connection, key_ids: Iterable[str]
    ) -> dict[str, DataKey]:
        """The keys among `key_ids` that still exist (an erased one is absent)."""
        wanted = list(set(key_ids))
        if not wanted:
            return {}
        return {
            row[0]: self._key(row[0], row[1], row[2]) for row in await _rows(conn, _BY_ID, wanted)
        }

    async def snapshot(self, conn: AsyncConnection | asyncpg.Connection) -> dict[str, DataKey]:
        """Every key there is (for a replay, which reads the whole log): read on the driver's
        own connection, in the caller's transaction, since tens of thousands of rows through
        SQLAlchemy's result cost a replay a noticeable share of its time."""
        if isinstance(conn, AsyncConnection):
            driver = (await conn.get_raw_connection()).driver_connection
            if isinstance(driver, asyncpg.Connection):
                conn = driver
        rows = await _rows(conn, "SELECT key_id, wrapped, master_id FROM subject_keys")
        return {row[0]: self._key(row[0], row[1], row[2]) for row in rows}

    async def erase(self, conn: AsyncConnection, subjects: Iterable[str]) -> dict[str, str]:
        """Delete the keys of `subjects` and leave tombstones (a subject with no key gets one
        too, under a fresh key id, so that nothing about them is keyed later). Returns
        subject -> key id for the subjects that had a key here before this call."""
        wanted = sorted(set(subjects))
        if not wanted:
            return {}
        conn.info.pop("passhub_keys", None)
        rows = await _rows(
            conn,
            "DELETE FROM subject_keys WHERE subject = ANY($1::text[]) RETURNING subject, key_id",
            wanted,
        )
        had = {r[0]: r[1] for r in rows}
        digests: list[bytes] = []
        kids: list[str] = []
        for subject in wanted:
            digests.append(self.masters.digest(subject))
            kids.append(had.get(subject) or new_key_id())
        await _rows(
            conn,
            "INSERT INTO erased_subjects (digest, key_id)"
            " SELECT * FROM unnest($1::bytea[], $2::text[]) ON CONFLICT (digest) DO NOTHING",
            digests,
            kids,
        )
        return had

    async def rotate(self, conn: AsyncConnection) -> int:
        """Re-wrap every data key not wrapped by the current master key; returns how many."""
        rows = await _rows(
            conn,
            "SELECT key_id, wrapped, master_id FROM subject_keys WHERE master_id <> $1 FOR UPDATE",
            self.masters.current_id,
        )
        for key_id, wrapped, master in rows:
            raw = self.masters.unwrap(key_id, bytes(wrapped), master)
            await _rows(
                conn,
                "UPDATE subject_keys SET wrapped = $2, master_id = $3 WHERE key_id = $1",
                key_id,
                self.masters.wrap(key_id, raw),
                self.masters.current_id,
            )
        return len(rows)


def opened(key: DataKey, token: str) -> bytes | None:
    """`token` opened with `key`, or None if it does not open (tampered, or not this key)."""
    try:
        return key.open(token)
    except (InvalidTag, ValueError):
        return None


_T = TypeVar("_T")


async def _work(large: bool, function: Callable[..., _T], *args: Any) -> _T:
    """`function(*args)`: on a worker thread when the work is `large`, here otherwise."""
    if large:
        return await off_loop(lambda: function(*args))
    return function(*args)
