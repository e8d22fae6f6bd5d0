"""Personal data at rest, looked for everywhere the platform writes: the service's database files (SQLite
with its WAL, or every table of the PostgreSQL schema), the nats-server's JetStream store and its log.

A registrant's name, e-mail address and phone number must never lie there in plain text, from the first
write on (the log is append-only: what is written plainly can never be erased). Erasure deletes the
person's key: afterwards the key's bytes are found nowhere either, so the sealed copies are unreadable
for good, not just unreachable.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.events.tests.test_api import published
from shared.db import read_transaction
from shared.platform.natsserver import NatsServer
from shared.store.schema import person_keys
from shared.testing import eventually, found_at_rest, stream_messages

NAME = "Zeynep Yıldırım-Özkan"
EMAIL = "zeynep.oezkan@beispielverein.example"
PHONE = "+49 30 98765432"
PUBLIC_NAME = "Getachew Hailemariam"
PUBLIC_EMAIL = "getachew.h@beispielverein.example"


async def test_no_registrant_is_readable_at_rest_and_an_erased_one_leaves_no_key(
    client: httpx.AsyncClient, engine: AsyncEngine, nats_server: NatsServer, tmp_path: Path
) -> None:
    event = await published(client, title="Datenschutz im Verein (Prüfung)", capacity=1)
    by_staff = {"name": NAME, "email": EMAIL, "phone": PHONE}
    made = await client.post(f"/events/{event['id']}/registrations", json=by_staff)
    assert made.status_code == 201, made.text
    registration_id = made.json()["registration_id"]
    form = {"name": PUBLIC_NAME, "email": PUBLIC_EMAIL, "privacy_consent": "true"}
    answer = await client.post(f"/oeffentlich/veranstaltungen/{event['id']}", data=form)
    assert answer.status_code == 303  # waitlisted through the public form, with the notice in the outbox

    async def relayed() -> list:
        messages = await stream_messages(nats_server.url, "IKMO_EVENTS")
        return messages if len(messages) >= 4 else []

    await eventually(relayed)  # drafted, published, confirmed, waitlisted: the bus has had its share

    async def the_title_reached_the_bus_store() -> list[str]:
        places = await found_at_rest("Datenschutz im Verein (Prüfung)", tmp_path, engine)
        return places if any(p.startswith("nats/") for p in places) else []

    # the search itself sees both the database and the JetStream files: the public title is in both
    places = await eventually(the_title_reached_the_bus_store)
    assert engine.dialect.name != "sqlite" or any(p.startswith("store.sqlite3") for p in places)
    assert engine.dialect.name != "postgresql" or any(p.startswith("table ") for p in places)

    for secret in (NAME, EMAIL, PHONE, "98765432", PUBLIC_NAME, PUBLIC_EMAIL):
        assert await found_at_rest(secret, tmp_path, engine) == [], secret
    people = (await client.get(f"/events/{event['id']}/registrations")).json()
    assert {p["name"] for p in people} == {NAME, PUBLIC_NAME}  # sealed, not lost: the team reads them

    async with read_transaction(engine) as conn:
        key = await conn.execute(select(person_keys.c.key).where(person_keys.c.subject_id == registration_id))
        key_bytes = key.scalar_one()
    assert key_bytes and await found_at_rest(
        key_bytes, tmp_path, engine
    )  # the search finds a key that is there

    erased = await client.post(f"/events/{event['id']}/registrations/{registration_id}/erase")
    assert erased.status_code == 200, erased.text
    assert await found_at_rest(key_bytes, tmp_path, engine) == []  # not in the table, the WAL, dead rows
    for secret in (NAME, EMAIL, PHONE):
        assert await found_at_rest(secret, tmp_path, engine) == [], secret
