"""The issuer's identity: its did:web follows the public address."""

from __future__ import annotations

import pytest

from passhub_recognition.signing import did_web


def test_did_web_follows_the_public_address() -> None:
    assert did_web("https://pass.example.ac.uk") == "did:web:pass.example.ac.uk"
    assert did_web("http://localhost:8004/") == "did:web:localhost%3A8004"
    assert did_web("https://uni.ac.uk/pass/recognition") == "did:web:uni.ac.uk:pass:recognition"
    with pytest.raises(ValueError):
        did_web("not a url")
