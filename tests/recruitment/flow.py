"""HTTP steps the API tests share: a campaign, student records, applications, training."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import nats
from nats.js import JetStreamContext
from sqlalchemy import select

from passhub_recruitment.domain.spec import DEFAULT_CRITERIA
from passhub_recruitment.tables import schemes
from passhub_shared.contracts.sessions import SchemeAmended, SchemeLaunched
from passhub_shared.messages import envelope
from passhub_shared.messages.events import Event, Recorded, new_event_id, utcnow
from passhub_shared.messaging.streams import ensure_stream
from tests.support import Harness, wait_for

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
    h: Harness,
    application_id: str,
    codes: list[str],
    met: bool = True,
    role: str = "organiser",
    override_reason: str | None = None,
) -> Any:
    extra = {} if override_reason is None else {"override_reason": override_reason}
    outcomes = [
        {"code": c, "met": met, "note": f"{c}: seen at the training day", **extra} for c in codes
    ]
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


async def publish_launches(nats_url: str, *scheme_ids: str, organisers: Sequence[str] = ()) -> None:
    """The sessions service launching these schemes (`organisers` named on each):
    `scheme_launched` on its stream, sent with plain nats-py as the sessions service's relay
    would."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await ensure_stream(js, "sessions")
        for scheme_id in scheme_ids:
            code = scheme_id.rsplit("-", 1)[-1]
            event = SchemeLaunched(
                scheme_id=scheme_id,
                code=code,
                title=f"{code} PASS",
                school="Physics",
                academic_year=YEAR,
                organisers=list(organisers),
            )
            await _publish(js, f"scheme-{scheme_id}", 1, event)
    finally:
        await nc.close()


async def publish_amendment(
    nats_url: str, scheme_id: str, organisers: Sequence[str], version: int = 2
) -> None:
    """The sessions service changing who organises a scheme: `scheme_amended`."""
    nc = await nats.connect(nats_url)
    try:
        event = SchemeAmended(
            scheme_id=scheme_id,
            coordinator=COORDINATOR,
            organisers=list(organisers),
            min_leaders_per_session=2,
        )
        await _publish(nc.jetstream(), f"scheme-{scheme_id}", version, event)
    finally:
        await nc.close()


async def _publish(js: JetStreamContext, stream_id: str, version: int, event: Event) -> None:
    recorded = Recorded(
        id=new_event_id(),
        stream_id=stream_id,
        stream_version=version,
        type=event.type_name(),
        origin="sessions",
        data=event.model_dump(mode="json"),
        occurred_at=utcnow(),
    )
    await js.publish(
        recorded.subject, envelope.encode(recorded), headers={"Nats-Msg-Id": str(recorded.id)}
    )


async def known_schemes(h: Harness) -> set[str]:
    async with h.runtime.engine.connect() as conn:
        return {r.scheme_id for r in await conn.execute(select(schemes.c.scheme_id))}


async def launch(
    h: Harness, nats_url: str, *scheme_ids: str, organisers: Sequence[str] = ()
) -> None:
    """Launch the schemes and wait until recruitment has consumed the launches."""
    await publish_launches(nats_url, *scheme_ids, organisers=organisers)

    async def consumed() -> bool:
        return set(scheme_ids) <= await known_schemes(h)

    await wait_for(consumed, timeout=20)


async def app_id(h: Harness, number: str) -> str:
    """The id of `number`'s application in this year's campaign: the campaign and the
    applicant's pseudonym (their key id), never their student number."""
    async with h.runtime.transaction() as conn:
        return f"2026-27-{await h.runtime.store.pseudonym(conn, number)}"
