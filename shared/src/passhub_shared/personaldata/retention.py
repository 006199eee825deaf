"""Retention per kind of personal data: how long after a person's last event of each kind
their data is kept, and so when they are erased (docs/privacy.md).

A person's data is sealed under one key per service, and erasing deletes the key: so a
person is erased once **every** kind of data passhub holds about them is past its period,
that is at the latest of `last event of the kind + the kind's period` over the kinds they
have. Pure: the services' logs give the last times, the settings the periods.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

#: the kinds of personal data, by the event names (`passhub.<service>.<name>.v1`) that hold
#: them, wherever the event is kept (its publisher's log or a consumer's copy)
KINDS: dict[str, frozenset[str]] = {
    "applications": frozenset(
        {
            "application_submitted",
            "application_details_declared",
            "application_assessed",
            "application_rejected",
            "application_withdrawn",
            "record_overridden",
        }
    ),
    "records": frozenset(
        {
            "student_records_imported",
            "module_enrolments_imported",
            "module_results_imported",
            "historical_attendance_imported",
            "historical_sessions_imported",
        }
    ),
    "training": frozenset({"training_completed", "training_session_recorded"}),
    "appointments": frozenset({"leader_appointed", "leader_stood_down", "stand_down_reason_given"}),
    "rotas": frozenset(
        {
            "availability_stated",
            "leader_rostered",
            "leader_unrostered",
            "scheme_launched",
            "scheme_amended",
        }
    ),
    "sign_ins": frozenset({"student_signed_in", "leader_signed_in", "attendance_revoked"}),
    "feedback": frozenset({"feedback_submitted", "feedback_guard_taken"}),
    "awards": frozenset(
        {
            "award_granted",
            "award_revised",
            "award_withdrawn",
            "award_withheld",
            "activity_recorded",
            "activity_struck",
        }
    ),
}
#: data of no kind above (a newer event, a key never used in an event): the default period
OTHER = "other"
_KIND_OF = {name: kind for kind, names in KINDS.items() for name in names}


def kind_of(event_type: str) -> str:
    """The kind of data an event type holds (`passhub.attendance.student_signed_in.v1` →
    `sign_ins`)."""
    parts = event_type.split(".")
    name = parts[2] if len(parts) >= 4 else event_type
    return _KIND_OF.get(name, OTHER)


def check_kinds(years_by_kind: Mapping[str, int]) -> None:
    """Refuse a period for a kind passhub does not know, or a negative one."""
    unknown = sorted(set(years_by_kind) - set(KINDS) - {OTHER})
    if unknown:
        known = ", ".join([*KINDS, OTHER])
        raise ValueError(f"unknown kind(s) of data {', '.join(unknown)}: the kinds are {known}")
    negative = sorted(k for k, v in years_by_kind.items() if v < 0)
    if negative:
        raise ValueError(f"a retention period cannot be negative: {', '.join(negative)}")


@dataclass(frozen=True)
class Policy:
    """Years kept after the last event of each kind; `default` for kinds not listed."""

    default: int
    by_kind: Mapping[str, int]

    def years(self, kind: str) -> int:
        return self.by_kind.get(kind, self.default)


@dataclass(frozen=True)
class Due:
    """When a person's data is kept until, and which kind keeps it longest."""

    last: dt.datetime
    kind: str
    until: dt.date


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def kept_until(lasts: Mapping[str, dt.datetime], policy: Policy) -> Due:
    """The latest of `last event of the kind + its period` over the kinds in `lasts`."""
    best: Due | None = None
    for kind, last in lasts.items():
        until = _add_years(last.date(), policy.years(kind))
        if best is None or until > best.until:
            best = Due(last, kind, until)
    assert best is not None, "a person with no data at all"
    return best


def merge(
    found: Mapping[str, Mapping[str, Mapping[str, dt.datetime]]],
) -> dict[str, dict[str, dt.datetime]]:
    """service → subject → kind → last, across services: subject → kind → the latest."""
    out: dict[str, dict[str, dt.datetime]] = {}
    for per_service in found.values():
        for subject, kinds in per_service.items():
            mine = out.setdefault(subject, {})
            for kind, when in kinds.items():
                if kind not in mine or when > mine[kind]:
                    mine[kind] = when
    return out


def due(
    found: Mapping[str, Mapping[str, Mapping[str, dt.datetime]]], policy: Policy, day: dt.date
) -> dict[str, Due]:
    """The people whose every kind of data is past its period on `day`."""
    out: dict[str, Due] = {}
    for subject, lasts in merge(found).items():
        kept = kept_until(lasts, policy)
        if kept.until < day:
            out[subject] = kept
    return out
