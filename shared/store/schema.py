"""The tables of the write side: event log, outbox, consumer tracking, projection checkpoints, person keys.

Every service has these in its own database; read-model tables live in each service's own metadata.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

store_metadata = MetaData()

# BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite so that autoincrement works there.
Position = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    store_metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("stream_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(200), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("data", Text, nullable=False),
    Column("metadata", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    # The optimistic-concurrency backstop: two writers can never both store version n of a stream.
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    sqlite_autoincrement=True,
)

outbox = Table(
    "outbox",
    store_metadata,
    # The event's global position: the relay publishes in this order, which per stream is version order.
    Column("position", Position, primary_key=True, autoincrement=False),
    Column("event_id", String(36), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("headers", Text, nullable=False),
    Column("payload", LargeBinary, nullable=False),
)

processed_messages = Table(
    "processed_messages",
    store_metadata,
    # Written in the same transaction as a consumer's effect: a redelivered message finds its row.
    Column("consumer", String(100), primary_key=True),
    Column("message_id", String(100), primary_key=True),
    Column("processed_at", DateTime(timezone=True), nullable=False),
)

projection_checkpoints = Table(
    "projection_checkpoints",
    store_metadata,
    Column("name", String(100), primary_key=True),
    Column("position", Position, nullable=False),
)

person_keys = Table(
    "person_keys",
    store_metadata,
    # One AES key per person whose data this service holds (shared/vault.py). Erasure sets it to NULL:
    # the row stays as the record that and when the person was erased.
    Column("subject_id", String(64), primary_key=True),
    Column("key", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=True),
)

Index("ix_events_type", events.c.type)
