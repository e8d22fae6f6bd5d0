"""The personal-data vault: crypto-shredding for an append-only log.

Personal fields of an event (names, e-mail addresses, phone numbers, notes about people) are sealed with
AES-GCM under a key of the person they belong to, before the event is appended. The keys live in the
service's own table `person_keys` (shared/store/schema.py). Reading opens them again. Erasing a person
deletes the key: every copy of the sealed values (events, read models holding the sealed form) then reads
as erased, while the events themselves, and so every count, stay. Public events may not carry personal
fields at all (the event registry refuses them), so no bus copy ever needs shredding.

Which fields are personal is declared on the event models (`shared.personal`).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.errors import DomainRuleViolation
from shared.personal import ERASED
from shared.store.schema import person_keys

SEALED = "$sealed"


def is_sealed(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SEALED) == 1


class Vault:
    """Seals and opens personal values with per-person keys kept in the service's `person_keys` table."""

    async def _keys(self, conn: AsyncConnection, subjects: Iterable[str]) -> dict[str, bytes | None]:
        wanted = sorted(set(subjects))
        if not wanted:
            return {}
        rows = await conn.execute(
            select(person_keys.c.subject_id, person_keys.c.key).where(person_keys.c.subject_id.in_(wanted))
        )
        return {subject: key for subject, key in rows}

    async def _key_for_sealing(self, conn: AsyncConnection, subject: str) -> bytes:
        found = (await self._keys(conn, [subject])).get(subject, b"")
        if found is None:
            raise DomainRuleViolation(
                f"The personal data of {subject} was erased; nothing new can be recorded for this person.",
                "Die personenbezogenen Daten dieser Person wurden gelöscht; für sie kann nichts Neues "
                "erfasst werden.",
            )
        if found:
            return found
        key = AESGCM.generate_key(bit_length=256)
        insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        await conn.execute(
            insert(person_keys)
            .values(subject_id=subject, key=key, created_at=datetime.now(UTC))
            .on_conflict_do_nothing()
        )
        # Another transaction may have created it first: read back whatever is stored.
        stored = (await self._keys(conn, [subject]))[subject]
        assert stored is not None
        return stored

    async def seal(self, conn: AsyncConnection, subject: str, plaintext: str) -> dict[str, Any]:
        key = await self._key_for_sealing(conn, subject)
        nonce = os.urandom(12)
        ciphertext = AESGCM(key).encrypt(nonce, plaintext.encode(), subject.encode())
        return {SEALED: 1, "subject": subject, "data": base64.b64encode(nonce + ciphertext).decode()}

    async def seal_fields(
        self, conn: AsyncConnection, data: dict[str, Any], fields: Iterable[str], subject: str
    ) -> dict[str, Any]:
        """A copy of `data` with the named fields sealed for `subject` (None stays None)."""
        sealed = dict(data)
        for name in fields:
            value = sealed.get(name)
            if value is not None and not is_sealed(value):
                sealed[name] = await self.seal(conn, subject, str(value))
        return sealed

    async def open_all(self, conn: AsyncConnection, values: list[Any]) -> list[Any]:
        """Open every sealed value in a list of JSON-like structures with one key lookup."""
        subjects: set[str] = set()

        def collect(node: Any) -> None:
            if is_sealed(node):
                subjects.add(node["subject"])
            elif isinstance(node, dict):
                for v in node.values():
                    collect(v)
            elif isinstance(node, list):
                for v in node:
                    collect(v)

        for value in values:
            collect(value)
        keys = await self._keys(conn, subjects)

        def open_node(node: Any) -> Any:
            if is_sealed(node):
                return _decrypt(keys.get(node["subject"]), node)
            if isinstance(node, dict):
                return {k: open_node(v) for k, v in node.items()}
            if isinstance(node, list):
                return [open_node(v) for v in node]
            return node

        return [open_node(v) for v in values]

    async def open(self, conn: AsyncConnection, value: Any) -> Any:
        return (await self.open_all(conn, [value]))[0]

    async def erase(self, conn: AsyncConnection, subject: str) -> bool:
        """Delete the person's key; returns False when there was nothing (left) to erase."""
        result = await conn.execute(
            update(person_keys)
            .where(person_keys.c.subject_id == subject, person_keys.c.key.is_not(None))
            .values(key=None, erased_at=datetime.now(UTC))
        )
        return bool(result.rowcount)

    async def is_erased(self, conn: AsyncConnection, subject: str) -> bool:
        keys = await self._keys(conn, [subject])
        return subject in keys and keys[subject] is None


def _decrypt(key: bytes | None, sealed: dict[str, Any]) -> str:
    if key is None:
        return ERASED
    raw = base64.b64decode(sealed["data"])
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], sealed["subject"].encode()).decode()
    except InvalidTag:
        return ERASED


async def scrub_after_erasure(engine: AsyncEngine) -> None:
    """Make the deleted key unrecoverable from the database files, not just unreachable.

    SQLite runs with secure_delete (old page content is zeroed); a checkpoint empties the WAL, which could
    still hold a page with the key. PostgreSQL keeps dead row versions until a rewrite: VACUUM FULL of the
    small key table writes a fresh file without them.
    """
    if engine.dialect.name == "sqlite":
        async with engine.connect() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    elif engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("VACUUM FULL person_keys")
