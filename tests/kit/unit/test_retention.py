"""Retention per kind of data: a person is kept until every kind of their data is past its
period, and the kind that keeps them longest is the one reported."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from passhub_shared.operations.settings import Settings
from passhub_shared.personaldata.retention import (
    OTHER,
    Policy,
    check_kinds,
    due,
    kept_until,
    kind_of,
)


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)


POLICY = Policy(default=6, by_kind={"feedback": 2, "records": 1, "applications": 1})


def test_event_types_fall_into_their_kinds_and_unknown_ones_into_other() -> None:
    assert kind_of("passhub.attendance.student_signed_in.v1") == "sign_ins"
    assert kind_of("passhub.attendance.feedback_submitted.v1") == "feedback"
    assert kind_of("passhub.recruitment.student_records_imported.v1") == "records"
    assert kind_of("passhub.attendance.module_results_imported.v1") == "records"
    assert kind_of("passhub.sessions.leader_rostered.v1") == "rotas"  # a consumer's copy too
    assert kind_of("passhub.attendance.something_new.v2") == OTHER


def test_someone_with_only_short_lived_data_is_due_after_its_period() -> None:
    # given an applicant who was never appointed, and whose records were imported
    lasts = {"applications": at("2024-03-01"), "records": at("2024-02-01")}
    # when retention looks at them on 2025-06-01
    found = due({"recruitment": {"S1": lasts}}, POLICY, dt.date(2025, 6, 1))
    # then they are due: their application was kept a year, until 2025-03-01
    assert found["S1"].kind == "applications"
    assert found["S1"].until == dt.date(2025, 3, 1)


def test_the_longest_kept_kind_keeps_the_person_across_services() -> None:
    # given a student whose feedback is old but who signed in a year later
    found = {
        "attendance": {"S2": {"feedback": at("2020-01-10")}},
        "recognition": {"S2": {"awards": at("2021-01-10")}},
    }
    # then they are kept for their award's six years, not the feedback's two
    assert due(found, POLICY, dt.date(2026, 12, 1)) == {}
    kept = kept_until({"feedback": at("2020-01-10"), "awards": at("2021-01-10")}, POLICY)
    assert (kept.kind, kept.until) == ("awards", dt.date(2027, 1, 10))
    assert "S2" in due(found, POLICY, dt.date(2027, 1, 11))


def test_the_latest_event_of_a_kind_across_services_counts() -> None:
    found = {
        "attendance": {"S3": {"sign_ins": at("2018-05-01")}},
        "sessions": {"S3": {"sign_ins": at("2021-05-01")}},
    }
    assert due(found, POLICY, dt.date(2027, 5, 1)) == {}
    assert due(found, POLICY, dt.date(2027, 5, 2))["S3"].last == at("2021-05-01")


def test_a_29_february_is_kept_until_28_february() -> None:
    kept = kept_until({"records": at("2024-02-29")}, POLICY)
    assert kept.until == dt.date(2025, 2, 28)


def test_unknown_kinds_and_negative_periods_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        check_kinds({"comments": 2})
    with pytest.raises(ValueError, match="negative"):
        check_kinds({"feedback": -1})
    with pytest.raises(ValidationError, match="unknown kind"):
        Settings(retention_years_by_kind={"comments": 2})
    settings = Settings(retention_years_by_kind={"feedback": 2, OTHER: 3})
    assert settings.retention_years_by_kind == {"feedback": 2, OTHER: 3}
