"""Internal events of the annual report (not published): graduate outcome records.

A coordinator imports the records the institution receives from its graduate outcomes survey
(student number, academic year of graduation, outcome category). An import is appended to the
stream of its year (`annual-graduate-outcomes-2025-26`) in one transaction, split into events of
at most `import_event_rows` rows, so an import is all or nothing and a replay rebuilds it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from passhub_shared.messages.events import Event
from passhub_shared.personaldata.personal import StudentNumber


class GraduateOutcomeRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    #: sealed under the graduate's key, as every student number in the log
    student_number: StudentNumber
    #: the outcome category as the survey states it, normalised (`full_time_employment`)
    outcome: str = Field(min_length=1, max_length=100)


class GraduateOutcomesImported(Event):
    service = "attendance"
    public = False
    event_name = "graduate_outcomes_imported"
    import_id: str
    #: the academic year the graduates finished (`2025-26`)
    academic_year: str
    source: str = ""
    part: int = 1
    parts: int = 1
    rows: list[GraduateOutcomeRow]


def graduate_outcomes_stream(academic_year: str) -> str:
    return f"annual-graduate-outcomes-{academic_year}"
