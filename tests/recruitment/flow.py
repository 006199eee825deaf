"""HTTP steps the API tests share: a campaign, student records, applications, training."""

from __future__ import annotations

from typing import Any

from passhub_recruitment.domain.spec import DEFAULT_CRITERIA
from tests.support import Harness

YEAR = "2026-27"
PHYS = f"{YEAR}-PHYS"
MATH = f"{YEAR}-MATH"
COORDINATOR = "coord-1"
PERSONAL = [c.code for c in DEFAULT_CRITERIA if c.check is None and c.importance == "essential"]
DESIRABLE = [c.code for c in DEFAULT_CRITERIA if c.importance == "desirable"]

HEADER = "student_number,name,email,school,programme,level,year_of_study,year1_mark,year2_mark\n"
ROWS = {
    "S1000001": "S1000001,Ada Lovelace,ada@example.ac.uk,Physics,BSc Physics,UG,2,71.5,\n",
    "S1000002": "S1000002,Alan Turing,alan@example.ac.uk,Mathematics,BSc Maths,UG,2,60.00,\n",
    "S1000003": "S1000003,Grace Hopper,grace@example.ac.uk,Physics,BSc Physics,UG,2,59.99,\n",
    "S1000004": "S1000004,Emmy Noether,emmy@example.ac.uk,Mathematics,MMath,UG,3,80,64\n",
    "S1000005": "S1000005,Paul Dirac,paul@example.ac.uk,History,BA History,UG,2,90,\n",
}
NAMES = {
    "S1000001": ("Ada Lovelace", "ada@example.ac.uk", "Physics", 2),
    "S1000002": ("Alan Turing", "alan@example.ac.uk", "Mathematics", 2),
    "S1000003": ("Grace Hopper", "grace@example.ac.uk", "Physics", 2),
    "S1000004": ("Emmy Noether", "emmy@example.ac.uk", "Mathematics", 3),
    "S1000005": ("Paul Dirac", "paul@example.ac.uk", "History", 2),
    "S1000006": ("Mary Somerville", "mary@example.ac.uk", "Mathematics", 2),
}


def csv_of(*numbers: str) -> str:
    return HEADER + "".join(ROWS[n] for n in numbers)


def coordinator(h: Harness) -> dict[str, str]:
    return h.auth("coordinator", COORDINATOR)


def student(h: Harness, number: str) -> dict[str, str]:
    return h.auth("student", number)


async def open_campaign(h: Harness, **changes: Any) -> dict[str, Any]:
    body = {"academic_year": YEAR, "participating_schools": ["Physics", "Mathematics"]}
    body.update(changes)
    response = await h.client.post("/campaigns", json=body, headers=coordinator(h))
    assert response.status_code == 201, response.text
    return response.json()


async def import_csv(h: Harness, text: str, source: str = "sits-export.csv") -> Any:
    return await h.client.post(
        "/records/imports",
        content=text.encode(),
        params={"source": source},
        headers={**coordinator(h), "Content-Type": "text/csv"},
    )


async def apply(h: Harness, number: str, **changes: Any) -> Any:
    name, email, school, year = NAMES[number]
    body: dict[str, Any] = {
        "name": name,
        "email": email,
        "school": school,
        "level": "undergraduate",
        "year_of_study": year,
        "preferred_schemes": [PHYS],
        "statement": "PASS helped me in first year; I want to help others the same way.",
    }
    body.update(changes)
    return await h.client.post(
        f"/campaigns/{YEAR}/applications", json=body, headers=student(h, number)
    )


async def assess(
    h: Harness, application_id: str, codes: list[str], met: bool = True, role: str = "organiser"
) -> Any:
    outcomes = [{"code": c, "met": met, "note": f"{c}: seen at the training day"} for c in codes]
    return await h.client.post(
        f"/applications/{application_id}/assessments",
        json={"outcomes": outcomes},
        headers=h.auth(role, "org-1"),
    )


async def train(h: Harness, training_id: str, *numbers: str, hours: str | None = None) -> None:
    response = await h.client.post(
        "/training-sessions",
        json={
            "training_id": training_id,
            "academic_year": YEAR,
            "title": "Core training day",
            "held_on": "2026-05-20",
            "hours": "6",
        },
        headers=coordinator(h),
    )
    assert response.status_code == 201, response.text
    if numbers:
        completions = [
            {"student_number": n, **({"hours": hours} if hours else {})} for n in numbers
        ]
        response = await h.client.post(
            f"/training-sessions/{training_id}/completions",
            json={"completions": completions},
            headers=h.auth("organiser", "org-1"),
        )
        assert response.status_code == 200, response.text


async def appoint(h: Harness, application_id: str, schemes: list[str], role: str = "leader") -> Any:
    return await h.client.post(
        f"/applications/{application_id}/appointments",
        json={"role": role, "schemes": schemes, "appointed_on": "2026-06-01"},
        headers=coordinator(h),
    )
