"""CloudEvents 1.0 in binary mode over NATS: `ce-*` attributes in headers, the JSON data as payload.

Extension attribute names are lowercase letters only, as the specification requires.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from shared.store.eventstore import RecordedEvent
from shared.store.upcasting import Upcasters

SPEC_VERSION = "1.0"
MSG_ID_HEADER = "Nats-Msg-Id"


def source_of(service: str) -> str:
    return f"/ikmo/{service}"


def stream_name(service: str) -> str:
    return f"IKMO_{service.upper()}"


def subject_of(event_type: str) -> str:
    """The event type is already `ikmo.<service>.<aggregate>.<event>`: it doubles as the subject."""
    return event_type


def aggregate_id_of(stream_id: str) -> str:
    return stream_id.split("-", 1)[1] if "-" in stream_id else stream_id


def to_message(service: str, event: RecordedEvent, data: dict[str, Any]) -> tuple[str, dict[str, str], bytes]:
    """Subject, headers and payload of one event as it goes onto the bus."""
    headers = {
        MSG_ID_HEADER: str(event.event_id),
        "ce-specversion": SPEC_VERSION,
        "ce-id": str(event.event_id),
        "ce-source": source_of(service),
        "ce-type": event.type,
        "ce-subject": aggregate_id_of(event.stream_id),
        "ce-time": event.recorded_at.astimezone(UTC).isoformat(),
        "ce-schemaversion": str(event.schema_version),
        "ce-sequence": str(event.version),
        "content-type": "application/json",
    }
    meta = event.metadata
    if meta.correlation_id:
        headers["ce-correlationid"] = meta.correlation_id
    if meta.causation_id:
        headers["ce-causationid"] = meta.causation_id
    if meta.traceparent:
        headers["traceparent"] = meta.traceparent
    if meta.tracestate:
        headers["tracestate"] = meta.tracestate
    return subject_of(event.type), headers, encode_data(data)


def encode_data(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def upcast_message(
    upcasters: Upcasters, headers: dict[str, str], payload: bytes
) -> tuple[dict[str, str], bytes]:
    """A message written under an older schema, as the current schema has it: the data upcast and
    `ce-schemaversion` saying so. For outbox rows written before an upgrade (docs/adr/0014)."""
    version, data = upcasters.upcast(
        headers["ce-type"], int(headers["ce-schemaversion"]), json.loads(payload)
    )
    return {**headers, "ce-schemaversion": str(version)}, encode_data(data)


@dataclass(frozen=True)
class ReceivedEvent:
    """An event as a consumer sees it: the CloudEvents attributes and the decoded data."""

    id: str
    type: str
    source: str
    subject: str
    time: datetime
    schema_version: int
    sequence: int
    data: dict[str, Any]
    headers: dict[str, str]

    @classmethod
    def from_message(cls, headers: dict[str, str] | None, payload: bytes) -> ReceivedEvent:
        h = headers or {}
        missing = [k for k in ("ce-id", "ce-type", "ce-source", "ce-time") if k not in h]
        if missing:
            raise ValueError(f"not a CloudEvent: missing {', '.join(missing)}")
        return cls(
            id=h["ce-id"],
            type=h["ce-type"],
            source=h["ce-source"],
            subject=h.get("ce-subject", ""),
            time=datetime.fromisoformat(h["ce-time"]),
            schema_version=int(h.get("ce-schemaversion", "1")),
            sequence=int(h.get("ce-sequence", "0")),
            data=json.loads(payload) if payload else {},
            headers=dict(h),
        )
