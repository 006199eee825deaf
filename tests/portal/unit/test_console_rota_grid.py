"""The rota grid of the console's Sessions area (sessions.rota_grid): pure."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from passhub_portal.console.sessions import rota_grid

LONDON = ZoneInfo("Europe/London")


def session(
    sid: str, starts: str, room: str, week: str | None, leaders: int, status: str = "scheduled"
) -> dict[str, Any]:
    return {
        "session_id": sid,
        "starts_at": starts,
        "room": room,
        "teaching_week": week,
        "status": status,
        "leaders": [{"student_number": f"L{i}", "name": f"Leader {i}"} for i in range(leaders)],
    }


def test_given_weekly_sessions_when_gridded_then_weeks_are_rows_and_slots_columns() -> None:
    sessions = [
        session("a1", "2026-10-06T14:00:00+01:00", "P 1.02", "S1W2", 2),
        session("b1", "2026-10-08T10:00:00+01:00", "M 2.10", "S1W2", 1),
        session("a2", "2026-10-13T14:00:00+01:00", "p  1.02", "S1W3", 0, "cancelled"),
        # after the clocks go back: still the 14:00 slot
        session("a3", "2026-10-27T14:00:00+00:00", "P 1.02", None, 1),
    ]
    heads, rows = rota_grid(sessions, 2, LONDON)

    assert heads == ["Tue 14:00, P 1.02", "Thu 10:00, M 2.10"]
    assert [r["label"] for r in rows] == ["S1W2", "S1W3", "w/c 26 Oct"]
    first = rows[0]["cells"]
    assert [c["session_id"] for c in first[0]] == ["a1"] and not first[0][0]["short"]
    assert first[1][0]["short"] and first[1][0]["names"] == ["Leader 0"]
    # a cancelled session is never short; an empty slot is an empty cell
    assert not rows[1]["cells"][0][0]["short"] and rows[1]["cells"][1] == []
    assert rows[2]["cells"][0][0]["short"]
