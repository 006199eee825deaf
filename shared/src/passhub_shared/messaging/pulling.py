"""A durable JetStream pull consumer's fetch loop, on nats-py's core protocol.

Why not FastStream's or nats-py's own fetch: nats-py waits for each message with a timeout (a
task per message), and FastStream's batch loop dies on a plain `TimeoutError` that nats-py can
raise, leaving the messages it had fetched unacknowledged until `ack_wait` runs out. Here one
pull request is outstanding at a time (`$JS.API.CONSUMER.MSG.NEXT`); a callback collects what
the server delivers to our inbox, and the loop hands whatever has arrived to the batch handler.
Every error is caught and retried, so the loop never stops silently: after a NATS restart the
lost request is simply issued again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import orjson
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from passhub_shared.dev.natscluster import nats_servers
from passhub_shared.messaging.subscriptions import BatchHandler

log = logging.getLogger("passhub.consumer")


class _Client(NATS):
    """nats-py's client with a leaner parser for message headers. The stock one checks each
    character of every header name in a generator, which was a tenth of a consumer's time (every
    JetStream message carries `Nats-Msg-Id`). Same result for well-formed headers; a name with
    whitespace is skipped as before."""

    @staticmethod
    def _parse_header_lines(raw: bytes) -> dict[str, str]:
        out: dict[str, str] = {}
        for line in raw.split(b"\r\n"):
            name, sep, value = line.partition(b":")
            if not sep:
                continue
            name = name.strip()
            if not name or len(name.split()) != 1 or not name.isascii():
                continue
            out[name.decode("ascii")] = value.strip().decode("utf-8", "replace")
        return out


class PullConsumer:
    def __init__(
        self,
        nats_url: str,
        stream: str,
        durable: str,
        subject: str,
        handler: BatchHandler,
        *,
        batch_size: int = 1000,
        expires: float = 5.0,
        ack_wait: float = 30.0,
        linger: float = 0.0,
    ) -> None:
        self.nats_url = nats_url
        self.stream = stream
        self.durable = durable
        self.subject = subject
        self.handler = handler
        self.batch_size = batch_size
        self.expires = expires
        self.ack_wait = ack_wait
        #: after the first message of a batch, wait this long for more (0: none)
        self.linger = linger
        self.running = False
        self._nc: NATS | None = None
        self._inbox = ""
        self._pending: list[Msg] = []
        self._ready = asyncio.Event()
        self._open = False  # a pull request is outstanding
        self._remaining = 0
        self._task: asyncio.Task[None] | None = None
        #: the durable consumer is gone (deleted, or its stream was): create it again
        self._lost = False

    @property
    def alive(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        self._nc = _Client()
        await self._nc.connect(
            nats_servers(self.nats_url),
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,  # type: ignore[arg-type]  # a float is slept as such
            name=f"passhub-{self.durable}",
        )
        await self._ensure_consumer()
        self._inbox = self._nc.new_inbox()
        await self._nc.subscribe(self._inbox, cb=self._on_message)
        self.running = True
        self._task = asyncio.create_task(self._loop(), name=f"pull-{self.durable}")

    async def stop(self, grace: float = 30.0) -> None:
        """Stop pulling; the batch in flight is committed and acked before the connection
        closes. Delivered messages not yet handed over stay unacked and are redelivered."""
        self.running = False
        self._ready.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=grace)
        await asyncio.wait_for(self.handler.idle.wait(), timeout=grace)
        # Delivered but not handed over: give them back now rather than after `ack_wait`.
        unhandled, self._pending = self._pending, []
        for msg in unhandled:
            with contextlib.suppress(Exception):
                await msg.nak()
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.flush(timeout=2)
            await self._nc.close()

    async def _ensure_consumer(self) -> None:
        assert self._nc is not None
        await self._nc.jetstream().add_consumer(
            self.stream,
            ConsumerConfig(
                durable_name=self.durable,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=self.ack_wait,
                max_ack_pending=max(self.batch_size * 4, 1000),
                filter_subject=self.subject,
                max_deliver=-1,  # the handler parks an event itself after its own limit
            ),
        )

    async def _on_message(self, msg: Msg) -> None:
        status = msg.headers.get("Status") if msg.headers else None
        if status is None:
            self._pending.append(msg)
            self._remaining -= 1
            if self._remaining <= 0:
                self._open = False
            self._ready.set()
        elif status != "100":  # 404 no messages, 408 expired, 409 limits: the request is over
            description = (msg.headers or {}).get("Description", "")
            if status == "503" or "deleted" in description.lower():
                # no consumer answers: it was deleted (with its stream, say); create it again
                self._lost = True
            self._open = False
            self._ready.set()

    async def _request(self) -> None:
        assert self._nc is not None
        self._remaining = self.batch_size
        self._open = True
        body = {"batch": self.batch_size, "expires": int(self.expires * 1e9)}
        await self._nc.publish(
            f"$JS.API.CONSUMER.MSG.NEXT.{self.stream}.{self.durable}",
            orjson.dumps(body),
            reply=self._inbox,
        )

    async def _loop(self) -> None:
        backoff = 0.1
        requested_at = 0.0
        while self.running:
            try:
                if self._lost:
                    self._lost = False
                    log.warning("consumer %s is gone; creating it again", self.durable)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    await self._ensure_consumer()  # fails while its stream is missing
                if not self._open or time.monotonic() - requested_at > self.expires + 2:
                    # no request outstanding, or one lost (e.g. NATS restarted meanwhile)
                    await self._request()
                    requested_at = time.monotonic()
                if not self._pending:
                    self._ready.clear()
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._ready.wait(), timeout=self.expires + 2.5)
                    if not self._pending:
                        continue
                if self.linger and len(self._pending) < self.batch_size:
                    await asyncio.sleep(self.linger)
                if not self.running:
                    break
                batch, self._pending = self._pending, []
                if not self._open:
                    # ask for the next batch now: it arrives while this one is written
                    await self._request()
                    requested_at = time.monotonic()
                await self.handler(batch)
                backoff = 0.1
            except Exception as exc:  # never stop silently; the next round tries again
                log.warning("consumer %s: %s; retrying", self.durable, exc)
                self._open = False
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                with contextlib.suppress(Exception):
                    await self._ensure_consumer()
