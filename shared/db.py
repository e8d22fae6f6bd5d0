"""Database engines for SQLite (embedded default) and PostgreSQL (production) on one code path.

SQLite gets WAL and FULL synchronous writes; write transactions start with BEGIN IMMEDIATE so that two
writers queue on the database lock instead of failing when a read transaction tries to upgrade.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import MetaData, event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

WRITE_OPTION = "ikmo_write"


def is_sqlite(engine_or_conn: AsyncEngine | AsyncConnection) -> bool:
    return engine_or_conn.dialect.name == "sqlite"


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create an async engine; SQLite connections are tuned for an append-only log."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control from the sqlite3 module; we emit BEGIN ourselves below.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            # Deleted content (an erased person's key) is overwritten, not left in free pages.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            immediate = conn.get_execution_options().get(WRITE_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One write transaction: committed when the block ends normally, rolled back on any error."""
    async with engine.connect() as conn:
        conn = await conn.execution_options(**{WRITE_OPTION: True})
        async with conn.begin():
            yield conn


@asynccontextmanager
async def read_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One read-only transaction (a consistent snapshot on both databases)."""
    async with engine.connect() as conn, conn.begin():
        yield conn


async def queue_behind(conn: AsyncConnection, scope: int, key: str) -> None:
    """Make writers of the same `key` (within `scope`, a 32-bit number per kind of rule) wait for each other
    until commit.

    For a rule that a command checks against a read model before it appends (two organisations cooperate
    only once in a field): on PostgreSQL the check then sees what an earlier writer committed, instead of
    two transactions both checking before either commits. SQLite's write transactions (BEGIN IMMEDIATE)
    already run one at a time. Two 32-bit keys, a key space apart from the store's one 64-bit append lock.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(:scope, hashtext(:key))"), {"scope": scope, "key": key}
        )


async def create_tables(engine: AsyncEngine, *metadatas: MetaData) -> None:
    """Create missing tables; the event log's schema is stable, read models can be rebuilt."""
    async with engine.begin() as conn:
        for md in metadatas:
            await conn.run_sync(md.create_all)
