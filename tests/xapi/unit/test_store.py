"""The bridge's store forgets a person by the key id their fields were sealed under, and its
file keeps none of their bytes afterwards."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from passhub_xapi.store import Store

LEADER, OTHER, STUDENT = "70014321", "70029999", "60013579"
LEADER_KEY, OTHER_KEY, STUDENT_KEY = "kLeaderAAAA", "kOtherBBBBB", "kStudentCCC"


def file_bytes(path: Path) -> bytes:
    return b"".join(
        p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )


def given_a_session_with_two_leaders_a_sign_in_and_a_parked_event(path: Path) -> Store:
    store = Store(path)
    scheduled = {
        "type": "passhub.sessions.session_scheduled.v1",
        "data": {
            "session_id": "S1",
            "scheme_id": "PHYS",
            "starts_at": "2026-10-05T13:00:00+00:00",
            "ends_at": "2026-10-05T14:00:00+00:00",
            "room": "P/T/005",
            "capacity": 40,
        },
    }
    rostered = [
        {
            "type": "passhub.sessions.leader_rostered.v1",
            "data": {"session_id": "S1", "student_number": number},
            "sealed_under": {"student_number": key},
        }
        for number, key in ((LEADER, LEADER_KEY), (OTHER, OTHER_KEY))
    ]
    store.apply_sessions_events([scheduled, *rostered])
    store.record_sign_ins([("S1", STUDENT_KEY, 7, "statement-1")])
    sealed = f"pii:{STUDENT_KEY}:c2VhbGVk"
    event = {"id": "e1", "data": {"student_number": sealed, "signed_in_at": "?"}}
    store.park("statement-2", event, 8, None, "cannot map", None, {STUDENT_KEY})
    return store


def test_forgetting_a_leader_drops_them_from_their_sessions_and_from_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bridge.sqlite3"
    store = given_a_session_with_two_leaders_a_sign_in_and_a_parked_event(path)
    assert LEADER.encode() in file_bytes(path)

    changed = store.forget([LEADER_KEY])

    assert changed == 1
    session = store.session("S1")
    assert session is not None and session.leaders == (OTHER,)
    assert store.sign_in_before("S1", STUDENT_KEY, 9) == "statement-1"
    store.close()
    assert LEADER.encode() not in file_bytes(path)
    assert LEADER_KEY.encode() not in file_bytes(path)
    assert OTHER.encode() in file_bytes(path)


def test_forgetting_a_student_deletes_their_sign_ins_and_parked_events(tmp_path: Path) -> None:
    path = tmp_path / "bridge.sqlite3"
    store = given_a_session_with_two_leaders_a_sign_in_and_a_parked_event(path)

    changed = store.forget([STUDENT_KEY])

    assert changed == 2
    assert store.sign_in_before("S1", STUDENT_KEY, 9) is None
    assert store.parked() == []
    assert store.forget([STUDENT_KEY]) == 0  # again: nothing left
    store.close()
    assert STUDENT_KEY.encode() not in file_bytes(path)


def test_an_older_store_drops_its_clear_numbers_and_keeps_its_parked_events(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bridge.sqlite3"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE schemes (scheme_id TEXT PRIMARY KEY, code TEXT NOT NULL,
            title TEXT NOT NULL, academic_year TEXT NOT NULL, mode TEXT NOT NULL,
            modules TEXT NOT NULL);
        CREATE TABLE sessions (session_id TEXT PRIMARY KEY, scheme_id TEXT NOT NULL,
            starts_at TEXT NOT NULL, ends_at TEXT NOT NULL, room TEXT NOT NULL,
            capacity INTEGER NOT NULL, cancelled INTEGER NOT NULL DEFAULT 0,
            leaders TEXT NOT NULL DEFAULT '[]');
        CREATE TABLE sign_ins (session_id TEXT NOT NULL, student_number TEXT NOT NULL,
            seq INTEGER NOT NULL, statement_id TEXT NOT NULL,
            PRIMARY KEY (session_id, student_number, seq));
        CREATE TABLE parked (statement_id TEXT PRIMARY KEY, event_id TEXT NOT NULL,
            seq INTEGER NOT NULL, event TEXT NOT NULL, statement TEXT, reason TEXT NOT NULL,
            status INTEGER, parked_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 1);
        """
    )
    old.execute("INSERT INTO sign_ins VALUES ('S1', ?, 1, 'st')", (STUDENT,))
    old.execute(
        "INSERT INTO parked VALUES ('p1', 'e1', 2, ?, NULL, 'why', NULL, 'now', 1)",
        (json.dumps({"id": "e1", "data": {}}),),
    )
    old.commit()
    old.close()

    store = Store(path)

    assert store.rebuilt
    assert [p.statement_id for p in store.parked()] == ["p1"]
    store.close()
    assert STUDENT.encode() not in file_bytes(path)
