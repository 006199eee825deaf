"""The bridge's own small store: one SQLite file.

It keeps what the attendance events do not carry and the bridge must remember:

- schemes and sessions, from the sessions stream (times, room, capacity, mode, leaders), to
  describe the session a sign-in is for;
- the statement id of every sign-in, with its position in the attendance stream, so that a
  revocation voids the sign-in it follows (also when the stream is sent again);
- statements parked because the LRS rejected them, with the reason, for an operator.

The first two can be rebuilt from the streams; only parked statements exist nowhere else.
SQLite because the bridge is one process and needs nothing more: no server to run, one file
on a volume, transactions, and a table an operator can read.

Everything about a person is filed under the key id their fields were sealed under, so that
`forget` (on `person_erased`, or a key gone from the bucket) finds it: a sign-in is kept under
the student's key id (never their number), a rostered leader's number beside their key id,
and a parked event as it came, sealed, with the key ids it holds. Deleted rows are overwritten
(`secure_delete`) and the write-ahead log is emptied after a deletion, so the file keeps no
bytes of what was forgotten.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from passhub_xapi.mapping import Scheme, Session

log = logging.getLogger("passhub_xapi")

#: the store's layout (`PRAGMA user_version`): 2 files what it keeps under key ids
VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schemes (
    scheme_id TEXT PRIMARY KEY, code TEXT NOT NULL, title TEXT NOT NULL,
    academic_year TEXT NOT NULL, mode TEXT NOT NULL, modules TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY, scheme_id TEXT NOT NULL, starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL, room TEXT NOT NULL, capacity INTEGER NOT NULL,
    cancelled INTEGER NOT NULL DEFAULT 0, leaders TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS sign_ins (
    session_id TEXT NOT NULL, student TEXT NOT NULL, seq INTEGER NOT NULL,
    statement_id TEXT NOT NULL, PRIMARY KEY (session_id, student, seq)
);
CREATE INDEX IF NOT EXISTS sign_ins_student ON sign_ins (student);
CREATE TABLE IF NOT EXISTS parked (
    statement_id TEXT PRIMARY KEY, event_id TEXT NOT NULL, seq INTEGER NOT NULL,
    event TEXT NOT NULL, statement TEXT, reason TEXT NOT NULL, status INTEGER,
    parked_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 1,
    key_ids TEXT NOT NULL DEFAULT ''
);
"""

# A store of version 1 kept students' and leaders' numbers in clear with nothing to find
# them by on erasure: its rebuildable tables are dropped (the sessions consumer then reads
# its stream again from the start) and parked rows, which exist nowhere else, are kept.
_FROM_VERSION_1 = (
    "DROP TABLE IF EXISTS schemes",
    "DROP TABLE IF EXISTS sessions",
    "DROP TABLE IF EXISTS sign_ins",
    "ALTER TABLE parked ADD COLUMN key_ids TEXT NOT NULL DEFAULT ''",
)


@dataclass(frozen=True)
class Parked:
    statement_id: str
    event_id: str
    seq: int
    event: dict[str, Any]
    statement: dict[str, Any] | None
    reason: str
    status: int | None
    parked_at: str
    attempts: int


