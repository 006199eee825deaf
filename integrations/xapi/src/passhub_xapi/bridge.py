"""The bridge: passhub's attendance stream → xAPI statements → the LRS, exactly once.

Two durable JetStream pull consumers, from the start of their streams:

- `<durable>-sessions` on `PASSHUB_SESSIONS` keeps the bridge's store of schemes and sessions
  (a sign-in names its session but not its times, room or leaders);
- `<durable>-attendance` on `PASSHUB_ATTENDANCE` is mapped batch by batch; a batch is posted
  to the LRS, and its messages are acknowledged only once the LRS accepted every statement
  of it or the bridge parked the ones it rejected. A crash before the ack means the batch
  comes again and is posted again under the same statement ids, which the LRS ignores.

Only the public contract is used: the CloudEvents of docs/integrators.md, read as JSON, their
sealed personal fields opened with the stream key and the key bucket (`passhub_xapi.keys`). An
erased person's events are acknowledged and not sent, and what the store holds about them is
deleted as soon as the bridge learns of the erasure (a `person_erased` event on either stream,
or their key found gone from the bucket).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import nats
import orjson
from nats.aio.client import Client as Nats
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from passhub_xapi import mapping
from passhub_xapi.keys import (
    SEALED_UNDER,
    Keys,
    Unopenable,
    erased_keys,
    is_erasure,
    key_ids_in,
)
from passhub_xapi.lrs import Lrs, Outcome
from passhub_xapi.settings import BridgeSettings
from passhub_xapi.store import Store

log = logging.getLogger("passhub_xapi")

ATTENDANCE_STREAM = "PASSHUB_ATTENDANCE"
SESSIONS_STREAM = "PASSHUB_SESSIONS"
_FETCH_ERRORS = (nats.errors.TimeoutError, TimeoutError)


def vocabulary(settings: BridgeSettings) -> mapping.Vocabulary:
    return mapping.Vocabulary(
        home_page=settings.home_page,
        activity_base=settings.base,
        platform=settings.platform,
        event_type_description=settings.event_type_description,
        language=settings.language,
    )


@dataclass
class Mapped:
    """One attendance event: its statement, or why it has none (`skip`: nothing to send;
    `park`: the bridge cannot map it). `raw` is the event as it came, sealed: what is
    parked."""

    event: dict[str, Any]
    seq: int
    statement: dict[str, Any] | None = None
    park: str | None = None
    raw: dict[str, Any] | None = None


@dataclass
class Totals:
    events: int = 0
    statements: int = 0
    posted: int = 0
    conflicts: int = 0
    parked: int = 0
    requests: int = 0
    forgotten: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


class Bridge:
    def __init__(
        self, settings: BridgeSettings, store: Store | None = None, lrs: Lrs | None = None
    ) -> None:
        self.settings = settings
        self.vocab = vocabulary(settings)
        self.store = store or Store(settings.store_path)
        self.lrs = lrs or Lrs(settings)
        self.totals = Totals()
        self.keys = Keys(settings.stream_keys, on_missing=self._key_missing)
        self.nc: Nats | None = None
        self.js: JetStreamContext | None = None
        self._sessions: JetStreamContext.PullSubscription | None = None
        self._sessions_lock = asyncio.Lock()
        self._in_flight: list[Msg] = []

    # -- connections -------------------------------------------------------------------

    async def connect(self) -> None:
        # a cluster's nodes, comma-separated: nats-py takes them as a list
        servers = [url.strip() for url in self.settings.nats_url.split(",") if url.strip()]
        self.nc = await nats.connect(servers, max_reconnect_attempts=-1)
        self.js = self.nc.jetstream()
        self.lrs.on_retry = self._extend_in_flight
        if self.store.rebuilt:  # an older store's sessions were dropped: read them again
            with contextlib.suppress(NotFoundError):
                await self.js.delete_consumer(SESSIONS_STREAM, f"{self.settings.durable}-sessions")
            self.store.rebuilt = False

    async def close(self) -> None:
        if self.nc is not None:
            with contextlib.suppress(Exception):
                await self.nc.close()
        await self.lrs.aclose()
        self.store.close()

    async def _durable(self, stream: str, subject: str, name: str) -> Any:
        assert self.js is not None
        while True:
            try:
                return await self.js.pull_subscribe(
                    subject,
                    durable=name,
                    stream=stream,
                    config=ConsumerConfig(
                        deliver_policy=DeliverPolicy.ALL,
                        ack_policy=AckPolicy.EXPLICIT,
                        ack_wait=self.settings.ack_wait_seconds,
                        max_deliver=-1,
                        max_ack_pending=20_000,
                    ),
                )
            except NotFoundError:
                log.info("stream %s does not exist yet; waiting for passhub", stream)
                await asyncio.sleep(2)

    # -- the sessions stream -----------------------------------------------------------

    async def sync_sessions(self, timeout: float = 0.2) -> int:
        """Read the sessions stream as far as it goes now; returns the events applied."""
        if self._sessions is None:
            self._sessions = await self._durable(
                SESSIONS_STREAM, "passhub.sessions.>", f"{self.settings.durable}-sessions"
            )
        applied = 0
        async with self._sessions_lock:
            while True:
                try:
                    msgs = await self._sessions.fetch(1000, timeout=timeout)
                except _FETCH_ERRORS:
                    return applied
                events = []
                for msg in msgs:
                    try:
                        event = await self._opened(json.loads(msg.data))
                    except ValueError:
                        log.error("undecodable sessions message at %s", msg.metadata.sequence)
                        continue
                    except Unopenable as error:
                        log.error("sessions message at %s: %s", msg.metadata.sequence, error)
                        continue
                    if (event.get("data") or {}).get("student_number", "") is None:
                        continue  # a leader since erased
                    events.append(event)
                self.store.apply_sessions_events(events)
                for msg in msgs:
                    await msg.ack()
                applied += len(msgs)

    async def follow_sessions(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sync_sessions(timeout=1.0)
            except Exception:  # a lost connection: nats-py reconnects; try again
                log.exception("reading the sessions stream failed")
                await asyncio.sleep(1)

    async def _opened(self, event: dict[str, Any]) -> dict[str, Any]:
        assert self.js is not None
        if is_erasure(event):
            self.forget(erased_keys(event))
        return await self.keys.open_event(self.js, event)

    # -- erasure -----------------------------------------------------------------------

    def forget(self, key_ids: list[str]) -> None:
        """Drop the keys and delete everything the store holds about these people."""
        self.keys.forget(key_ids)
        changed = self.store.forget(key_ids)
        if changed:
            log.info("forgot %d record(s) of %d erased person(s)", changed, len(key_ids))
        self.totals.forgotten += changed

    def _key_missing(self, key_id: str) -> None:
        """A key gone from the bucket: the person was erased, maybe while the bridge was
        not reading the stream that says so."""
        changed = self.store.forget([key_id])
        self.totals.forgotten += changed

    # -- mapping -----------------------------------------------------------------------

    def map_one(self, event: dict[str, Any], seq: int) -> Mapped:
        kind = str(event.get("type", ""))
        data = event.get("data") or {}
        if event.get("unopenable"):
            return Mapped(event, seq, park=f"cannot open the event: {event['unopenable']}")
        try:
            if (
                kind.startswith((mapping.SIGNED_IN, mapping.REVOKED))
                and data.get("student_number", "") is None
            ):
                return Mapped(event, seq)  # the student was erased: nothing to send
            if kind.startswith(mapping.SIGNED_IN) and kind.endswith(".v1"):
                session = self.store.session(str(data["session_id"]))
                scheme = self.store.scheme(str(data["scheme_id"]))
                if session is None or scheme is None:
                    what = "session" if session is None else "scheme"
                    return Mapped(event, seq, park=f"{what} unknown to the bridge")
                statement = mapping.attended(self.vocab, event, scheme, session)
                self.store.record_sign_ins(
                    [(session.session_id, _student(event), seq, statement["id"])]
                )
                return Mapped(event, seq, statement)
            if kind.startswith(mapping.REVOKED) and kind.endswith(".v1"):
                if data.get("role") != "student":
                    return Mapped(event, seq)  # leaders' sign-ins are not statements
                target = self.store.sign_in_before(str(data["session_id"]), _student(event), seq)
                if target is None:
                    return Mapped(event, seq, park="no earlier sign-in to void")
                return Mapped(event, seq, mapping.voiding(self.vocab, event, target))
        except (KeyError, TypeError, ValueError) as error:
            return Mapped(event, seq, park=f"cannot map the event: {error!r}")
        # leader sign-ins, feedback (never sent: docs/xapi.md) and types the bridge does
        # not know (newer versions) are acknowledged and not sent
        return Mapped(event, seq)

    async def map_batch(self, msgs: Sequence[Msg]) -> list[Mapped]:
        decoded: list[tuple[dict[str, Any], dict[str, Any], int]] = []
        for msg in msgs:
            seq = msg.metadata.sequence.stream
            try:
                raw = orjson.loads(msg.data)
            except ValueError:
                raw = None
            if isinstance(raw, dict):
                try:
                    decoded.append((await self._opened(raw), raw, seq))
                except Unopenable as error:
                    decoded.append(({**raw, "unopenable": str(error)}, raw, seq))
            else:
                bad = {"id": f"nats-seq-{seq}", "undecodable": msg.data.decode("utf-8", "replace")}
                decoded.append((bad, bad, seq))
        if any(self._needs_sessions(event) for event, _, _ in decoded):
            await self.sync_sessions()
        with self.store.batch():
            items = []
            for event, raw, seq in decoded:
                item = self.map_one(event, seq)
                item.raw = raw
                items.append(item)
            return items

    def _needs_sessions(self, event: dict[str, Any]) -> bool:
        if not str(event.get("type", "")).startswith(mapping.SIGNED_IN):
            return False
        data = event.get("data") or {}
        return (
            self.store.session(str(data.get("session_id"))) is None
            or self.store.scheme(str(data.get("scheme_id"))) is None
        )

    # -- delivery ----------------------------------------------------------------------

    async def deliver(self, items: list[Mapped]) -> Outcome:
        """Post the statements of `items`; park what the LRS rejects or the bridge cannot
        map. Returns once every item is either in the LRS or parked."""
        statements: dict[str, dict[str, Any]] = {}
        origin: dict[str, Mapped] = {}
        for item in items:
            kind = str(item.event.get("type", "?")).split(".")[-2:-1]
            name = kind[0] if kind else "?"
            self.totals.by_type[name] = self.totals.by_type.get(name, 0) + 1
            if item.park is not None:
                self._park(item, None, item.park, None)
            elif item.statement is not None:
                statements.setdefault(item.statement["id"], item.statement)
                origin[item.statement["id"]] = item
        outcome, rejected = await self.lrs.deliver(list(statements.values()))
        for rejection in rejected:
            item = origin[rejection.statement["id"]]
            self._park(item, rejection.statement, rejection.reason, rejection.status)
        self.totals.events += len(items)
        self.totals.statements += len(statements)
        self.totals.posted += outcome.posted
        self.totals.conflicts += outcome.conflicts
        self.totals.requests += outcome.requests
        return outcome

    def _park(
        self, item: Mapped, statement: dict[str, Any] | None, reason: str, status: int | None
    ) -> None:
        sid = (statement or item.statement or {}).get("id") or mapping.statement_id(
            str(item.event.get("id", item.seq))
        )
        log.error("parked statement %s (event %s): %s", sid, item.event.get("id"), reason)
        # the event as it came, sealed: once the person is erased it opens no more
        raw = item.raw if item.raw is not None else item.event
        self.store.park(sid, raw, item.seq, statement, reason, status, key_ids_in(raw))
        self.totals.parked += 1

    async def _extend_in_flight(self) -> None:
        """While the LRS is retried, tell JetStream the batch is still being worked on."""
        for msg in self._in_flight:
            with contextlib.suppress(Exception):
                await msg.in_progress()

    async def _deliver_and_ack(
        self, msgs: Sequence[Msg], items: list[Mapped], ack: bool = True
    ) -> None:
        self._in_flight = list(msgs)
        try:
            await self.deliver(items)
        finally:
            self._in_flight = []
        if ack:
            for msg in msgs:
                await msg.ack()

    # -- the live loop -----------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Follow both streams until `stop` is set."""
        stop = stop or asyncio.Event()
        if self.nc is None:
            await self.connect()
        await self.sync_sessions()
        follower = asyncio.create_task(self.follow_sessions(stop))
        attendance = await self._durable(
            ATTENDANCE_STREAM, "passhub.attendance.>", f"{self.settings.durable}-attendance"
        )
        log.info("bridge running: %s → %s", ATTENDANCE_STREAM, self.settings.statements_url)
        # One batch is posted while the next is fetched and mapped; posts stay one at a time
        # and in stream order, and a batch is acknowledged once its post is done.
        posting: asyncio.Task[None] | None = None
        try:
            while not stop.is_set():
                try:
                    msgs = await attendance.fetch(
                        self.settings.batch_size, timeout=self.settings.fetch_wait_seconds
                    )
                except _FETCH_ERRORS:
                    continue
                items = await self.map_batch(msgs)
                if posting is not None:
                    await posting
                posting = asyncio.create_task(self._deliver_and_ack(msgs, items))
            if posting is not None:
                await posting
        finally:
            if posting is not None and not posting.done():
                posting.cancel()
            stop.set()
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower

    # -- re-sending --------------------------------------------------------------------

    async def resend(
        self,
        since: datetime | None = None,
        scheme: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> Totals:
        """Post again every attendance event of the stream (from `since`, of one `scheme`)
        through an ephemeral consumer; the durable one keeps its place. Statements the LRS
        already holds are no-ops there. `progress(done, total)` is called per batch."""
        if self.nc is None:
            await self.connect()
        assert self.js is not None
        await self.sync_sessions()
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.ALL if since is None else DeliverPolicy.BY_START_TIME,
            opt_start_time=since,
            ack_policy=AckPolicy.NONE,
            inactive_threshold=60.0,
            mem_storage=True,
        )
        sub = await self.js.pull_subscribe(
            "passhub.attendance.>", stream=ATTENDANCE_STREAM, config=config
        )
        info = await sub.consumer_info()
        total = int(info.num_pending or 0)
        done = 0
        if progress is not None:
            progress(0, total)
        # Up to `resend_concurrency` batches are posted at once while the next is mapped; a
        # batch that voids a statement waits for every batch before it, so the statement it
        # voids is in the LRS first.
        posting: list[tuple[asyncio.Task[Outcome], int]] = []
        limit = self.settings.resend_concurrency

        async def settle(keep: int) -> None:
            while len(posting) > keep:
                task, upto = posting.pop(0)
                await task
                if progress is not None:
                    progress(upto, total)

        try:
            while done < total:
                try:
                    msgs = await sub.fetch(min(self.settings.batch_size, total - done), timeout=2.0)
                except _FETCH_ERRORS:
                    break
                items = await self.map_batch(msgs)
                if scheme is not None:
                    items = [
                        item
                        for item in items
                        if (item.event.get("data") or {}).get("scheme_id") == scheme
                    ]
                voids = any(
                    item.statement is not None and item.statement["verb"]["id"] == mapping.VOIDED
                    for item in items
                )
                await settle(0 if voids else limit - 1)
                done += len(msgs)
                posting.append((asyncio.create_task(self.deliver(items)), done))
            await settle(0)
        finally:
            for task, _ in posting:
                if not task.done():
                    task.cancel()
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
            with contextlib.suppress(Exception):
                await self.js.delete_consumer(ATTENDANCE_STREAM, config.name or "")
        return self.totals

    # -- parked statements -------------------------------------------------------------

    async def retry_parked(self, statement_id: str | None = None) -> tuple[int, int]:
        """Map and post parked statements again (all, or one). Returns (delivered, still
        parked)."""
        if self.nc is None:
            await self.connect()
        await self.sync_sessions()
        delivered = still = 0
        for parked in self.store.parked(statement_id):
            # parked sealed (a row of an older store: opened); the stream key may also have
            # been put right since
            raw = {k: v for k, v in parked.event.items() if k != "unopenable"}
            keys = key_ids_in(raw)
            try:
                event = await self._opened(raw)
            except Unopenable as error:
                event = {**raw, "unopenable": str(error)}
            item = self.map_one(event, parked.seq)
            if item.park is not None:
                self.store.park(parked.statement_id, raw, parked.seq, None, item.park, None, keys)
                still += 1
                continue
            if item.statement is None:
                self.store.unpark(parked.statement_id)
                continue
            _, rejected = await self.lrs.deliver([item.statement])
            if rejected:
                r = rejected[0]
                self.store.park(
                    parked.statement_id, raw, parked.seq, r.statement, r.reason, r.status, keys
                )
                still += 1
            else:
                self.store.unpark(parked.statement_id)
                delivered += 1
        return delivered, still


def _student(event: dict[str, Any]) -> str:
    """Who a sign-in or revocation is about, as the store files it: the key id the student's
    number was sealed under (the same for all their events), or the number if unsealed."""
    sealed = (event.get(SEALED_UNDER) or {}).get("student_number")
    return str(sealed or (event.get("data") or {})["student_number"])
