"""The decider helper, shown on the toy counter: given events, when a command, then events."""

from __future__ import annotations

import pytest

from passhub_shared.web.errors import Rejected
from tests.kit.toy import Counted, Increment, counter


def test_given_history_when_increment_then_counted() -> None:
    given = [Counted(counter_id="c", amount=2), Counted(counter_id="c", amount=3)]
    assert counter.fold(given) == 5
    assert counter.given_when(given, Increment("c", 4)) == [Counted(counter_id="c", amount=4)]


def test_a_bad_command_is_rejected_and_decides_nothing() -> None:
    with pytest.raises(Rejected, match="positive"):
        counter.given_when([], Increment("c", 0))
