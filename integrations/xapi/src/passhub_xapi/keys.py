"""Opening passhub's sealed personal fields, as docs/integrators.md tells an authorised
integration to.

A personal field (a student number, a leader's, a reason) arrives as a token
`pii:<key id>:<base64url(nonce | ciphertext)>` sealed under a key of that person's own. The
key is the last message on `passhub.keys.<service>.<key id>` in the stream `PASSHUB_KEYS`,
wrapped with AES-256-GCM under `SHA-256("passhub-master-key" + stream key)`, the subject as
associated data. During a rotation of the stream key the bucket holds keys wrapped by the old
one and by the new one: each is tried, the current one first. A key is cached for a minute at
most (a key missing from the bucket means the person was erased: `on_missing` is told, so the
bridge forgets what it holds about them), and dropped at once when a `person_erased` event
names it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

KEYS_STREAM = "PASSHUB_KEYS"
TOKEN_PREFIX = "pii:"
ERASED = "person_erased"
#: longest a data key is kept: an erasure deletes it from the bucket
KEY_LIFETIME_SECONDS = 60.0


class Unopenable(Exception):
    """A sealed field that does not open (a wrong stream key, a damaged token)."""


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def service_of(event: dict[str, Any]) -> str:
    """The service that published `event` (its CloudEvents `source`, `/passhub/<service>`)."""
    return str(event.get("source", "")).rstrip("/").rpartition("/")[2]


def key_id_of(value: Any) -> str | None:
    """The key id a sealed token is sealed under (`None` for anything else)."""
    if isinstance(value, str) and value.startswith(TOKEN_PREFIX):
        return value.split(":", 2)[1] or None
    return None


def key_ids_in(value: Any) -> set[str]:
    """Every key id of the sealed tokens anywhere in `value` (a dict, list or token)."""
    if isinstance(value, dict):
        return set().union(*(key_ids_in(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(key_ids_in(v) for v in value))
    found = key_id_of(value)
    return {found} if found else set()


def _wrapping_key(stream_key: str) -> AESGCM:
    return AESGCM(hashlib.sha256(b"passhub-master-key" + stream_key.encode()).digest())


class Keys:
    """Data keys read from the key bucket, cached by key id.

    `stream_keys`: the current stream key first, then earlier ones still in use while the
    services re-wrap the bucket's keys under a new one."""

    def __init__(
        self,
        stream_keys: str | Sequence[str],
        lifetime: float = KEY_LIFETIME_SECONDS,
        on_missing: Callable[[str], None] | None = None,
    ) -> None:
        keys = [stream_keys] if isinstance(stream_keys, str) else list(stream_keys)
        if not keys or not all(keys):
            raise ValueError("at least one stream key, none of them empty")
        self._wrappings = [_wrapping_key(k) for k in keys]
        self._lifetime = lifetime
        self._cache: dict[str, tuple[float, AESGCM | None]] = {}
        self.on_missing = on_missing

    def _unwrap(self, body: bytes, subject: str) -> bytes | None:
        for wrapping in self._wrappings:
            try:
                return wrapping.decrypt(body[:12], body[12:], subject.encode())
            except (InvalidTag, ValueError):
                continue
        return None

    def forget(self, key_ids: list[str]) -> None:
        for key_id in key_ids:
            self._cache.pop(key_id, None)

    async def data_key(self, js: JetStreamContext, service: str, key_id: str) -> AESGCM | None:
        cached = self._cache.get(key_id)
        if cached is not None and time.monotonic() - cached[0] < self._lifetime:
            return cached[1]
        subject = f"passhub.keys.{service}.{key_id}"
        key: AESGCM | None
        try:
            msg = await js.get_last_msg(KEYS_STREAM, subject)
        except NotFoundError:
            key = None  # erased: the field cannot be opened any more
            if self.on_missing is not None:
                self.on_missing(key_id)
        else:
            body = (msg.data or b"").partition(b".")[2]
            raw = self._unwrap(body, subject)
            if raw is None:
                raise Unopenable(f"the key {key_id} does not open with any stream key given")
            key = AESGCM(raw)
        self._cache[key_id] = (time.monotonic(), key)
        return key

    async def open_value(self, js: JetStreamContext, service: str, value: Any) -> Any:
        """`value` opened if it is a sealed token, `None` if its key was erased (and left out
        of a list); anything else as it is. `Unopenable` if it does not open."""
        if isinstance(value, list):
            opened = [await self.open_value(js, service, v) for v in value]
            return [o for o, v in zip(opened, value, strict=True) if o is not None or v is None]
        if isinstance(value, dict):
            return {k: await self.open_value(js, service, v) for k, v in value.items()}
        if not (isinstance(value, str) and value.startswith(TOKEN_PREFIX)):
            return value
        try:
            _, key_id, body = value.split(":", 2)
            blob = _b64(body)
        except (ValueError, binascii.Error) as error:
            raise Unopenable("a malformed sealed field") from error
        key = await self.data_key(js, service, key_id)
        if key is None:
            return None  # the person was erased
        try:
            return json.loads(key.decrypt(blob[:12], blob[12:], key_id.encode()))
        except (InvalidTag, ValueError) as error:
            raise Unopenable(f"a field sealed under {key_id} does not open") from error

    async def open_event(self, js: JetStreamContext, event: dict[str, Any]) -> dict[str, Any]:
        """`event` with its data opened (an erased person's fields are `None`), and under
        `sealed_under` the key id of each top-level field that was sealed (what the bridge
        files what it keeps under, to forget it on erasure). A `person_erased` event drops
        its keys from the cache."""
        data = event.get("data")
        if is_erasure(event) and isinstance(data, dict):
            self.forget(erased_keys(event))
            return event
        if not isinstance(data, dict):
            return event
        sealed = {k: found for k, v in data.items() if (found := key_id_of(v)) is not None}
        opened = {**event, "data": await self.open_value(js, service_of(event), data)}
        if sealed:
            opened[SEALED_UNDER] = sealed
        return opened


#: where `open_event` notes which key each sealed field was under
SEALED_UNDER = "sealed_under"


def is_erasure(event: dict[str, Any]) -> bool:
    return f".{ERASED}." in str(event.get("type", ""))


def erased_keys(event: dict[str, Any]) -> list[str]:
    """The key ids a `person_erased` event names."""
    return [str(k) for k in (event.get("data") or {}).get("key_ids") or []]