class Store:
    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        # a deleted row's bytes are overwritten, not left in a free page
        self.db.execute("PRAGMA secure_delete=ON")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        #: True when an older store's rebuildable tables were dropped: the sessions stream
        #: must be read again from its start
        self.rebuilt = self._migrate()
        self.db.executescript(_SCHEMA)
        self.db.execute(f"PRAGMA user_version={VERSION}")
        # sessions and schemes read per sign-in, kept until the sessions stream changes them
        self._schemes: dict[str, Scheme] = {}
        self._sessions: dict[str, Session] = {}

    def _migrate(self) -> bool:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        had = self.db.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sessions'"
        ).fetchone()[0]
        if version >= VERSION or not had:
            return False
        log.warning(
            "the store is of an older layout: sessions and sign-ins are read again from the"
            " streams (run `passhub-xapi resend` once to void revocations of older sign-ins)"
        )
        with self._transaction():
            for statement in _FROM_VERSION_1:
                self.db.execute(statement)
        self._checkpoint()
        return True

    def close(self) -> None:
        self.db.close()

    # -- forgetting a person -----------------------------------------------------------

    def forget(self, key_ids: list[str]) -> int:
        """Delete what the store holds about the people sealed under `key_ids`: their
        sign-ins, their place among a session's leaders, parked events naming them. Returns
        the rows changed. The file keeps none of their bytes afterwards."""
        ids = sorted({k for k in key_ids if k})
        if not ids:
            return 0
        changed = 0
        with self._transaction():
            for key_id in ids:
                changed += self.db.execute(
                    "DELETE FROM sign_ins WHERE student = ?", (key_id,)
                ).rowcount
                changed += self.db.execute(
                    "DELETE FROM parked WHERE instr(key_ids, ?) > 0", (f" {key_id} ",)
                ).rowcount
                rows = self.db.execute(
                    "SELECT session_id, leaders FROM sessions WHERE instr(leaders, ?) > 0",
                    (json.dumps(key_id),),
                ).fetchall()
                for session_id, leaders in rows:
                    kept = {n: k for n, k in _leaders(leaders).items() if k != key_id}
                    self.db.execute(
                        "UPDATE sessions SET leaders = ? WHERE session_id = ?",
                        (json.dumps(kept, sort_keys=True), session_id),
                    )
                    changed += 1
        if changed:
            self._sessions.clear()
            self._checkpoint()
        return changed

    def _checkpoint(self) -> None:
        """Copy the write-ahead log into the file and empty it (its frames hold the pages
        as they were before)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- sessions stream ---------------------------------------------------------------

    def apply_sessions_events(self, events: list[dict[str, Any]]) -> None:
        """Fold events of the sessions stream into schemes and sessions (in one transaction;
        types the bridge does not need are skipped)."""
        with self._transaction():
            for event in events:
                self._apply(event)
        self._schemes.clear()
        self._sessions.clear()

    def _apply(self, event: dict[str, Any]) -> None:
        kind = str(event.get("type", "")).removeprefix("passhub.sessions.").rsplit(".", 1)[0]
        d = event.get("data") or {}
        x = self.db.execute
        if kind == "scheme_launched":
            x(
                "INSERT OR REPLACE INTO schemes VALUES (?, ?, ?, ?, ?, ?)",
                (
                    d["scheme_id"],
                    d.get("code", ""),
                    d.get("title", ""),
                    d.get("academic_year", ""),
                    d.get("mode", "opt_in"),
                    json.dumps(d.get("modules", [])),
                ),
            )
        elif kind in ("session_scheduled", "session_rescheduled"):
            x(
                "INSERT INTO sessions (session_id, scheme_id, starts_at, ends_at, room, capacity)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET"
                " starts_at = excluded.starts_at, ends_at = excluded.ends_at,"
                " room = excluded.room, capacity = excluded.capacity",
                (
                    d["session_id"],
                    d["scheme_id"],
                    d["starts_at"],
                    d["ends_at"],
                    d.get("room", ""),
                    int(d.get("capacity", 0)),
                ),
            )
        elif kind == "session_cancelled":
            x("UPDATE sessions SET cancelled = 1 WHERE session_id = ?", (d["session_id"],))
        elif kind in ("leader_rostered", "leader_unrostered"):
            row = x("SELECT leaders FROM sessions WHERE session_id = ?", (d["session_id"],))
            found = row.fetchone()
            if found is None:
                return
            leaders = _leaders(found[0])
            number = str(d["student_number"])
            if kind == "leader_rostered":
                # filed under the key id the number was sealed under, to be found on erasure
                leaders[number] = (event.get("sealed_under") or {}).get("student_number", "")
            else:
                leaders.pop(number, None)
            x(
                "UPDATE sessions SET leaders = ? WHERE session_id = ?",
                (json.dumps(leaders, sort_keys=True), d["session_id"]),
            )

    # Only what was found is kept: `passhub-xapi parked retry` or `resend`, in another process
    # on the same file, may add a session this process has not read yet.

    def scheme(self, scheme_id: str) -> Scheme | None:
        found = self._schemes.get(scheme_id) or self._scheme(scheme_id)
        if found is not None:
            self._schemes[scheme_id] = found
        return found

    def session(self, session_id: str) -> Session | None:
        found = self._sessions.get(session_id) or self._session(session_id)
        if found is not None:
            self._sessions[session_id] = found
        return found

    def _scheme(self, scheme_id: str) -> Scheme | None:
        row = self.db.execute(
            "SELECT scheme_id, code, title, academic_year, mode, modules FROM schemes"
            " WHERE scheme_id = ?",
            (scheme_id,),
        ).fetchone()
        if row is None:
            return None
        return Scheme(row[0], row[1], row[2], row[3], row[4], tuple(json.loads(row[5])))

    def _session(self, session_id: str) -> Session | None:
        row = self.db.execute(
            "SELECT session_id, scheme_id, starts_at, ends_at, room, capacity, leaders"
            " FROM sessions WHERE session_id = ?",
            (session_id,),
        ).fetchone()
        if row is None:
            return None
        return Session(
            row[0],
            row[1],
            datetime.fromisoformat(row[2]),
            datetime.fromisoformat(row[3]),
            row[4],
            row[5],
            tuple(sorted(_leaders(row[6]))),
        )

    # -- sign-ins, for voiding ---------------------------------------------------------

    def record_sign_ins(self, rows: list[tuple[str, str, int, str]]) -> None:
        """(session_id, student, stream sequence, statement id) of sign-ins; `student` is the
        key id the student's number was sealed under (their number only if it came
        unsealed)."""
        with self._transaction():
            self.db.executemany("INSERT OR IGNORE INTO sign_ins VALUES (?, ?, ?, ?)", rows)

    def batch(self) -> _Tx:
        """One transaction around the writes of a batch (the sign-ins it records)."""
        return self._transaction()

    def sign_in_before(self, session_id: str, student: str, seq: int) -> str | None:
        """The statement of the last sign-in to this session before position `seq` of the
        stream: the one a revocation at `seq` revokes (`student` as in `record_sign_ins`)."""
        row = self.db.execute(
            "SELECT statement_id FROM sign_ins WHERE session_id = ? AND student = ?"
            " AND seq < ? ORDER BY seq DESC LIMIT 1",
            (session_id, student, seq),
        ).fetchone()
        return None if row is None else str(row[0])

    # -- parked statements -------------------------------------------------------------

    def park(
        self,
        statement_id: str,
        event: dict[str, Any],
        seq: int,
        statement: dict[str, Any] | None,
        reason: str,
        status: int | None,
        key_ids: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        """Park `event` (as it came, sealed) with the key ids of the people it names."""
        self.db.execute(
            "INSERT INTO parked VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)"
            " ON CONFLICT (statement_id) DO UPDATE SET reason = excluded.reason,"
            " status = excluded.status, statement = excluded.statement,"
            " parked_at = excluded.parked_at, attempts = parked.attempts + 1,"
            " key_ids = excluded.key_ids",
            (
                statement_id,
                str(event.get("id", "")),
                seq,
                json.dumps(event),
                None if statement is None else json.dumps(statement),
                reason[:2000],
                status,
                datetime.now(UTC).isoformat(timespec="seconds"),
                "".join(f" {k} " for k in sorted(key_ids)),
            ),
        )

    def parked(self, statement_id: str | None = None) -> list[Parked]:
        sql = (
            "SELECT statement_id, event_id, seq, event, statement, reason, status, parked_at,"
            " attempts FROM parked"
        )
        args: tuple[str, ...] = ()
        if statement_id is not None:
            sql += " WHERE statement_id = ?"
            args = (statement_id,)
        rows = self.db.execute(sql + " ORDER BY seq", args).fetchall()
        return [
            Parked(
                r[0],
                r[1],
                r[2],
                json.loads(r[3]),
                None if r[4] is None else json.loads(r[4]),
                r[5],
                r[6],
                r[7],
                r[8],
            )
            for r in rows
        ]

    def unpark(self, statement_id: str) -> None:
        self.db.execute("DELETE FROM parked WHERE statement_id = ?", (statement_id,))

    # ------------------------------------------------------------------------------------

    def _transaction(self) -> _Tx:
        return _Tx(self.db)


def _leaders(text: str) -> dict[str, str]:
    """A session's leaders: their numbers and the key id each was sealed under."""
    return {str(k): str(v) for k, v in (json.loads(text) or {}).items()}


class _Tx:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.outer = not self.db.in_transaction
        if self.outer:
            self.db.execute("BEGIN")

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        if self.outer:
            self.db.execute("COMMIT" if kind is None else "ROLLBACK")
