"""The contract catalogue in docs/events.md lists every published event type, and only those."""

from __future__ import annotations

import re
from pathlib import Path

import passhub_shared.contracts  # noqa: F401  (registers every contract)
from passhub_shared.messages.events import registered_types

DOC = Path(__file__).resolve().parents[3] / "docs" / "events.md"


def test_every_published_contract_is_in_the_catalogue() -> None:
    documented = set(re.findall(r"`(passhub\.[a-z_]+\.[a-z_]+\.v\d+)`", DOC.read_text()))
    published = {
        name
        for name, cls in registered_types().items()
        if cls.public and cls.service in {"recruitment", "sessions", "attendance", "recognition"}
    }
    assert published - documented == set(), "undocumented contracts"
    assert documented - published == set(), "documented contracts that do not exist"
