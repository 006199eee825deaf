"""passhub's published events as xAPI 1.0.3 statements, after Jisc's attendance recipe.

Pure functions: no I/O. The bridge hands in what it knows of the session (from the sessions
stream) and gets back the statement to post. docs/xapi.md has the mapping as a table.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote

ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
JISC = "http://xapi.jisc.ac.uk/"
EVENT_TIMETABLED = JISC + "event_timetabled"
EVENT_NON_TIMETABLED = JISC + "event_non-timetabled"

SIGNED_IN = "passhub.attendance.student_signed_in."
REVOKED = "passhub.attendance.attendance_revoked."

#: how the sign-in was captured, as `captured_from` says it
CAPTURED_FROM = {"qr": "qr", "kiosk": "kiosk", "leader": "leader", "import": "paper"}


def statement_id(event_id: str) -> str:
    """The statement's id: a UUIDv5 of the event's id, so a redelivered or re-sent event
    gives the same statement id, which an LRS stores once."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:uuid:{event_id}"))


@dataclass(frozen=True)
class Scheme:
    scheme_id: str
    code: str
    title: str
    academic_year: str
    mode: str  # opt_in | opt_out
    modules: tuple[str, ...] = ()


@dataclass(frozen=True)
class Session:
    session_id: str
    scheme_id: str
    starts_at: datetime
    ends_at: datetime
    room: str
    capacity: int
    leaders: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Vocabulary:
    """What an institution sets: where its accounts and activities live."""

    home_page: str
    activity_base: str
    platform: str = "passhub"
    event_type_description: str = "PASS session"
    language: str = "en-GB"

    def session_iri(self, session_id: str) -> str:
        return f"{self.activity_base}/sessions/{quote(session_id, safe='')}"

    def scheme_iri(self, scheme_id: str) -> str:
        return f"{self.activity_base}/schemes/{quote(scheme_id, safe='')}"

    def module_iri(self, module: str) -> str:
        return f"{self.activity_base}/modules/{quote(module, safe='')}"

    def agent(self, name: str) -> dict[str, Any]:
        return {"objectType": "Agent", "account": {"homePage": self.home_page, "name": name}}

    @property
    def revocation_reason(self) -> str:
        return f"{self.activity_base}/extensions/revocation_reason"


def xapi_time(value: datetime | str) -> str:
    """ISO 8601 in UTC with milliseconds and `Z`, as the recipe's examples write times."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def instructor(vocab: Vocabulary, leaders: tuple[str, ...]) -> dict[str, Any] | None:
    """The session's leaders: one Agent, or an anonymous Group of them (xAPI allows either)."""
    if not leaders:
        return None
    if len(leaders) == 1:
        return vocab.agent(leaders[0])
    return {"objectType": "Group", "member": [vocab.agent(name) for name in sorted(leaders)]}


def session_activity(vocab: Vocabulary, scheme: Scheme, session: Session) -> dict[str, Any]:
    lang = vocab.language
    start = xapi_time(session.starts_at)
    return {
        "objectType": "Activity",
        "id": vocab.session_iri(session.session_id),
        "definition": {
            "type": EVENT_TIMETABLED if scheme.mode == "opt_out" else EVENT_NON_TIMETABLED,
            "name": {lang: f"{scheme.title}, {start[:10]} {start[11:16]} UTC"},
            "description": {lang: f"{vocab.event_type_description} in {session.room}"},
            "extensions": {
                JISC + "event_type_description": vocab.event_type_description,
                JISC + "event_max_count": session.capacity,
                # PASS is voluntary, also where it is timetabled (opt-out)
                JISC + "event_mandatory": 0,
                JISC + "starttime": start,
                JISC + "endtime": xapi_time(session.ends_at),
            },
        },
    }


@dataclass(frozen=True)
class _SessionParts:
    """What every attendance of one session shares (built once per session)."""

    activity: dict[str, Any]
    parent: list[dict[str, Any]]
    instructor: dict[str, Any] | None
    timestamp: str


@lru_cache(maxsize=4096)
def _session_parts(vocab: Vocabulary, scheme: Scheme, session: Session) -> _SessionParts:
    return _SessionParts(
        session_activity(vocab, scheme, session),
        [
            {
                "objectType": "Activity",
                "id": vocab.scheme_iri(scheme.scheme_id),
                "definition": {"name": {vocab.language: scheme.title}},
            }
        ],
        instructor(vocab, session.leaders),
        # the recipe: the session's start, identical to the starttime extension
        xapi_time(session.starts_at),
    )


@lru_cache(maxsize=4096)
def _modules(vocab: Vocabulary, modules: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {
            "objectType": "Activity",
            "id": vocab.module_iri(module),
            "definition": {"name": {vocab.language: module}},
        }
        for module in modules
    ]


def attended(
    vocab: Vocabulary, event: dict[str, Any], scheme: Scheme, session: Session
) -> dict[str, Any]:
    """`student_signed_in` → the student attended the session. (Parts shared by a session's
    statements are the same objects: statements are serialised, never changed.)"""
    data = event["data"]
    shared = _session_parts(vocab, scheme, session)
    modules = tuple(data.get("modules") or scheme.modules)
    extensions: dict[str, Any] = {
        JISC + "recipeCat": "Attendance",
        JISC + "captured_from": CAPTURED_FROM.get(data["method"], data["method"]),
    }
    activities: dict[str, Any] = {"parent": shared.parent}
    if modules:
        extensions[JISC + "courseArea"] = {JISC + "uddModInstanceID": modules[0]}
        activities["grouping"] = _modules(vocab, modules)
    context: dict[str, Any] = {
        "platform": vocab.platform,
        "contextActivities": activities,
        "extensions": extensions,
    }
    if shared.instructor is not None:
        context["instructor"] = shared.instructor
    return {
        "id": statement_id(event["id"]),
        "actor": vocab.agent(data["student_number"]),
        "verb": {"id": ATTENDED, "display": {"en": "attended"}},
        "object": shared.activity,
        "result": {
            "completion": True,
            "extensions": {JISC + "submission_time": xapi_time(data["signed_in_at"])},
        },
        "context": context,
        "timestamp": shared.timestamp,
    }


def voiding(vocab: Vocabulary, event: dict[str, Any], target: str) -> dict[str, Any]:
    """`attendance_revoked` → passhub voids the statement of the sign-in it revokes."""
    return {
        "id": statement_id(event["id"]),
        "actor": vocab.agent(vocab.platform),
        "verb": {"id": VOIDED, "display": {"en": "voided"}},
        "object": {"objectType": "StatementRef", "id": target},
        "context": {"extensions": {vocab.revocation_reason: event["data"].get("reason", "")}},
        "timestamp": xapi_time(event["time"]),
    }
