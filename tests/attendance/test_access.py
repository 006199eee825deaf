"""The attendance service against its access table in docs/access.md: every route, every
role, and the scope rules (an organiser of another scheme, a leader not rostered, a student
acting for another)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from passhub_attendance.api.deps import qr_codes
from tests.access import World, check_table
from tests.attendance.helpers import SCHEME, given_session, now, settings
from tests.support import Harness

WORLD = World(
    subs={
        "coordinator": "c1",
        "organiser": "o1",
        "leader": "L100",
        "student": "1001",
        "academic": "a1",
        "integration": "kiosk-1",
    },
    params={"session_id": "S1", "scheme_id": SCHEME, "room": "P/T/005", "actor": "L100"},
)


async def test_every_route_answers_every_role_as_the_table_says(h: Harness) -> None:
    await given_session(h, "S1", leaders=("L100",))
    code = qr_codes(settings(h)).issue("S1", now())
    world = replace(
        WORLD,
        # a current sign-in code, for the sign-in and the scan receipt
        params={**WORLD.params, "code": code},
    )
    await check_table(h, "attendance", world)


async def test_scope_an_organiser_of_another_scheme(h: Harness) -> None:
    await given_session(h, "S1", leaders=("L100",))
    other = h.auth("organiser", "o2")
    revoke = await h.client.post(
        "/sessions/S1/attendances/1001/revoke", json={"reason": "x"}, headers=other
    )
    assert revoke.status_code == 403
    sheet = b"session_id,student_number\nS1,1001\n"
    assert (await h.client.post("/imports", content=sheet, headers=other)).status_code == 403
    for url in (
        "/sessions/S1/qr-code",
        "/sessions/S1/headcount",
        "/sessions/S1/attendances",
        "/sessions/S1/feedback",
        "/sessions/S1/audit",
        f"/schemes/{SCHEME}/attendance",
    ):
        assert (await h.client.get(url, headers=other)).status_code == 403, url


async def test_scope_a_leader_not_rostered(h: Harness) -> None:
    await given_session(h, "S1", leaders=("L100",))
    stranger = h.auth("leader", "L999")
    for url, body in (
        ("/sessions/S1/attendances", {"student_number": "1001"}),
        ("/sessions/S1/kiosk", {"student_number": "1001"}),
        ("/sessions/S1/leader-sign-in", None),
        ("/sessions/S1/attendances/1001/revoke", {"reason": "x"}),
    ):
        r = await h.client.post(url, json=body, headers=stranger)
        assert r.status_code == 403, (url, r.text)
    for url in (
        "/sessions/S1/qr-code",
        "/sessions/S1/headcount",
        "/sessions/S1/attendances",
        "/sessions/S1/feedback",
    ):
        assert (await h.client.get(url, headers=stranger)).status_code == 403, url


async def test_scope_a_student_acting_for_another(h: Harness) -> None:
    await given_session(h, "S1", leaders=("L100",))
    code = qr_codes(settings(h)).issue("S1", now())
    student = h.auth("student", "1001")
    r = await h.client.post(
        "/sessions/S1/sign-in", json={"code": code, "student_number": "1002"}, headers=student
    )
    assert r.status_code == 403
    for url in ("/students/1002/attendance", "/leaders/L100/sessions-delivered"):
        assert (await h.client.get(url, headers=student)).status_code == 403, url


async def test_a_route_without_a_row_fails_the_table(h: Harness) -> None:
    await given_session(h, "S1", leaders=("L100",))

    async def unruled() -> dict[str, str]:
        return {"anyone": "may call this"}

    h.app.add_api_route("/unruled", unruled, methods=["GET"])
    with pytest.raises(AssertionError) as failed:
        await check_table(h, "attendance", WORLD)
    assert "GET /unruled: no row in docs/access.md (attendance)" in str(failed.value)
    # the row to review and paste: everyone, even without a token, is let in
    assert "| `GET /unruled` | yes | yes | yes | yes | yes | yes | yes |" in str(failed.value)
