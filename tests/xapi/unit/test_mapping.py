"""The mapping alone, given an event and what the bridge knows of its session."""

from __future__ import annotations

from datetime import UTC, datetime

from passhub_xapi import mapping
from passhub_xapi.mapping import Scheme, Session, Vocabulary

VOCAB = Vocabulary(
    home_page="https://sso.example.ac.uk", activity_base="https://pass.example.ac.uk"
)
START = datetime(2026, 10, 5, 13, 0, tzinfo=UTC)
SESSION = Session("S 1/a", "2026-27-PHYS", START, START.replace(hour=14), "P/T/005", 40, ("L1",))


def scheme(mode: str = "opt_in", modules: tuple[str, ...] = ("PHYS101",)) -> Scheme:
    return Scheme("2026-27-PHYS", "PHYS", "Physics PASS", "2026-27", mode, modules)


def signed_in(method: str = "qr", event_id: str = "0190e0d0-0000-7000-8000-000000000001") -> dict:
    return {
        "id": event_id,
        "type": "passhub.attendance.student_signed_in.v1",
        "data": {
            "session_id": "S 1/a",
            "scheme_id": "2026-27-PHYS",
            "modules": [],
            "student_number": "1001",
            "signed_in_at": "2026-10-05T14:05:00+01:00",
            "method": method,
        },
    }


def test_the_statement_id_is_a_uuid5_of_the_event_id_and_stable() -> None:
    a = mapping.attended(VOCAB, signed_in(), scheme(), SESSION)
    b = mapping.attended(VOCAB, signed_in(), scheme(), SESSION)
    other = mapping.attended(VOCAB, signed_in(event_id="another"), scheme(), SESSION)
    assert a["id"] == b["id"] != other["id"]
    assert a["id"][14] == "5"  # version 5


def test_opt_in_is_non_timetabled_and_opt_out_timetabled_never_mandatory() -> None:
    drop_in = mapping.attended(VOCAB, signed_in(), scheme("opt_in"), SESSION)["object"]
    timetabled = mapping.attended(VOCAB, signed_in(), scheme("opt_out"), SESSION)["object"]
    assert drop_in["definition"]["type"] == "http://xapi.jisc.ac.uk/event_non-timetabled"
    assert timetabled["definition"]["type"] == "http://xapi.jisc.ac.uk/event_timetabled"
    for activity in (drop_in, timetabled):
        assert activity["definition"]["extensions"]["http://xapi.jisc.ac.uk/event_mandatory"] == 0


def test_ids_are_iris_whatever_the_session_id_and_times_are_utc() -> None:
    statement = mapping.attended(VOCAB, signed_in("import"), scheme(), SESSION)
    assert statement["object"]["id"] == "https://pass.example.ac.uk/sessions/S%201%2Fa"
    assert statement["timestamp"] == "2026-10-05T13:00:00.000Z"
    assert statement["result"]["extensions"]["http://xapi.jisc.ac.uk/submission_time"] == (
        "2026-10-05T13:05:00.000Z"
    )
    assert statement["context"]["extensions"]["http://xapi.jisc.ac.uk/captured_from"] == "paper"


def test_one_leader_is_an_agent_several_a_group_none_no_instructor() -> None:
    assert mapping.instructor(VOCAB, ("L1",)) == VOCAB.agent("L1")
    group = mapping.instructor(VOCAB, ("L2", "L1"))
    assert group == {"objectType": "Group", "member": [VOCAB.agent("L1"), VOCAB.agent("L2")]}
    alone = Session("S", "2026-27-PHYS", START, START, "R", 1, ())
    assert "instructor" not in mapping.attended(VOCAB, signed_in(), scheme(), alone)["context"]


def test_a_scheme_without_modules_has_no_course_area() -> None:
    context = mapping.attended(VOCAB, signed_in(), scheme(modules=()), SESSION)["context"]
    assert "http://xapi.jisc.ac.uk/courseArea" not in context["extensions"]
    assert "grouping" not in context["contextActivities"]


def test_a_voiding_statement_refers_to_the_statement_it_voids_and_has_no_platform() -> None:
    revoked = {
        "id": "0190e0d0-0000-7000-8000-000000000002",
        "time": "2026-10-05T13:30:00Z",
        "data": {"reason": "signed in for a friend"},
    }
    voiding = mapping.voiding(VOCAB, revoked, "target-id")
    assert voiding["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"
    assert voiding["object"] == {"objectType": "StatementRef", "id": "target-id"}
    assert "platform" not in voiding["context"]  # xAPI: only with an Activity as object
