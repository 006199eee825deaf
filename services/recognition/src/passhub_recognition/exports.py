"""HEAR and skills-award (e.g. PSA) records for the registry: one per granted award that
stands, as CSV or JSON, ready for upload."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from passhub_recognition.records import AwardView

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


def _cell(value: Any) -> str:
    """A CSV cell; text a spreadsheet would take for a formula is quoted with a leading '."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "@", "\t", "\r") else text


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row[k]) for k in COLUMNS})
    return out.getvalue()
