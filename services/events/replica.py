"""The events service's copy of the directory: organisations and networks, kept from the directory's events.

A registration or a host names an organisation; the service answers "does it exist, is it still active,
what kind is it" from this table, never by calling the directory. The consumer (entrypoints/consumers.py)
fills it. These tables are not projections of the service's own log, so `ikmo rebuild events` leaves them
alone; they are created at start-up beside the read models.

Merges: when the directory merges one organisation into another, the absorbed one points to the survivor
(`merged_into`); every lookup follows that pointer, so old registrations and hosts show the survivor and a
form naming the old id registers for the survivor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.events.domain.commands import OrganisationRef
from shared.contracts.directory import OrganisationKind
from shared.errors import InvalidInput

metadata = MetaData()

organisations = Table(
    "directory_organisations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("archived", Boolean, nullable=False, default=False),
    # Consented to a public profile: only such organisations are offered on the public registration form.
    Column("public_profile", Boolean, nullable=False, default=False),
    Column("merged_into", String(36), nullable=True),
    # The directory aggregate's version (ce-sequence) this row reflects: older messages change nothing.
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

networks = Table(
    "directory_networks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("version", Integer, nullable=False),
)

MAX_MERGE_HOPS = 20  # a chain of merges longer than this is a data error, not a reason to loop


class NotYetKnown(Exception):
    """A change to an organisation this copy has not seen registered: retry later (it will arrive)."""


@dataclass(frozen=True)
class KnownOrganisation:
    id: str
    name: str
    kind: OrganisationKind
    archived: bool
    merged_into: str | None

    def ref(self) -> OrganisationRef:
        return OrganisationRef(self.id, self.kind, self.name)


def _known(row: Any) -> KnownOrganisation:
    return KnownOrganisation(row.id, row.name, OrganisationKind(row.kind), row.archived, row.merged_into)


# -- writing (the consumer) ---------------------------------------------------------------------------------


async def register_organisation(
    conn: AsyncConnection,
    organisation_id: str,
    name: str,
    kind: str,
    public_profile: bool,
    version: int,
    at: datetime,
) -> None:
    found = (
        await conn.execute(select(organisations.c.version).where(organisations.c.id == organisation_id))
    ).first()
    if found is None:
        await conn.execute(
            insert(organisations).values(
                id=organisation_id,
                name=name,
                kind=kind,
                archived=False,
                public_profile=public_profile,
                version=version,
                updated_at=at,
            )
        )


async def change_organisation(
    conn: AsyncConnection, organisation_id: str, version: int, at: datetime, **values: object
) -> None:
    """Apply a later change; one the row already reflects (a replay) changes nothing."""
    found = (
        await conn.execute(select(organisations.c.version).where(organisations.c.id == organisation_id))
    ).first()
    if found is None:
        raise NotYetKnown(f"organisation {organisation_id} changed before it was registered here")
    if found.version >= version:
        return
    await conn.execute(
        update(organisations)
        .where(organisations.c.id == organisation_id)
        .values(version=version, updated_at=at, **values)
    )


async def found_network(conn: AsyncConnection, network_id: str, name: str, version: int) -> None:
    found = (await conn.execute(select(networks.c.id).where(networks.c.id == network_id))).first()
    if found is None:
        await conn.execute(insert(networks).values(id=network_id, name=name, version=version))


# -- reading ------------------------------------------------------------------------------------------------


async def find(conn: AsyncConnection, organisation_id: str) -> KnownOrganisation | None:
    """The organisation as it is today: merges followed to the survivor."""
    seen: set[str] = set()
    current = organisation_id
    for _ in range(MAX_MERGE_HOPS):
        row = (await conn.execute(select(organisations).where(organisations.c.id == current))).first()
        if row is None:
            return None
        if row.merged_into is None or row.merged_into in seen:
            return _known(row)
        seen.add(current)
        current = row.merged_into
    return None


async def active(conn: AsyncConnection, organisation_id: str, field: str) -> OrganisationRef:
    """An organisation that may take part in something new: known (after merges) and not archived."""
    found = await find(conn, organisation_id)
    if found is None:
        raise InvalidInput(
            f"The directory has no organisation {organisation_id}.",
            "Diese Organisation gibt es im Verzeichnis nicht.",
            field=field,
        )
    if found.archived:
        raise InvalidInput(
            f"{found.name} is archived in the directory and takes part in nothing new.",
            f"{found.name} ist im Verzeichnis archiviert und nimmt an nichts Neuem teil.",
            field=field,
        )
    return found.ref()


async def names(conn: AsyncConnection, ids: set[str]) -> dict[str, KnownOrganisation]:
    """Every given id to the organisation it stands for today (after merges); unknown ids are left out."""
    out: dict[str, KnownOrganisation] = {}
    for organisation_id in sorted(i for i in ids if i):
        found = await find(conn, organisation_id)
        if found is not None:
            out[organisation_id] = found
    return out


async def list_organisations(
    conn: AsyncConnection, kinds: frozenset[OrganisationKind] | None = None, public_only: bool = False
) -> list[KnownOrganisation]:
    """Active organisations (not archived, not merged away), by name: the choices of a form."""
    o = organisations.c
    query = select(organisations).where(o.archived.is_(False), o.merged_into.is_(None))
    if public_only:
        query = query.where(o.public_profile.is_(True))
    if kinds:
        query = query.where(o.kind.in_([str(k) for k in kinds]))
    rows = (await conn.execute(query.order_by(o.name, o.id))).all()
    return [_known(r) for r in rows]


async def network_names(conn: AsyncConnection) -> dict[str, str]:
    rows = (await conn.execute(select(networks.c.id, networks.c.name).order_by(networks.c.name))).all()
    return {r.id: r.name for r in rows}


async def network_exists(conn: AsyncConnection, network_id: str) -> bool:
    return (await conn.execute(select(networks.c.id).where(networks.c.id == network_id))).first() is not None
