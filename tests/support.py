"""Helpers the tests share: run a service in-process, make tokens, wait for things, and read
JetStream with a plain nats-py client (no passhub code), as an outside system would."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import nats
import nats.js.errors
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import FastAPI

from passhub_shared.operations.secretkeys import generate_secret
from passhub_shared.operations.service import Runtime, ServiceDefinition
from passhub_shared.operations.settings import Settings
from passhub_shared.web.app import create_app
from passhub_shared.web.auth import make_token

#: Every secret a service requires, generated for this test run; tests/conftest.py puts them in
#: the environment, where the services' own settings (and subprocesses) read them.
SECRET_ENV: dict[str, str] = {
    "PASSHUB_JWT_SECRET": generate_secret(),
    "PASSHUB_ATTENDANCE_QR_SECRET": generate_secret(),
    "PASSHUB_ATTENDANCE_FEEDBACK_GUARD_KEY": generate_secret(),
    "PASSHUB_SESSIONS_FEED_SECRET": generate_secret(),
    "PASSHUB_PRIVACY_MASTER_KEY": generate_secret(),
    "PASSHUB_STREAM_KEY": generate_secret(),
}


def service_settings(database_url: str, nats_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "jwt_secret": SECRET_ENV["PASSHUB_JWT_SECRET"],
        "database_url": database_url,
        "nats_url": nats_url,
        "log_json": False,
        "relay_poll_seconds": 1.0,
        "consumer_linger_seconds": 0.02,
        "consumer_max_deliver": 3,
        "consumer_ack_wait_seconds": 5.0,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Harness:
    """A service running in this process: its HTTP client, runtime and settings."""

    client: httpx.AsyncClient
    app: FastAPI
    settings: Settings

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    def token(self, role: str | list[str], sub: str = "user-1", name: str | None = None) -> str:
        roles = [role] if isinstance(role, str) else role
        return make_token(self.settings, sub, roles, name)

    def auth(self, role: str | list[str], sub: str = "user-1") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, sub)}"}


@asynccontextmanager
async def running_service(
    definition: ServiceDefinition,
    database_url: str,
    nats_url: str,
    *,
    relay: bool = True,
    consumers: bool = True,
    **overrides: Any,
) -> AsyncIterator[Harness]:
    """Start the service's FastAPI app (lifespan included) and yield a client for it."""
    settings = service_settings(database_url, nats_url, **overrides)
    app = create_app(definition, settings, relay=relay, consumers=consumers)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Harness(client, app, settings)


async def wait_for(
    predicate: Callable[[], Awaitable[bool]], timeout: float = 15.0, interval: float = 0.05
) -> None:
    """Poll `predicate` until it is true; fail the test after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if await predicate():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def open_sealed(js: Any, service: str, value: Any, stream_key: str | None = None) -> Any:
    """`value` with every sealed field opened as an authorised integration does (docs/
    integrators.md): the person's key from the key bucket, unwrapped with the stream key, and
    AES-GCM from `cryptography`; nothing from passhub. A field whose key is gone opens to None."""
    if isinstance(value, dict):
        return {k: await open_sealed(js, service, v, stream_key) for k, v in value.items()}
    if isinstance(value, list):
        return [await open_sealed(js, service, v, stream_key) for v in value]
    if not (isinstance(value, str) and value.startswith("pii:")):
        return value
    _, key_id, body = value.split(":", 2)
    subject = f"passhub.keys.{service}.{key_id}"
    try:
        msg = await js.get_last_msg("PASSHUB_KEYS", subject)
    except nats.js.errors.NotFoundError:
        return None
    secret = stream_key or SECRET_ENV["PASSHUB_STREAM_KEY"]
    wrapping = AESGCM(hashlib.sha256(b"passhub-master-key" + secret.encode()).digest())
    wrapped = msg.data.partition(b".")[2]
    key = AESGCM(wrapping.decrypt(wrapped[:12], wrapped[12:], subject.encode()))
    blob = _b64(body)
    return json.loads(key.decrypt(blob[:12], blob[12:], key_id.encode()))


async def read_stream(
    nats_url: str,
    stream: str,
    subject: str = ">",
    timeout: float = 2.0,
    *,
    opened: bool = True,
) -> list[dict[str, Any]]:
    """Every message of `stream` (matching `subject`) from the start, as parsed JSON, using an
    ephemeral ordered consumer of plain nats-py; with `opened`, the sealed personal fields of
    each event's `data` are opened as an authorised integration would (`open_sealed`)."""
    nc = await nats.connect(nats_url.split(","))
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        total = info.state.messages
        sub = await js.subscribe(subject, stream=stream, ordered_consumer=True)
        out: list[dict[str, Any]] = []
        try:
            while len(out) < total:
                msg = await sub.next_msg(timeout=timeout)
                out.append(json.loads(msg.data))
        except (nats.errors.TimeoutError, TimeoutError):  # nats-py raises either
            pass
        finally:
            await sub.unsubscribe()
        if opened:
            for event in out:
                if isinstance(event.get("data"), dict) and event.get("source"):
                    service = str(event["source"]).rsplit("/", 1)[-1]
                    event["data"] = await open_sealed(js, service, event["data"])
        return out
    finally:
        await nc.close()
