"""The CloudEvents envelope round-trips and rejects what is not a passhub event."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from passhub_shared.contracts.attendance import StudentSignedIn
from passhub_shared.messages import envelope
from passhub_shared.messages.events import Recorded, event_class, new_event_id


def _recorded() -> Recorded:
    body = StudentSignedIn(
        session_id="s-1",
        scheme_id="2026-27-PHYS",
        modules=["PHY1001"],
        student_number="2400123",
        signed_in_at=datetime(2026, 10, 5, 13, 2, tzinfo=UTC),
        method="qr",
    )
    return Recorded(
        id=new_event_id(),
        stream_id="attendance-s-1",
        stream_version=3,
        type=body.type_name(),
        origin="attendance",
        data=body.model_dump(mode="json"),
        occurred_at=datetime(2026, 10, 5, 13, 2, 1, tzinfo=UTC),
        correlation_id="corr-1",
        causation_id="cause-1",
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        actor="leader-9",
    )


def test_structured_cloudevent_has_the_contract_attributes() -> None:
    event = _recorded()
    doc = json.loads(envelope.encode(event))
    assert doc["specversion"] == "1.0"
    assert doc["id"] == str(event.id)
    assert doc["source"] == "/passhub/attendance"
    assert doc["type"] == "passhub.attendance.student_signed_in.v1"
    assert doc["subject"] == "attendance-s-1"
    assert doc["datacontenttype"] == "application/json"
    assert doc["streamversion"] == 3
    assert doc["correlationid"] == "corr-1"
    assert doc["causationid"] == "cause-1"
    assert doc["traceparent"].startswith("00-")
    assert doc["data"]["student_number"] == "2400123"
    assert "actor" not in doc, "who acted stays inside the service"


def test_round_trip_keeps_everything_published() -> None:
    event = _recorded()
    back = envelope.decode(envelope.encode(event))
    assert back.id == event.id
    assert back.type == event.type
    assert back.origin == "attendance"
    assert back.stream_version == 3
    assert back.data == event.data
    assert back.occurred_at == event.occurred_at
    assert isinstance(back.decode(), StudentSignedIn)


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b'{"specversion": "1.0", "id": "x", "source": "/other/thing", "type": "t"}',
        b'{"id": "x", "source": "/passhub/a", "type": "t"}',
    ],
)
def test_foreign_or_broken_messages_are_rejected(payload: bytes) -> None:
    with pytest.raises(envelope.InvalidEnvelope):
        envelope.decode(payload)


def test_type_names_and_subjects_are_versioned() -> None:
    assert StudentSignedIn.type_name() == "passhub.attendance.student_signed_in.v1"
    assert StudentSignedIn.subject() == "passhub.attendance.student_signed_in"
    assert event_class("passhub.attendance.student_signed_in.v1") is StudentSignedIn


def test_the_cloudevents_sdk_reads_what_we_write_and_we_read_what_it_writes() -> None:
    from cloudevents.core.formats.json import JSONFormat
    from cloudevents.core.v1.event import CloudEvent

    event = _recorded()
    sdk = JSONFormat()
    parsed = sdk.read(CloudEvent, envelope.encode(event))
    assert parsed.get_id() == str(event.id)
    assert parsed.get_type() == event.type
    assert parsed.get_source() == "/passhub/attendance"
    assert parsed.get_subject() == event.stream_id
    assert parsed.get_time() == event.occurred_at
    assert parsed.get_extension("streamversion") == 3
    assert parsed.get_extension("correlationid") == "corr-1"
    assert parsed.get_data() == event.data

    written = sdk.write(envelope.to_cloudevent(event))
    back = envelope.decode(written)
    assert (back.id, back.type, back.origin, back.stream_id, back.stream_version) == (
        event.id,
        event.type,
        event.origin,
        event.stream_id,
        event.stream_version,
    )
    assert back.occurred_at == event.occurred_at and back.data == event.data
