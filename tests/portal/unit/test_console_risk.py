"""Who will miss a requirement at the current pace (console.risk): pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from passhub_portal.console.risk import by_risk, sessions_left

NOW = datetime(2027, 2, 1, 12, tzinfo=UTC)


def progress(
    number: str, delivered: int, *, training: bool = True, need: int = 8, **extra: Any
) -> dict[str, Any]:
    checks = [
        {"code": "training", "met": training, "detail": "core training", "actual": None},
        {
            "code": "sessions",
            "met": delivered >= need,
            "detail": f"{delivered} of {need} sessions delivered",
            "actual": delivered,
            "required": need,
        },
    ]
    return {
        "student_number": number,
        "name": f"Leader {number}",
        "schemes": ["2026-27-PHYS"],
        "sessions_delivered": delivered,
        "stood_down_on": extra.get("stood_down_on"),
        "awards": [
            {"kind": "certificate", "enabled": True, "requirements": checks},
            # a kind not offered this year does not count, however demanding
            {
                "kind": "hear",
                "enabled": False,
                "requirements": [{**checks[1], "met": False, "required": 99}],
            },
        ],
    }


def session(starts: datetime, *leaders: str, status: str = "scheduled") -> dict[str, Any]:
    return {
        "starts_at": starts.isoformat(),
        "status": status,
        "leaders": [{"student_number": n} for n in leaders],
    }


def test_given_the_rota_when_counted_then_only_scheduled_sessions_to_come_count() -> None:
    rota = [
        session(NOW - timedelta(days=7), "S1"),
        session(NOW + timedelta(days=7), "S1", "S2"),
        session(NOW + timedelta(days=14), "S1"),
        session(NOW + timedelta(days=21), "S1", status="cancelled"),
    ]
    left = sessions_left(rota, NOW)
    assert left["S1"] == (2, (NOW + timedelta(days=14)).isoformat())
    assert left["S2"][0] == 1 and "S3" not in left


def test_given_leaders_at_every_pace_when_sorted_then_those_who_will_miss_come_first() -> None:
    leaders = [
        progress("S1", 8),  # met
        progress("S2", 2),  # needs 6, has 3 left: will miss by 3
        progress("S3", 5),  # needs 3, has 4 left: tight
        progress("S4", 6, training=False),  # needs 2, has 6 left, but no training
        progress("S5", 1),  # needs 7, has 2 left: will miss by 5
        progress("S6", 4),  # needs 4, has 10 left: on track
        progress("S7", 0, stood_down_on="2026-12-01"),
    ]
    left = {"S2": (3, None), "S3": (4, None), "S4": (6, None), "S5": (2, None), "S6": (10, None)}
    ranked = by_risk(leaders, left)
    assert [(r.student_number, r.level) for r in ranked] == [
        ("S5", "will_miss"),
        ("S2", "will_miss"),
        ("S3", "tight"),
        ("S4", "training"),
        ("S6", "on_track"),
        ("S1", "met"),
        ("S7", "stood_down"),
    ]
    assert (ranked[0].needed, ranked[0].left, ranked[0].shortfall) == (7, 2, 5)
    assert ranked[3].training_missing and ranked[3].words == "Training missing"
