"""The person specification: the criteria a campaign recruits against.

`DEFAULT_CRITERIA` is the specification most PASS schemes start from (job profile and person
specification of a PASS Leader / Mentor). Two of its criteria are machine-checkable against the
imported student records (`check` set); the others wait for an assessor.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from passhub_shared.contracts.recruitment import Criterion
from passhub_shared.web.errors import Rejected

DEFAULT_CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        code="undergraduate",
        description=(
            "Studying for an undergraduate qualification at the institution "
            "in a participating school"
        ),
        importance="essential",
        assessed_by=["application"],
        check="enrolment",
    ),
    Criterion(
        code="exam_marks",
        description="At least 60% in first/second-year exams",
        importance="essential",
        assessed_by=["application"],
        check="exam_marks",
    ),
    Criterion(
        code="friendly",
        description="Friendly and relatable",
        importance="essential",
        assessed_by=["application", "training_day"],
    ),
    Criterion(
        code="articulate",
        description="Articulate and clear",
        importance="essential",
        assessed_by=["application", "training_day"],
    ),
    Criterion(
        code="listens",
        description="Listens attentively",
        importance="essential",
        assessed_by=["application", "training_day"],
    ),
    Criterion(
        code="reliable",
        description="Dedicated, reliable and punctual",
        importance="essential",
        assessed_by=["application", "training_day"],
    ),
    Criterion(
        code="discretion",
        description="Handles conflict with discretion",
        importance="essential",
        assessed_by=["application", "training_day"],
    ),
    Criterion(
        code="enthusiasm",
        description="Enthusiasm for the subject",
        importance="essential",
        assessed_by=["application", "training_day"],
    ),
    Criterion(
        code="capacity",
        description="Able to meet the demands of the role alongside academic demands",
        importance="essential",
        assessed_by=["application", "training_day"],
    ),
    Criterion(
        code="mentoring_experience",
        description="Experience of mentoring or supporting young people",
        importance="desirable",
        assessed_by=["application"],
    ),
    Criterion(
        code="teamwork",
        description="Experience of working in a team",
        importance="desirable",
        assessed_by=["application"],
    ),
    Criterion(
        code="first_year_barriers",
        description="Understanding of barriers first-years face",
        importance="desirable",
        assessed_by=["application", "training_day"],
    ),
)

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def validate_criteria(criteria: Sequence[Criterion]) -> None:
    """A specification must be usable: unique codes, at least one essential, each check once."""
    if not criteria:
        raise Rejected("a person specification needs at least one criterion", code="bad_spec")
    seen: set[str] = set()
    checks: set[str] = set()
    for criterion in criteria:
        if not _CODE.match(criterion.code):
            raise Rejected(
                f"criterion code {criterion.code!r} must be letters, digits, '_', '.' or '-' "
                "(at most 64)",
                code="bad_spec",
            )
        if criterion.code in seen:
            raise Rejected(f"criterion code {criterion.code!r} is used twice", code="bad_spec")
        seen.add(criterion.code)
        if not criterion.description.strip():
            raise Rejected(f"criterion {criterion.code!r} needs a description", code="bad_spec")
        if not criterion.assessed_by:
            raise Rejected(
                f"criterion {criterion.code!r} must say how it is assessed", code="bad_spec"
            )
        if len(set(criterion.assessed_by)) != len(criterion.assessed_by):
            raise Rejected(
                f"criterion {criterion.code!r} lists an assessment method twice", code="bad_spec"
            )
        if criterion.check is not None:
            if criterion.check in checks:
                raise Rejected(
                    f"only one criterion may use the {criterion.check!r} check", code="bad_spec"
                )
            checks.add(criterion.check)
    if not any(c.importance == "essential" for c in criteria):
        raise Rejected("a person specification needs at least one essential criterion")
