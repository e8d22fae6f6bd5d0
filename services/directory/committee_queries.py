"""Reads of the committees read model: committees with their seats over time, an organisation's seats."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.directory import merge_queries
from services.directory.committee_projection import committee_seats, committees
from services.directory.projections import contacts, organisations
from shared.vault import Vault


async def list_committees(conn: AsyncConnection, district: str | None = None) -> list[dict[str, Any]]:
    """Every committee (of one district, if given) with its number of seats held now; dissolved ones last,
    Berlin-wide ones before the districts'."""
    s = committee_seats.c
    held = (
        select(s.committee_id, func.count().label("seats"))
        .where(s.vacated_on.is_(None))
        .group_by(s.committee_id)
        .subquery()
    )
    query = (
        select(committees, func.coalesce(held.c.seats, 0).label("seats"))
        .outerjoin(held, held.c.committee_id == committees.c.id)
        .order_by(
            committees.c.dissolved_on.is_not(None),
            committees.c.district.is_not(None),
            committees.c.district,
            committees.c.name,
        )
    )
    if district:
        query = query.where(committees.c.district == district)
    return [dict(row._mapping) for row in await conn.execute(query)]


async def get_committee(conn: AsyncConnection, committee_id: str, vault: Vault) -> dict[str, Any] | None:
    """A committee with every seat period (current ones first), each with the organisation's name and the
    representative's name (opened from the vault; an erased person reads as erased)."""
    row = (await conn.execute(select(committees).where(committees.c.id == committee_id))).first()
    if row is None:
        return None
    s = committee_seats.c
    rows = (
        await conn.execute(
            select(
                s.organisation_id,
                s.representative_id,
                s.taken_on,
                s.vacated_on,
                organisations.c.name,
                contacts.c.personal,
            )
            .outerjoin(organisations, organisations.c.id == s.organisation_id)
            .outerjoin(contacts, contacts.c.id == s.representative_id)
            .where(s.committee_id == committee_id)
            .order_by(s.vacated_on.is_not(None), organisations.c.name, s.taken_on)
        )
    ).all()
    opened = await vault.open_all(conn, [r.personal for r in rows])
    seats = [
        {
            "organisation_id": r.organisation_id,
            "name": r.name,
            "representative_id": r.representative_id,
            "representative_name": personal["name"] if personal else None,
            "taken_on": r.taken_on,
            "vacated_on": r.vacated_on,
        }
        for r, personal in zip(rows, opened, strict=True)
    ]
    return {**dict(row._mapping), "seats": seats}


async def seats_of(conn: AsyncConnection, organisation_id: str) -> list[dict[str, Any]]:
    """The committees an organisation holds or held a seat in, with its periods; current ones first."""
    s = committee_seats.c
    rows = await conn.execute(
        select(
            committees.c.id,
            committees.c.name,
            committees.c.kind,
            committees.c.district,
            s.taken_on,
            s.vacated_on,
        )
        .join(committees, committees.c.id == s.committee_id)
        .where(s.organisation_id.in_(await merge_queries.record_ids(conn, organisation_id)))
        .order_by(s.vacated_on.is_not(None), committees.c.name, s.taken_on)
    )
    return [dict(r._mapping) for r in rows]


async def representatives(conn: AsyncConnection, vault: Vault) -> list[dict[str, Any]]:
    """Every current, not erased contact person with their organisation (as it is today, after merges):
    who can represent it."""
    rows = (
        await conn.execute(
            select(contacts.c.id, contacts.c.organisation_id, contacts.c.personal, organisations.c.name)
            .join(organisations, organisations.c.id == contacts.c.organisation_id)
            .where(contacts.c.removed.is_(False), contacts.c.erased.is_(False))
        )
    ).all()
    opened = await vault.open_all(conn, [r.personal for r in rows])
    # A contact taken over by a merge represents the survivor, under the survivor's name.
    today = await merge_queries.survivors(conn, {r.organisation_id for r in rows})
    moved = await merge_queries.names(conn, {s for i, s in today.items() if s != i})
    found = [
        {
            "id": r.id,
            "organisation_id": today[r.organisation_id],
            "organisation": moved.get(today[r.organisation_id], r.name),
            "name": personal["name"],
        }
        for r, personal in zip(rows, opened, strict=True)
    ]
    return sorted(found, key=lambda c: (c["organisation"].casefold(), c["name"].casefold()))
