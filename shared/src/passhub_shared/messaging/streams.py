"""JetStream streams: one per publishing service, `PASSHUB_<SERVICE>` on `passhub.<service>.>`.

File storage and no age limit (the stream is the integration log new subscribers start from),
a duplicate window from settings (two minutes by default; `Nats-Msg-Id` = event id), replicas
from settings. The duplicate window is a second guard only: the relay resumes from what the
stream holds, so an event is never published twice whatever the downtime (see `relay`).
Every service ensures the streams it publishes to and consumes from, so start order does not
matter.
"""

from __future__ import annotations

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError


def stream_name(service: str) -> str:
    return f"PASSHUB_{service.upper()}"


def stream_subjects(service: str) -> list[str]:
    return [f"passhub.{service}.>"]


def stream_config(service: str, replicas: int = 1, duplicate_window: float = 120.0) -> StreamConfig:
    return StreamConfig(
        name=stream_name(service),
        subjects=stream_subjects(service),
        storage=StorageType.FILE,
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        max_age=0,
        duplicate_window=duplicate_window,
        num_replicas=replicas,
    )


async def ensure_stream(
    js: JetStreamContext, service: str, replicas: int = 1, duplicate_window: float = 120.0
) -> None:
    config = stream_config(service, replicas, duplicate_window)
    try:
        await js.stream_info(config.name or "")
    except NotFoundError:
        try:
            await js.add_stream(config)
        except BadRequestError:
            # another service created it between our two calls
            await js.stream_info(config.name or "")
