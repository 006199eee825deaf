"""The public envelope: CloudEvents 1.0, structured JSON mode.

`encode` turns a recorded event into the bytes published on NATS; `decode` turns such bytes
(from passhub or any producer keeping to the contract) back into a `Recorded`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from passhub_shared.events import Recorded

CONTENT_TYPE = "application/cloudevents+json"
_FORMAT = JSONFormat()


class InvalidEnvelope(ValueError):
    """A message that is not a passhub CloudEvent."""


def source_of(service: str) -> str:
    return f"/passhub/{service}"


def to_cloudevent(event: Recorded) -> CloudEvent:
    attributes: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(event.id),
        "source": source_of(event.origin),
        "type": event.type,
        "subject": event.stream_id,
        "time": event.occurred_at,
        "datacontenttype": "application/json",
        "streamversion": event.stream_version,
    }
    for name, value in (
        ("correlationid", event.correlation_id),
        ("causationid", event.causation_id),
        ("traceparent", event.traceparent),
    ):
        if value:
            attributes[name] = value
    return CloudEvent(attributes=attributes, data=event.data)


def encode(event: Recorded) -> bytes:
    return _FORMAT.write(to_cloudevent(event))


def decode(payload: bytes) -> Recorded:
    try:
        ce = _FORMAT.read(CloudEvent, payload)
    except Exception as exc:  # the library raises several types for malformed input
        raise InvalidEnvelope(f"not a CloudEvent: {exc}") from exc
    attrs = ce.get_attributes()
    source = str(attrs.get("source", ""))
    if not source.startswith("/passhub/"):
        raise InvalidEnvelope(f"unexpected source {source!r}")
    data = ce.get_data()
    if isinstance(data, bytes | str):
        data = json.loads(data)
    if not isinstance(data, dict):
        raise InvalidEnvelope("data must be a JSON object")
    time = attrs.get("time") or datetime.now(UTC)
    return Recorded(
        id=UUID(str(attrs["id"])),
        stream_id=str(attrs.get("subject") or ""),
        stream_version=int(attrs.get("streamversion") or 0),
        type=str(attrs["type"]),
        origin=source.removeprefix("/passhub/"),
        data=data,
        occurred_at=time,
        correlation_id=attrs.get("correlationid"),
        causation_id=attrs.get("causationid"),
        traceparent=attrs.get("traceparent"),
    )
