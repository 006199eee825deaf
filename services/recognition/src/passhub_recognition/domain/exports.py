"""HEAR and skills-award (e.g. PSA) records for the registry: one per granted award that
stands, as CSV or JSON, ready for upload."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from passhub_recognition.domain.documents import AwardView
from passhub_shared.web.csvsafe import write_csv

COLUMNS = (
    "student_number",
    "activity_code",
    "activity_title",
    "category",
    "role",
    "description",
    "start_date",
    "end_date",
    "verifying_body",
    "academic_year",
    "reference",
)


def record(view: AwardView, verifying_body: str) -> dict[str, Any]:
    return {
        "student_number": view.student_number,
        "activity_code": view.rules.activity_code,
        "activity_title": view.activity_title,
        "category": view.rules.category,
        "role": view.role,
        "description": view.description,
        "start_date": view.activity_start.isoformat() if view.activity_start else None,
        "end_date": view.activity_end.isoformat() if view.activity_end else None,
        "verifying_body": verifying_body,
        "academic_year": view.academic_year,
        "reference": view.award_id,
    }


def records(views: Sequence[AwardView], verifying_body: str) -> list[dict[str, Any]]:
    return [record(v, verifying_body) for v in views if v.standing]


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """Every cell through the kit's `write_csv`: text a spreadsheet would take for a formula
    is written with a leading '."""
    return write_csv(COLUMNS, rows)
