"""The consumer's header parser gives what nats-py's own gives, for the headers JetStream
delivers and for malformed ones."""

from __future__ import annotations

import pytest
from nats.aio.client import Client

from passhub_shared.messaging.pulling import _Client

BLOCKS = [
    b"Nats-Msg-Id: 0190c7a2-1111-7000-8000-000000000001\r\n\r\n",
    b"Nats-Msg-Id:abc\r\nNats-Expected-Stream: passhub-attendance\r\n\r\n",
    b"Nats-Msg-Id:\tspaced value \r\n\r\n",
    b"Ce-Type: passhub.attendance.student_signed_in.v1\r\nX-Note: caf\xc3\xa9\r\n\r\n",
    b"Bad Name: skipped\r\nGood: kept\r\n\r\n",
    b"no colon here\r\nK: v\r\n\r\n",
    b"Caf\xc3\xa9: non-ascii name skipped\r\nK: v\r\n\r\n",
    b"K: broken utf-8 \xff\r\n\r\n",
    b"",
]


@pytest.mark.parametrize("block", BLOCKS)
def test_same_headers_as_nats_py(block: bytes) -> None:
    assert _Client._parse_header_lines(block) == Client._parse_header_lines(block)
