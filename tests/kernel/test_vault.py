"""Crypto-shredding: personal data is sealed per person from the first write, and erasure shreds it.

After erasure the plaintext is found nowhere (SQLite file and WAL, PostgreSQL tables, JetStream's stored
messages), the person's key is gone from the database file, and the events, so every count, remain.
"""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.bus.connection import Bus
from shared.bus.relay import OutboxRelay
from shared.db import create_tables, read_transaction, write_transaction
from shared.domain import DomainEvent, EventRegistry
from shared.errors import DomainRuleViolation
from shared.personal import ERASED, personal, personal_paths
from shared.platform.natsserver import NatsServer
from shared.store import EventStore
from shared.store.schema import events, person_keys, store_metadata
from shared.store.uow import UnitOfWork
from shared.vault import Vault, scrub_after_erasure
from tests.kernel.bus_helpers import stream_messages
from tests.kernel.model import Person, people

NAME = "Zeynep Yıldırım-Okonkwo"
EMAIL = "zeynep.okonkwo@example.org"


async def record_person(
    engine: AsyncEngine, store: EventStore, person_id: str, name: str, email: str
) -> None:
    async with UnitOfWork(engine, store, people, "kernel") as uow:
        person = Person(person_id)
        person.record(name, email, "neukoelln")
        await uow.save(person)


async def test_sealed_from_the_first_write_and_erased_everywhere(
    engine: AsyncEngine, nats_server: NatsServer, database: tuple[str, dict[str, object]]
) -> None:
    await create_tables(engine, store_metadata)
    store = EventStore()
    await record_person(engine, store, "p-1", NAME, EMAIL)
    await record_person(engine, store, "p-2", "Amal Haddad", "amal@example.org")

    async with UnitOfWork(engine, store, people, "kernel") as uow:
        assert (await uow.get(Person, "p-1")).name == NAME  # reading opens the seal
    async with read_transaction(engine) as conn:
        key = (
            await conn.execute(select(person_keys.c.key).where(person_keys.c.subject_id == "p-1"))
        ).scalar_one()
        stored = (
            (await conn.execute(select(events.c.data).where(events.c.stream_id == "person-p-1")))
            .scalars()
            .all()
        )
    assert all(NAME not in row and EMAIL not in row for row in stored)

    bus = Bus(nats_server.url, "vault-test", ("kernel",))
    bus.start()
    await bus.ready.wait()
    try:
        assert await OutboxRelay(engine, bus).publish_pending() == 2  # only the pseudonymous events
    finally:
        await bus.close()

    async with write_transaction(engine) as conn:
        assert await Vault().erase(conn, "p-1") is True
        assert await Vault().erase(conn, "p-1") is False  # erasing twice is harmless
    await scrub_after_erasure(engine)

    async with UnitOfWork(engine, store, people, "kernel") as uow:
        assert (await uow.get(Person, "p-1")).name == ERASED
        assert (await uow.get(Person, "p-2")).name == "Amal Haddad"  # others are untouched
        with pytest.raises(DomainRuleViolation):
            erased = await uow.get(Person, "p-1")
            erased.record("new name", None, "mitte")
            await uow.save(erased)
    async with read_transaction(engine) as conn:
        count = (await conn.execute(select(func.count()).select_from(events))).scalar_one()
    assert count == 4  # the log and every count built on it stay intact

    secrets = [NAME.encode(), EMAIL.encode(), key]
    url, _ = database
    if url.startswith("sqlite"):
        db_file = url.split("///", 1)[1]
        blobs = b"".join(_read(p) for p in (db_file, db_file + "-wal"))
        assert blobs, "the database file was not found"
        for secret in secrets:
            assert secret not in blobs
    else:
        async with read_transaction(engine) as conn:
            for table in ("events", "outbox", "person_keys", "processed_messages"):
                dump = (
                    await conn.execute(text(f"SELECT coalesce(string_agg(t::text, ''), '') FROM {table} t"))
                ).scalar_one()
                assert NAME not in dump and EMAIL not in dump and key.hex() not in dump
    # JetStream: neither the stored messages nor the store's files on disk hold the plaintext.
    for headers, payload in await stream_messages(nats_server.url, "IKMO_KERNEL"):
        assert NAME.encode() not in payload and EMAIL not in str(headers)
    on_disk = b"".join(_read(str(p)) for p in nats_server.store_dir.rglob("*") if p.is_file())
    assert b"p-1" in on_disk  # the pseudonymous reference is there ...
    assert NAME.encode() not in on_disk and EMAIL.encode() not in on_disk  # ... the person is not


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def test_a_public_event_with_a_personal_field_is_refused() -> None:
    class Leaky(DomainEvent):
        event_type = "ikmo.kernel.person.leaked"
        person_id: str
        name: str = personal()

    with pytest.raises(ValueError, match="public but has personal fields"):
        EventRegistry(Leaky)


def test_personal_fields_are_visible_in_json_schema() -> None:
    class Contact(BaseModel):
        person_id: str
        email: str = personal()

    assert personal_paths(Contact.model_json_schema()) == ["/properties/email"]
