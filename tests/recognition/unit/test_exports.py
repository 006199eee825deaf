"""The HEAR and PSA exports as CSV: every text cell a spreadsheet would take for a formula is
written as text, whichever column it is in."""

from __future__ import annotations

import csv
import io

from passhub_recognition.domain.exports import COLUMNS, to_csv

HOSTILE = ["-2+3+cmd|' /C calc'!A0", '=HYPERLINK("http://x")', "+1", "@SUM(A1)", "\tx", "\ry"]


def test_every_column_writes_formulas_as_text() -> None:
    rows = [{column: value for column in COLUMNS} for value in HOSTILE]
    read = list(csv.DictReader(io.StringIO(to_csv(rows), newline="")))
    assert len(read) == len(HOSTILE)
    for row, value in zip(read, HOSTILE, strict=True):
        assert set(row.values()) == {"'" + value}


def test_plain_values_are_written_as_they_are() -> None:
    row = {column: "" for column in COLUMNS} | {
        "student_number": "S1",
        "activity_title": "Peer Assisted Study Sessions: PASS Leader",
        "start_date": "2026-10-05",
    }
    [read] = list(csv.DictReader(io.StringIO(to_csv([row]), newline="")))
    assert read == row
