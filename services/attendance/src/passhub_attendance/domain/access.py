"""Who may do what to a session's attendance. Pure: each check gets the actor and the session
and raises `Forbidden` when the answer is no.

Scope: a coordinator acts on every scheme, an organiser only on the schemes they organise
(`Actor.organises`), a leader only on the sessions they are rostered on, a student only for
themself. The access table in docs/access.md lists every route.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from passhub_attendance.domain.model import READERS, STAFF, Actor, SessionView
from passhub_shared.web.errors import Forbidden


class FeedbackView(Enum):
    """How much of a session's feedback a reader sees."""

    #: student numbers of those who did not ask to be anonymous, and their comments
    NAMED = "named"
    #: the sheets and comments, no student numbers
    ANONYMISED = "anonymised"


def _rostered_leader(actor: Actor, session: SessionView) -> bool:
    return actor.has("leader") and session.is_rostered(actor.sub)


def _not_theirs(actor: Actor, scheme_id: str) -> Forbidden:
    return Forbidden(f"{actor.sub} does not organise scheme {scheme_id}")


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


def may_add_after_the_fact(actor: Actor, session: SessionView) -> None:
    """A coordinator, or an organiser of the session's scheme, corrects the record by hand."""
    if actor.runs(session.scheme_id):
        return
    raise _not_theirs(actor, session.scheme_id)


def may_use_kiosk(actor: Actor, session: SessionView) -> None:
    """A room's kiosk runs on an integration account, or on a leader rostered on the session."""
    if actor.has("integration") or _rostered_leader(actor, session):
        return
    raise Forbidden(
        f"a kiosk signs in to session {session.session_id} with an integration account "
        "or the account of a leader rostered on it"
    )


def may_import(actor: Actor, sessions: Iterable[SessionView | None] = ()) -> None:
    """A sheet is imported by a coordinator, or by an organiser of every scheme it touches."""
    if not actor.has(*STAFF):
        raise Forbidden("only coordinators and organisers import sign-in sheets")
    for session in sessions:
        if session is not None and not actor.runs(session.scheme_id):
            raise Forbidden(
                f"the sheet signs in to session {session.session_id} of scheme "
                f"{session.scheme_id}, which {actor.sub} does not organise"
            )


def may_revoke(actor: Actor, session: SessionView | None) -> None:
    if session is None and actor.has(*STAFF):
        return  # nothing to revoke: the command answers "not found"
    if session is not None and (actor.runs(session.scheme_id) or _rostered_leader(actor, session)):
        return
    if session is not None and actor.has("organiser"):
        raise _not_theirs(actor, session.scheme_id)
    raise Forbidden(
        "only a coordinator, an organiser of the scheme or a leader rostered on the session "
        "can revoke an attendance"
    )


def may_show_code(actor: Actor, session: SessionView) -> None:
    """The session's QR code is shown by its rostered leaders (or its scheme's staff, to help
    out)."""
    if actor.runs(session.scheme_id) or _rostered_leader(actor, session):
        return
    if actor.has("organiser"):
        raise _not_theirs(actor, session.scheme_id)
    raise Forbidden(f"only leaders rostered on session {session.session_id} show its code")


def may_read_session(actor: Actor, session: SessionView) -> None:
    """Headcount and attendances: coordinators, academics and integrations, the scheme's
    organisers and the session's rostered leaders."""
    if actor.has("coordinator", "academic", "integration"):
        return
    if actor.runs(session.scheme_id) or _rostered_leader(actor, session):
        return
    if actor.has("organiser"):
        raise _not_theirs(actor, session.scheme_id)
    raise Forbidden("only staff and the session's rostered leaders see its attendance")


def may_read_scheme(actor: Actor, scheme_id: str) -> None:
    """A scheme's attendance: coordinators, academics and integrations, and its organisers."""
    if actor.has("coordinator", "academic", "integration") or actor.runs(scheme_id):
        return
    raise _not_theirs(actor, scheme_id)


def may_audit(actor: Actor, session: SessionView) -> None:
    """A session's audit trail: coordinators, and the organisers of its scheme."""
    if actor.runs(session.scheme_id):
        return
    raise _not_theirs(actor, session.scheme_id)


def feedback_view(actor: Actor, session: SessionView) -> FeedbackView:
    """A session's feedback sheets: named for coordinators; anonymised for the organisers of
    its scheme and the leaders rostered on it. Academics get only the evaluation's aggregate
    reports, without comments."""
    if actor.has("coordinator"):
        return FeedbackView.NAMED
    if actor.runs(session.scheme_id) or _rostered_leader(actor, session):
        return FeedbackView.ANONYMISED
    if actor.has("organiser"):
        raise _not_theirs(actor, session.scheme_id)
    raise Forbidden(
        "a session's feedback is for coordinators, its scheme's organisers and its leaders"
    )


def may_read_student(actor: Actor, student_number: str) -> None:
    """Students see only their own attendance."""
    if actor.has(*READERS) or actor.sub == student_number:
        return
    raise Forbidden("you can see only your own attendance")


def may_read_feedback_given(actor: Actor, student_number: str) -> None:
    """The feedback sheets a student gave with their name on are for that student alone (staff
    read a session's sheets, not a person's)."""
    if actor.sub != student_number:
        raise Forbidden("you can see only the feedback you gave")
