"""Use cases whose rules were reachable only through HTTP, called on a real PostgreSQL
connection: what each appends, what the projections then hold, and what each refuses."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from passhub_attendance import handlers
from passhub_attendance.domain import access
from passhub_attendance.domain.events import FeedbackGuardTaken
from passhub_attendance.domain.feedback import SubmitFeedback
from passhub_attendance.domain.model import Actor
from passhub_attendance.handlers import ImportRejected, SignInOutcome, SignInRequest
from passhub_shared.contracts.attendance import (
    AttendanceRevoked,
    FeedbackSubmitted,
    LeaderSignedIn,
    StudentSignedIn,
)
from passhub_shared.contracts.sessions import SessionCancelled
from passhub_shared.messages.events import Metadata
from passhub_shared.web.errors import Conflict, Forbidden, NotFound, Rejected
from tests.attendance.handlers.conftest import World
from tests.attendance.helpers import (
    ORGANISER,
    cancelled,
    now,
    scheme_launched,
    session_events,
)

SIGNED_IN = StudentSignedIn.type_name()
LEADER_IN = LeaderSignedIn.type_name()
REVOKED = AttendanceRevoked.type_name()

COORDINATOR = Actor("c1", frozenset({"coordinator"}))
OWN_ORGANISER = Actor(ORGANISER, frozenset({"organiser"}), frozenset({"2026-27-PHYS"}))
OTHER_ORGANISER = Actor("o9", frozenset({"organiser"}), frozenset({"2026-27-CHEM"}))


def kiosk(session_id: str, student_number: str, **kwargs: object) -> SignInRequest:
    return SignInRequest(
        session_id, student_number, "kiosk", now(), Metadata(actor="kiosk-1"), **kwargs
    )  # type: ignore[arg-type]


async def test_a_batch_of_sign_ins_decides_each_request_on_its_own(world: World) -> None:
    await world.given(
        scheme_launched(),
        session_events("S1"),
        session_events("LATER", starts_at=now() + timedelta(hours=3)),
    )
    outcomes = await handlers.sign_in_many(
        world.conn,
        world.ctx,
        [
            kiosk("S1", "20000001"),
            kiosk("S1", "L100"),  # rostered: counted as the session's leader
            kiosk("LATER", "20000002"),  # not open yet
            kiosk("NONE", "20000003"),
            kiosk("S1", "20000001"),  # again: the same attendance
        ],
    )
    first, leader, later, unknown, again = outcomes
    assert isinstance(first, SignInOutcome) and first.created
    assert isinstance(leader, SignInOutcome) and leader.attendance.role == "leader"
    assert isinstance(later, Rejected) and later.code == "sign_in_not_open"
    assert isinstance(unknown, NotFound)
    assert isinstance(again, SignInOutcome) and not again.created
    assert [e.type for e in await world.appended()] == [SIGNED_IN, LEADER_IN]
    rows = await world.attendance_rows("S1")
    assert {n: (r.role, r.method, r.active) for n, r in rows.items()} == {
        "20000001": ("student", "kiosk", True),
        "L100": ("leader", "kiosk", True),
    }
    assert await world.attendance_rows("LATER") == {}


async def test_staff_add_an_attendance_after_the_fact_only_in_their_own_schemes(
    world: World,
) -> None:
    start = now() - timedelta(days=2)
    await world.given(scheme_launched(), session_events("OLD", starts_at=start))

    def after_the_fact(student_number: str, who: Actor) -> SignInRequest:
        return SignInRequest(
            "OLD",
            student_number,
            "import",
            now(),
            Metadata(actor=who.sub),
            at=start,
            authorise=lambda session: access.may_add_after_the_fact(who, session),
            reason="signed the paper sheet",
        )

    own, other = await handlers.sign_in_many(
        world.conn,
        world.ctx,
        [after_the_fact("20000001", OWN_ORGANISER), after_the_fact("20000002", OTHER_ORGANISER)],
    )
    assert isinstance(own, SignInOutcome) and own.attendance.signed_in_at == start
    assert isinstance(other, Forbidden)
    assert [e.type for e in await world.appended()] == [SIGNED_IN]
    row = (await world.attendance_rows("OLD"))["20000001"]
    assert (row.method, row.signed_in_at) == ("import", start)


async def test_a_revocation_needs_an_attendance_and_the_right_to_revoke_it(world: World) -> None:
    await world.given(scheme_launched(), session_events("S1"))
    await handlers.sign_in_many(world.conn, world.ctx, [kiosk("S1", "20000001")])

    def may(who: Actor):  # type: ignore[no-untyped-def]
        return lambda session: access.may_revoke(who, session)

    with pytest.raises(Forbidden):
        await handlers.revoke(
            world.conn, world.as_("o9"), "S1", "20000001", "wrong room", may(OTHER_ORGANISER)
        )
    with pytest.raises(NotFound):
        await handlers.revoke(
            world.conn, world.as_("c1"), "S1", "20000009", "never came", may(COORDINATOR)
        )
    recorded = await handlers.revoke(
        world.conn, world.as_(ORGANISER), "S1", "20000001", "wrong room", may(OWN_ORGANISER)
    )
    assert recorded.type == REVOKED
    assert recorded.data["reason"] == "wrong room"
    assert [e.type for e in await world.appended()] == [SIGNED_IN, REVOKED]
    row = (await world.attendance_rows("S1"))["20000001"]
    assert (row.active, row.revoked_reason) == (False, "wrong room")


def feedback(student_number: str, *, anonymous: bool = False) -> SubmitFeedback:
    return SubmitFeedback(
        feedback_id=str(uuid.uuid4()),
        session_id="S1",
        student_number=student_number,
        guard="",
        understanding=5,
        enjoyable=4,
        recommend=2,
        comment="  the worked examples helped  ",
        anonymous=anonymous,
    )


async def test_feedback_once_per_attending_student_and_anonymous_without_an_author(
    world: World,
) -> None:
    await world.given(scheme_launched(), session_events("S1"))
    await handlers.sign_in_many(world.conn, world.ctx, [kiosk("S1", "20000001")])
    with pytest.raises(Rejected) as refused:
        await handlers.submit_feedback(world.conn, world.as_("20000002"), feedback("20000002"))
    assert refused.value.code == "not_attended"

    given = feedback("20000001", anonymous=True)
    feedback_id = await handlers.submit_feedback(world.conn, world.as_("20000001"), given)
    assert feedback_id == given.feedback_id
    with pytest.raises(Conflict):
        await handlers.submit_feedback(world.conn, world.as_("20000001"), feedback("20000001"))

    appended = await world.appended()
    assert [(e.type, e.actor) for e in appended[1:]] == [
        (FeedbackGuardTaken.type_name(), None),
        (FeedbackSubmitted.type_name(), None),
    ]
    sheet = (
        await world.conn.exec_driver_sql(
            "SELECT student_number, comment, recommend FROM attendance_feedback"
        )
    ).one()
    assert tuple(sheet) == (None, "the worked examples helped", 2)


SHEET = "session_id,student_number,signed_in_at,role\n"


async def test_a_sheet_is_imported_whole_or_not_at_all_and_a_dry_run_saves_nothing(
    world: World,
) -> None:
    await world.given(scheme_launched(), session_events("S1"), session_events("S2"))
    settings = world.ctx.settings
    only_own = lambda sessions: access.may_import(OWN_ORGANISER, sessions)  # noqa: E731

    with pytest.raises(ImportRejected):  # a header and no lines
        await handlers.read_sheet(settings, SHEET)
    bad = await handlers.read_sheet(
        settings, SHEET + "S1,20000001,,\nNOPE,20000002,,\nS1,not a number!,,\n"
    )
    with pytest.raises(ImportRejected) as rejected:
        await handlers.import_sheet(world.conn, world.as_(ORGANISER), bad, authorise=only_own)
    assert sorted({e.line for e in rejected.value.errors}) == [3, 4]
    assert await world.appended() == []

    good = await handlers.read_sheet(settings, SHEET + "S1,20000001,,\nS2,L100,,leader\n")
    checked = await handlers.import_sheet(
        world.conn, world.as_(ORGANISER), good, authorise=only_own, dry_run=True
    )
    assert checked.imported == 2
    assert await world.appended() == []

    plan = await handlers.import_sheet(world.conn, world.as_(ORGANISER), good, authorise=only_own)
    assert (plan.imported, plan.already_recorded) == (2, 0)
    assert [e.type for e in await world.appended()] == [SIGNED_IN, LEADER_IN]
    assert (await world.attendance_rows("S1"))["20000001"].method == "import"
    assert (await world.attendance_rows("S2"))["L100"].role == "leader"
    again = await handlers.import_sheet(world.conn, world.as_(ORGANISER), good, authorise=only_own)
    assert (again.imported, again.already_recorded) == (0, 2)

    with pytest.raises(Forbidden):
        await handlers.import_sheet(
            world.conn,
            world.as_("o9"),
            good,
            authorise=lambda sessions: access.may_import(OTHER_ORGANISER, sessions),
        )


async def test_a_cancellation_revokes_every_attendance_of_its_session(world: World) -> None:
    await world.given(scheme_launched(), session_events("S1"), session_events("S2"))
    await handlers.sign_in_many(
        world.conn,
        world.ctx,
        [kiosk("S1", "20000002"), kiosk("S1", "20000001"), kiosk("S2", "20000001")],
    )
    cancel = cancelled("S1")
    await world.given(cancel)
    await handlers.revoke_cancelled(world.conn, world.ctx, cancel)

    revocations = [e for e in await world.appended() if e.type == REVOKED]
    assert len(revocations) == 2
    assert {e.causation_id for e in revocations} == {str(cancel.id)}
    rows = await world.attendance_rows("S1")
    reason = f"session cancelled: {cancel.as_(SessionCancelled).reason}"
    assert {n: (r.active, r.revoked_reason) for n, r in rows.items()} == {
        "20000001": (False, reason),
        "20000002": (False, reason),
    }
    assert (await world.attendance_rows("S2"))["20000001"].active
