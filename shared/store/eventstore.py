"""The append-only event store: append with an expected version, load a stream, read all by position.

Gap safety on PostgreSQL: a position is drawn from a sequence before commit, so without care a reader
tailing by position could pass a position whose transaction commits later. Appends therefore take one
transaction-scoped advisory lock before inserting: insert order equals commit order, and a reader never
sees position n+1 before position n is visible. The lock is held only from the insert to the commit,
which the unit of work keeps as short as possible. SQLite serialises writers with BEGIN IMMEDIATE anyway.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Insert, bindparam, func, insert, select, text, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.errors import ConcurrencyError
from shared.store.schema import events
from shared.store.upcasting import Upcasters

# Any constant works; it only has to be the same for every writer of one database.
APPEND_LOCK_KEY = 0x1C_0E_5708

_COLUMNS = ("event_id", "stream_id", "version", "type", "schema_version", "data", "metadata", "recorded_at")
# Rows per conditional INSERT: keeps the statement cache small and far below the bind-parameter limits.
_CHUNK = 100


@lru_cache(maxsize=_CHUNK)
def _conditional_insert(count: int) -> tuple[Insert, tuple[tuple[str, ...], ...]]:
    """INSERT of `count` rows that inserts nothing unless the stream is at :expected_version.

    The version check and the insert are one statement, so an append costs one round trip (plus the
    advisory lock on PostgreSQL) instead of two. The rows go in ORDER BY version, so positions ascend
    with versions on both databases (the guarantee `sort_by_parameter_order` gave before; on SQLite
    that option made SQLAlchemy send one INSERT per event). Built once per row count and reused, so
    SQLAlchemy's compiled cache serves every later append of that size.
    """
    names = tuple(tuple(f"{c}_{i}" for c in _COLUMNS) for i in range(count))
    rows = [
        select(*[bindparam(n, type_=events.c[c].type).label(c) for c, n in zip(_COLUMNS, row, strict=True)])
        for row in names
    ]
    new_rows = (rows[0] if count == 1 else union_all(*rows)).subquery("new_events")
    current = (
        select(func.coalesce(func.max(events.c.version), 0))
        .where(events.c.stream_id == bindparam("stream_id"))
        .scalar_subquery()
    )
    source = select(*new_rows.c).where(current == bindparam("expected_version")).order_by(new_rows.c.version)
    stmt = insert(events).from_select(list(_COLUMNS), source).returning(events.c.position, events.c.version)
    return stmt, names


@dataclass(frozen=True)
class EventMetadata:
    """Who caused an event and in which trace; stored with it and carried onto the bus."""

    correlation_id: str | None = None
    causation_id: str | None = None
    actor: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EventMetadata:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class NewEvent:
    """An event about to be appended: its stable type string, schema version and JSON-able data."""

    type: str
    data: dict[str, Any]
    schema_version: int = 1
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)


@dataclass(frozen=True)
class RecordedEvent:
    """An event as stored, with its place in the stream (version) and in the log (position)."""

    event_id: uuid.UUID
    stream_id: str
    version: int
    position: int
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: EventMetadata
    recorded_at: datetime


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class EventStore:
    """Stateless access to one database's `events` table; the connection decides the transaction."""

    def __init__(self, upcasters: Upcasters | None = None) -> None:
        self.upcasters = upcasters or Upcasters()

    async def append(
        self,
        conn: AsyncConnection,
        stream_id: str,
        expected_version: int,
        new_events: Sequence[NewEvent],
        metadata: EventMetadata | None = None,
    ) -> list[RecordedEvent]:
        """Append events after `expected_version` (0 for a new stream); a conflict raises 409.

        An empty append touches nothing and takes no lock.
        """
        if not new_events:
            return []
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})
        meta = metadata or EventMetadata()
        meta_json = _dumps(meta.to_dict())
        now = datetime.now(UTC)
        rows: list[dict[str, Any]] = [
            {
                "event_id": str(e.event_id),
                "stream_id": stream_id,
                "version": expected_version + i,
                "type": e.type,
                "schema_version": e.schema_version,
                "data": _dumps(e.data),
                "metadata": meta_json,
                "recorded_at": now,
            }
            for i, e in enumerate(new_events, start=1)
        ]
        positions: dict[int, int] = {}
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            stmt, names = _conditional_insert(len(chunk))
            params: dict[str, Any] = {"stream_id": stream_id, "expected_version": expected_version + start}
            for row, row_names in zip(chunk, names, strict=True):
                params.update(zip(row_names, (row[c] for c in _COLUMNS), strict=True))
            try:
                # On a unique violation the transaction is lost anyway: the unit of work rolls it back whole.
                inserted = (await conn.execute(stmt, params)).all()
            except IntegrityError as exc:
                raise ConcurrencyError(stream_id, expected_version, None) from exc
            if len(inserted) != len(chunk):
                # The stream is not at the expected version; nothing was inserted by this statement.
                raise ConcurrencyError(
                    stream_id, expected_version, await self.stream_version(conn, stream_id)
                )
            positions.update((version, position) for position, version in inserted)
        return [
            RecordedEvent(
                event_id=e.event_id,
                stream_id=stream_id,
                version=row["version"],
                position=positions[row["version"]],
                type=e.type,
                schema_version=e.schema_version,
                data=e.data,
                metadata=meta,
                recorded_at=now,
            )
            for e, row in zip(new_events, rows, strict=True)
        ]

    async def stream_version(self, conn: AsyncConnection, stream_id: str) -> int:
        result = await conn.execute(
            select(func.coalesce(func.max(events.c.version), 0)).where(events.c.stream_id == stream_id)
        )
        return int(result.scalar_one())

    async def load(
        self, conn: AsyncConnection, stream_id: str, after_version: int = 0
    ) -> list[RecordedEvent]:
        """All events of one stream in version order, upcast to their current schema."""
        result = await conn.execute(
            select(events)
            .where(events.c.stream_id == stream_id, events.c.version > after_version)
            .order_by(events.c.version)
        )
        return [self._to_recorded(row) for row in result.mappings()]

    async def read_all(
        self, conn: AsyncConnection, after_position: int = 0, limit: int = 1000
    ) -> list[RecordedEvent]:
        """Events in global order after a position; safe to tail because commit order is position order."""
        result = await conn.execute(
            select(events).where(events.c.position > after_position).order_by(events.c.position).limit(limit)
        )
        return [self._to_recorded(row) for row in result.mappings()]

    async def last_position(self, conn: AsyncConnection) -> int:
        result = await conn.execute(select(func.coalesce(func.max(events.c.position), 0)))
        return int(result.scalar_one())

    def _to_recorded(self, row: Any) -> RecordedEvent:
        version, data = self.upcasters.upcast(row["type"], row["schema_version"], json.loads(row["data"]))
        recorded_at = row["recorded_at"]
        if recorded_at.tzinfo is None:  # SQLite hands back naive datetimes; we only ever store UTC
            recorded_at = recorded_at.replace(tzinfo=UTC)
        return RecordedEvent(
            event_id=uuid.UUID(row["event_id"]),
            stream_id=row["stream_id"],
            version=row["version"],
            position=row["position"],
            type=row["type"],
            schema_version=version,
            data=data,
            metadata=EventMetadata.from_dict(json.loads(row["metadata"])),
            recorded_at=recorded_at,
        )
