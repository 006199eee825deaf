"""The small hand-made cohort whose figures the tests work out by hand.

Module M1 (marks out of 100, pass mark 40), twenty students:

    sessions  students  marks
    0         s01-s06   40 50 60 35 55 30        (prior 100 110 120 130 140 150)
    1         s07       45
    2         s08       50
    3         s09-s11   52 38 61
    4         s12-s14   58 62 70                  (prior 130 140 150)
    5         s15-s16   64 66
    9         s17       72
    10        s18-s19   75 80
    12        s20       withdrawn

Module M2 (letter grades), ten other students: t01-t05 never attended (A B C D F), t06-t10
attended 6 sessions each (A A B B C).
"""

from __future__ import annotations

M1_ROWS: list[tuple[str, int, float | None, float | None]] = [
    # student, sessions, mark (None: withdrawn), prior attainment
    ("s01", 0, 40, 100),
    ("s02", 0, 50, 110),
    ("s03", 0, 60, 120),
    ("s04", 0, 35, 130),
    ("s05", 0, 55, 140),
    ("s06", 0, 30, 150),
    ("s07", 1, 45, None),
    ("s08", 2, 50, None),
    ("s09", 3, 52, None),
    ("s10", 3, 38, None),
    ("s11", 3, 61, None),
    ("s12", 4, 58, 130),
    ("s13", 4, 62, 140),
    ("s14", 4, 70, 150),
    ("s15", 5, 64, None),
    ("s16", 5, 66, None),
    ("s17", 9, 72, None),
    ("s18", 10, 75, None),
    ("s19", 10, 80, None),
    ("s20", 12, None, None),
]

M2_ROWS: list[tuple[str, int, str]] = [
    ("t01", 0, "A"),
    ("t02", 0, "B"),
    ("t03", 0, "C"),
    ("t04", 0, "D"),
    ("t05", 0, "F"),
    ("t06", 6, "A"),
    ("t07", 6, "A"),
    ("t08", 6, "B"),
    ("t09", 6, "B"),
    ("t10", 6, "C"),
]


def enrolments_csv(year: str = "2026-27") -> bytes:
    lines = ["student_number,module,academic_year,prior_attainment"]
    for student, _, _, prior in M1_ROWS:
        lines.append(f"{student},M1,{year},{'' if prior is None else prior}")
    for student, _, _ in M2_ROWS:
        lines.append(f"{student},M2,{year},")
    return ("\n".join(lines) + "\n").encode()


def results_csv(year: str = "2026-27") -> bytes:
    lines = ["student_number,module,academic_year,mark,grade,passed,withdrawn"]
    for student, _, mark, _ in M1_ROWS:
        if mark is None:
            lines.append(f"{student},M1,{year},,,,yes")
        else:
            lines.append(f"{student},M1,{year},{mark},,,")
    for student, _, grade in M2_ROWS:
        lines.append(f"{student},M2,{year},,{grade},,")
    return ("\n".join(lines) + "\n").encode()
