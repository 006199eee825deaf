"""Who may do what to a session's attendance. Pure: each check gets the actor and the session
and raises `Forbidden` when the answer is no."""

from __future__ import annotations

from passhub_attendance.domain.model import READERS, STAFF, Actor, SessionView
from passhub_shared.errors import Forbidden


def _rostered_leader(actor: Actor, session: SessionView) -> bool:
    return actor.has("leader") and session.is_rostered(actor.sub)


def may_sign_in_self(actor: Actor, student_number: str) -> None:
    """QR and the app: a student signs in only as themself (leaders are students too)."""
    if not actor.has("student", "leader"):
        raise Forbidden("only students and leaders sign themselves in")
    if student_number != actor.sub:
        raise Forbidden(f"you are signed in as {actor.sub}: you cannot sign in {student_number}")


def may_add_by_hand(actor: Actor, session: SessionView) -> None:
    if not _rostered_leader(actor, session):
        raise Forbidden(
            f"only a leader rostered on session {session.session_id} can add students to it"
        )


def may_use_kiosk(actor: Actor, session: SessionView) -> None:
    """A room's kiosk runs on an integration account, or on a leader rostered on the session."""
    if actor.has("integration") or _rostered_leader(actor, session):
        return
    raise Forbidden(
        f"a kiosk signs in to session {session.session_id} with an integration account "
        "or the account of a leader rostered on it"
    )


def may_import(actor: Actor) -> None:
    if not actor.has(*STAFF):
        raise Forbidden("only coordinators and organisers import sign-in sheets")


def may_revoke(actor: Actor, session: SessionView | None) -> None:
    if actor.has(*STAFF):
        return
    if session is not None and _rostered_leader(actor, session):
        return
    raise Forbidden(
        "only a coordinator, an organiser or a leader rostered on the session can revoke "
        "an attendance"
    )


def may_show_code(actor: Actor, session: SessionView) -> None:
    """The session's QR code is shown by its rostered leaders (or staff, to help out)."""
    if actor.has(*STAFF) or _rostered_leader(actor, session):
        return
    raise Forbidden(f"only leaders rostered on session {session.session_id} show its code")


def may_read_session(actor: Actor, session: SessionView) -> None:
    if actor.has(*READERS) or _rostered_leader(actor, session):
        return
    raise Forbidden("only staff and the session's rostered leaders see its attendance")


def may_read_student(actor: Actor, student_number: str) -> None:
    """Students see only their own attendance."""
    if actor.has(*READERS) or actor.sub == student_number:
        return
    raise Forbidden("you can see only your own attendance")
