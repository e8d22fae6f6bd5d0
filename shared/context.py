"""The context of the command being handled: who, under which correlation, in which trace.

Entry points (HTTP middleware, consumers) set it; the unit of work reads it when it appends, so the actor
and the W3C trace context are stored with every event without being threaded through the domain.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from opentelemetry import propagate

from shared.store.eventstore import EventMetadata


@dataclass(frozen=True)
class CommandContext:
    actor: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None


_current: ContextVar[CommandContext | None] = ContextVar("ikmo_command_context", default=None)


@contextmanager
def command_context(ctx: CommandContext) -> Iterator[CommandContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def set_actor(actor: str) -> None:
    """Record who acts for the rest of this request (called once the caller is authenticated)."""
    ctx = _current.get() or CommandContext()
    _current.set(CommandContext(actor, ctx.correlation_id, ctx.causation_id))


def current_metadata() -> EventMetadata:
    """Metadata for events appended now: the command context plus the active trace context."""
    ctx = _current.get() or CommandContext()
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return EventMetadata(
        correlation_id=ctx.correlation_id or str(uuid.uuid4()),
        causation_id=ctx.causation_id,
        actor=ctx.actor,
        traceparent=carrier.get("traceparent"),
        tracestate=carrier.get("tracestate"),
    )
