"""Durable pull consumers with explicit ack, idempotent handling, bounded retries and a dead-letter stream.

Unlike FastStream's default (a raising handler terminates the message, and the event is gone), a failing
message is negatively acknowledged with a growing delay; after `max_deliver` attempts it is copied to the
dead-letter stream `IKMO_DLQ` and only then acknowledged. The consumer goes on with later messages. The
record of a processed message commits in the same transaction as the handler's effect, so a redelivery
finds it and changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry import propagate
from opentelemetry.trace import SpanKind
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.bus.cloudevents import MSG_ID_HEADER, ReceivedEvent
from shared.bus.connection import DLQ_SUBJECT_PREFIX, Bus
from shared.context import CommandContext, command_context
from shared.db import write_transaction
from shared.store.schema import processed_messages
from shared.telemetry import tracer

log = logging.getLogger(__name__)

Handler = Callable[[AsyncConnection, ReceivedEvent], Awaitable[None]]


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable consumer: `name` is its durable name, e.g. `reporting-grants`."""

    name: str
    stream: str
    subjects: Sequence[str]
    handler: Handler
    max_deliver: int = 5
    backoff: Sequence[float] = (0.5, 2.0, 10.0, 30.0)
    ack_wait: float = 30.0


@dataclass
class ConsumerStats:
    processed: int = 0
    duplicates: int = 0
    retried: int = 0
    dead_lettered: int = 0
    errors: list[str] = field(default_factory=list)


class Consumer:
    def __init__(
        self, spec: ConsumerSpec, engine: AsyncEngine, bus: Bus, batch: int = 50, fetch_timeout: float = 0.5
    ) -> None:
        self.spec = spec
        self.fetch_timeout = fetch_timeout
        self.engine = engine
        self.bus = bus
        self.batch = batch
        self.stats = ConsumerStats()
        self._task: asyncio.Task[None] | None = None
        self._sub: JetStreamContext.PullSubscription | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=f"consumer-{self.spec.name}")

    async def stop(self, grace: float = 5.0) -> None:
        """Finish the current fetch and its messages, then leave; cancel only if that takes too long.

        A pull request the server still holds may yet hand a message to our inbox after we leave; it is
        not lost but redelivered once `ack_wait` has passed, like any message a crashed consumer held.
        """
        self._stopping.set()
        if self._task is not None:
            _done, pending = await asyncio.wait({self._task}, timeout=grace)
            for task in pending:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
            self._task = None
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    async def _subscribe(self):
        js = self.bus.js
        assert js is not None
        config = ConsumerConfig(
            durable_name=self.spec.name,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.spec.ack_wait,
            # Unlimited on the server: we decide when to give up, and give up only into the dead-letter
            # stream, so nothing is ever dropped silently.
            max_deliver=-1,
            filter_subjects=list(self.spec.subjects),
        )
        await js.add_consumer(self.spec.stream, config)
        self._sub = await js.pull_subscribe_bind(durable=self.spec.name, stream=self.spec.stream)
        return self._sub

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.bus.ready.wait()
                sub = await self._subscribe()
                while not self._stopping.is_set():
                    try:
                        msgs = await sub.fetch(self.batch, timeout=self.fetch_timeout)
                    except (TimeoutError, NatsTimeoutError):
                        continue
                    for msg in msgs:
                        await self.handle(msg)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer %s: %s; resubscribing", self.spec.name, exc)
                await asyncio.sleep(1.0)

    async def handle(self, msg: Msg) -> None:
        try:
            event = ReceivedEvent.from_message(msg.headers, msg.data)
        except (ValueError, KeyError) as exc:
            await self._dead_letter(msg, f"undecodable message: {exc}")
            return
        try:
            with self._span(msg, event), command_context(self._context_of(event)):
                await self._process(event)
        except Exception as exc:
            await self._failed(msg, exc)
            return
        await msg.ack()

    def _span(self, msg: Msg, event: ReceivedEvent):
        """A consumer span continuing the trace the event carries (request -> append -> relay -> here)."""
        return tracer().start_as_current_span(
            f"process {msg.subject}",
            context=propagate.extract(event.headers),
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "nats",
                "messaging.destination.name": msg.subject,
                "messaging.consumer.group.name": self.spec.name,
                "messaging.message.id": event.id,
            },
        )

    @staticmethod
    def _context_of(event: ReceivedEvent) -> CommandContext:
        """Whatever the handler appends is caused by this event and shares its correlation."""
        return CommandContext(
            actor=None, correlation_id=event.headers.get("ce-correlationid"), causation_id=event.id
        )

    async def _process(self, event: ReceivedEvent) -> None:
        """The handler's effect and the processed-message record commit together, or neither does."""
        async with write_transaction(self.engine) as conn:
            seen = await conn.execute(
                select(processed_messages.c.message_id).where(
                    processed_messages.c.consumer == self.spec.name,
                    processed_messages.c.message_id == event.id,
                )
            )
            if seen.first() is not None:
                self.stats.duplicates += 1
            else:
                await self.spec.handler(conn, event)
                await conn.execute(
                    insert(processed_messages).values(
                        consumer=self.spec.name, message_id=event.id, processed_at=datetime.now(UTC)
                    )
                )
                self.stats.processed += 1

    async def _failed(self, msg: Msg, exc: Exception) -> None:
        attempt = msg.metadata.num_delivered or 1
        reason = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        self.stats.errors.append(reason)
        if attempt >= self.spec.max_deliver:
            log.error("consumer %s: giving up after %d attempts: %s", self.spec.name, attempt, reason)
            await self._dead_letter(msg, reason)
            return
        delay = self.spec.backoff[min(attempt - 1, len(self.spec.backoff) - 1)]
        log.warning(
            "consumer %s: attempt %d failed (%s); retry in %.1fs", self.spec.name, attempt, reason, delay
        )
        self.stats.retried += 1
        await msg.nak(delay=delay)

    async def _dead_letter(self, msg: Msg, reason: str) -> None:
        """Copy to `ikmo.dlq.<consumer>` and then ack; if the copy fails, nak so nothing is lost."""
        js = self.bus.js
        assert js is not None
        original = dict(msg.headers or {})
        message_id = original.get("ce-id") or original.get(MSG_ID_HEADER) or str(msg.metadata.sequence.stream)
        headers = {
            **original,
            MSG_ID_HEADER: f"{self.spec.name}:{message_id}",
            "ikmo-dlq-consumer": self.spec.name,
            "ikmo-dlq-reason": reason[:1000],
            "ikmo-dlq-subject": msg.subject,
            "ikmo-dlq-stream-sequence": str(msg.metadata.sequence.stream),
            "ikmo-dlq-deliveries": str(msg.metadata.num_delivered),
        }
        try:
            await js.publish(f"{DLQ_SUBJECT_PREFIX}.{self.spec.name}", msg.data, headers=headers)
        except Exception as exc:
            log.error("consumer %s: dead-lettering failed (%s); will retry", self.spec.name, exc)
            await msg.nak(delay=self.spec.backoff[-1])
            return
        self.stats.dead_lettered += 1
        await msg.ack()
