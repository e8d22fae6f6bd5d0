"""Reads of the organisations read model, and of the log for an organisation's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.directory import merge_queries
from services.directory.domain.contact import ContactPerson
from services.directory.domain.model import Organisation
from services.directory.projections import (
    FACETS,
    contacts,
    cooperations,
    fold,
    mentorings,
    network_memberships,
    networks,
    organisation_facets,
    organisations,
    teilhabe_items,
    teilhabechecks,
)
from shared.contracts.directory import COOPERATION_PARTNER_KINDS
from shared.store import EventStore
from shared.vault import Vault


@dataclass(frozen=True)
class OrganisationFilter:
    q: str | None = None
    kind: str | None = None
    legal_form: str | None = None
    district: str | None = None
    field_of_work: str | None = None
    language: str | None = None
    include_archived: bool = False
    public_only: bool = False  # only organisations that consented to a public profile


def _has_facet(facet: str, value: str):
    return exists().where(
        and_(
            organisation_facets.c.organisation_id == organisations.c.id,
            organisation_facets.c.facet == facet,
            organisation_facets.c.value == value,
        )
    )


async def _facets_of(conn: AsyncConnection, ids: list[str]) -> dict[str, dict[str, list[str]]]:
    result: dict[str, dict[str, list[str]]] = {i: {key: [] for key in FACETS.values()} for i in ids}
    if not ids:
        return result
    rows = await conn.execute(
        select(organisation_facets).where(organisation_facets.c.organisation_id.in_(ids))
    )
    for org_id, facet, value in rows:
        result[org_id][FACETS[facet]].append(value)
    for facets in result.values():
        for values in facets.values():
            values.sort()
    return result


def _row(row: Any, facets: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "legal_form": row.legal_form,
        "website": row.website,
        "public_profile": row.public_profile,
        "archived": row.archived,
        "version": row.version,
        "registered_at": row.registered_at,
        "updated_at": row.updated_at,
        **facets,
    }


async def list_organisations(
    conn: AsyncConnection, where: OrganisationFilter, limit: int = 50, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """A page of organisations matching the filter, ordered by folded name, and the total count."""
    conditions: list[ColumnElement[bool]] = []
    if not where.include_archived:
        conditions.append(organisations.c.archived.is_(False))
    if where.public_only:
        conditions.append(organisations.c.public_profile.is_(True))
    if where.kind:
        conditions.append(organisations.c.kind == where.kind)
    if where.legal_form:
        conditions.append(organisations.c.legal_form == where.legal_form)
    for facet in ("district", "field_of_work", "language"):
        value = getattr(where, facet)
        if value:
            conditions.append(_has_facet(facet, value))
    for word in fold(where.q or "").split():
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(organisations.c.search_text.like(f"%{escaped}%", escape="\\"))
    total = (
        await conn.execute(select(func.count()).select_from(organisations).where(*conditions))
    ).scalar_one()
    rows = (
        await conn.execute(
            select(organisations)
            .where(*conditions)
            .order_by(organisations.c.search_text, organisations.c.id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    facets = await _facets_of(conn, [r.id for r in rows])
    today = await merge_queries.survivors(conn, {r.id for r in rows if r.archived})  # merged ones point on
    found = [{**_row(r, facets[r.id]), "merged_into": None} for r in rows]
    for item in found:
        if today.get(item["id"], item["id"]) != item["id"]:
            item["merged_into"] = today[item["id"]]
    return found, int(total)


async def get_organisation(conn: AsyncConnection, organisation_id: str) -> dict[str, Any] | None:
    row = (await conn.execute(select(organisations).where(organisations.c.id == organisation_id))).first()
    if row is None:
        return None
    merged = await merge_queries.merge_of(conn, row.id)  # a merged record points at its survivor
    return {
        **_row(row, (await _facets_of(conn, [row.id]))[row.id]),
        "merged_into": merged["id"] if merged else None,
        "merged_into_name": merged["name"] if merged else None,
        "absorbed": await merge_queries.absorbed_by(conn, row.id),
    }


async def history(conn: AsyncConnection, store: EventStore, organisation_id: str) -> list[dict[str, Any]]:
    """Each change: what (event type and data), who (the actor), when; oldest first."""
    events = await store.load(conn, Organisation.stream_id_for(organisation_id))
    return [
        {
            "version": e.version,
            "type": e.type,
            "change": e.type.rsplit(".", 1)[-1],
            "at": e.recorded_at,
            "actor": e.metadata.actor,
            "data": e.data,
        }
        for e in events
    ]


async def as_today(conn: AsyncConnection, found: list[dict[str, Any]], *sides: tuple[str, str]) -> None:
    """Show each (id key, name key) side as the organisation it stands for today: `<id>_now` is the
    survivor's id and the name its name, with `<name>_merged_from` the recorded name when it was merged
    away. The recorded id stays as it is: the history (a leave, a step) is written against it."""
    ids = {f[id_key] for f in found for id_key, _ in sides}
    today = await merge_queries.survivors(conn, ids)
    moved = await merge_queries.names(conn, {s for i, s in today.items() if s != i})
    for f in found:
        for id_key, name_key in sides:
            now = today[f[id_key]]
            f[f"{id_key}_now"], f[f"{name_key}_merged_from"] = now, None
            if now in moved:
                f[f"{name_key}_merged_from"], f[name_key] = f[name_key], moved[now]


# -- networks ---------------------------------------------------------------------------------------------


async def list_networks(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every network with its number of current members, by name."""
    m = network_memberships.c
    current = (
        select(m.network_id, func.count().label("members"))
        .where(m.left_on.is_(None))
        .group_by(m.network_id)
        .subquery()
    )
    rows = await conn.execute(
        select(networks, func.coalesce(current.c.members, 0).label("members"))
        .outerjoin(current, current.c.network_id == networks.c.id)
        .order_by(networks.c.name)
    )
    return [dict(row._mapping) for row in rows]


async def get_network(conn: AsyncConnection, network_id: str) -> dict[str, Any] | None:
    """A network with every membership period (current ones first), each with the organisation's name."""
    row = (await conn.execute(select(networks).where(networks.c.id == network_id))).first()
    if row is None:
        return None
    m = network_memberships.c
    periods = await conn.execute(
        select(m.organisation_id, m.joined_on, m.left_on, m.coordinator, organisations.c.name)
        .outerjoin(organisations, organisations.c.id == m.organisation_id)
        .where(m.network_id == network_id)
        .order_by(m.left_on.is_not(None), organisations.c.name, m.joined_on)
    )
    members = [dict(p._mapping) for p in periods]
    await as_today(conn, members, ("organisation_id", "name"))  # a merged duplicate under its survivor
    return {**dict(row._mapping), "members": members}


async def networks_of(conn: AsyncConnection, organisation_id: str) -> list[dict[str, Any]]:
    """The networks an organisation belongs or belonged to, with its periods; current ones first."""
    m = network_memberships.c
    rows = await conn.execute(
        select(networks.c.id, networks.c.name, m.joined_on, m.left_on, m.coordinator)
        .join(networks, networks.c.id == m.network_id)
        .where(m.organisation_id.in_(await merge_queries.record_ids(conn, organisation_id)))
        .order_by(m.left_on.is_not(None), networks.c.name)
    )
    return [dict(r._mapping) for r in rows]


# -- contact persons --------------------------------------------------------------------------------------


async def contacts_of(conn: AsyncConnection, organisation_id: str, vault: Vault) -> list[dict[str, Any]]:
    """An organisation's current contact persons, their personal fields opened (or shown as erased)."""
    rows = (
        await conn.execute(
            select(contacts)
            .where(
                contacts.c.organisation_id.in_(await merge_queries.record_ids(conn, organisation_id)),
                contacts.c.removed.is_(False),
            )
            .order_by(contacts.c.id)
        )
    ).all()
    opened = await vault.open_all(conn, [row.personal for row in rows])
    found = [
        {
            "id": row.id,
            "organisation_id": row.organisation_id,
            "role": row.role,
            "consent": row.consent,
            "erased": row.erased,
            **personal,
        }
        for row, personal in zip(rows, opened, strict=True)
    ]
    return sorted(found, key=lambda c: (c["erased"], c["name"].casefold()))


async def contact_versions(conn: AsyncConnection, store: EventStore, ids: list[str]) -> dict[str, int]:
    """Each contact's version, from its stream in the log (for If-Match; the read model keeps none)."""
    return {i: await store.stream_version(conn, ContactPerson.stream_id_for(i)) for i in ids}


async def organisation_of_contact(conn: AsyncConnection, contact_id: str) -> str | None:
    """The organisation a contact person belongs to today: the survivor, if theirs was merged away."""
    row = (await conn.execute(select(contacts.c.organisation_id).where(contacts.c.id == contact_id))).first()
    return None if row is None else await merge_queries.survivor_of(conn, str(row.organisation_id))


# -- mentoring --------------------------------------------------------------------------------------------


async def list_mentorings(
    conn: AsyncConnection, organisation_id: str | None = None, mentoring_id: str | None = None
) -> list[dict[str, Any]]:
    """Mentorings with both organisations' names (as they are today, after merges); running ones first,
    then the newest."""
    mentor, mentee = organisations.alias("mentor"), organisations.alias("mentee")
    query = (
        select(mentorings, mentor.c.name.label("mentor_name"), mentee.c.name.label("mentee_name"))
        .outerjoin(mentor, mentor.c.id == mentorings.c.mentor_id)
        .outerjoin(mentee, mentee.c.id == mentorings.c.mentee_id)
        .order_by(mentorings.c.status.in_(["completed", "ended_early"]), mentorings.c.proposed_at.desc())
    )
    if organisation_id is not None:
        ids = await merge_queries.record_ids(conn, organisation_id)
        query = query.where(mentorings.c.mentor_id.in_(ids) | mentorings.c.mentee_id.in_(ids))
    if mentoring_id is not None:
        query = query.where(mentorings.c.id == mentoring_id)
    found = [dict(row._mapping) for row in await conn.execute(query)]
    await as_today(conn, found, ("mentor_id", "mentor_name"), ("mentee_id", "mentee_name"))
    return found


async def get_mentoring(conn: AsyncConnection, mentoring_id: str) -> dict[str, Any] | None:
    found = await list_mentorings(conn, mentoring_id=mentoring_id)
    return found[0] if found else None


# -- cooperations -----------------------------------------------------------------------------------------


async def cooperations_of(conn: AsyncConnection, organisation_id: str) -> list[dict[str, Any]]:
    """Cooperations where the organisation is either side, with the other side's name; current first.

    Either side merged away is shown as the organisation it stands for today."""
    c = cooperations.c
    mo, partner = organisations.alias("mo"), organisations.alias("partner")
    ids = await merge_queries.record_ids(conn, organisation_id)
    rows = await conn.execute(
        select(cooperations, mo.c.name.label("organisation_name"), partner.c.name.label("partner_name"))
        .outerjoin(mo, mo.c.id == c.organisation_id)
        .outerjoin(partner, partner.c.id == c.partner_id)
        .where(c.organisation_id.in_(ids) | c.partner_id.in_(ids))
        .order_by(c.ended_on.is_not(None), c.started_on.desc())
    )
    found = [dict(r._mapping) for r in rows]
    sides = {f[side] for f in found for side in ("organisation_id", "partner_id")}
    today = await merge_queries.survivors(conn, sides)
    moved = await merge_queries.names(conn, {s for i, s in today.items() if s != i})
    for f in found:
        for side in ("organisation", "partner"):
            now = today[f[f"{side}_id"]]
            if now in moved:
                f[f"{side}_id"], f[f"{side}_name"] = now, moved[now]
    return found


async def cooperating_now(conn: AsyncConnection, organisation_id: str, partner_id: str, field: str) -> bool:
    c = cooperations.c
    row = await conn.execute(
        select(c.id).where(
            c.organisation_id.in_(await merge_queries.record_ids(conn, organisation_id)),
            c.partner_id.in_(await merge_queries.record_ids(conn, partner_id)),
            c.field_of_work == field,
            c.ended_on.is_(None),
        )
    )
    return row.first() is not None


async def last_cooperation_end(
    conn: AsyncConnection, organisation_id: str, partner_id: str, field: str
) -> date | None:
    """When the latest cooperation of the two in this field ended: a new one starts after it."""
    c = cooperations.c
    return (
        await conn.execute(
            select(func.max(c.ended_on)).where(
                c.organisation_id.in_(await merge_queries.record_ids(conn, organisation_id)),
                c.partner_id.in_(await merge_queries.record_ids(conn, partner_id)),
                c.field_of_work == field,
            )
        )
    ).scalar()


async def mentoring_open(conn: AsyncConnection, first_id: str, second_id: str) -> bool:
    """Whether the two organisations (either way round, with records merged into them) have a proposed or
    active mentoring."""
    m = mentorings.c
    first = await merge_queries.record_ids(conn, first_id)
    second = await merge_queries.record_ids(conn, second_id)
    row = await conn.execute(
        select(m.id).where(
            m.status.in_(merge_queries.OPEN_MENTORING),
            or_(
                and_(m.mentor_id.in_(first), m.mentee_id.in_(second)),
                and_(m.mentor_id.in_(second), m.mentee_id.in_(first)),
            ),
        )
    )
    return row.first() is not None


async def current_partner_ids(conn: AsyncConnection, organisation_id: str) -> set[str]:
    """Everyone the organisation cooperates with now, either way round (as they stand after merges)."""
    return {
        c["partner_id"] if c["organisation_id"] == organisation_id else c["organisation_id"]
        for c in await cooperations_of(conn, organisation_id)
        if c["ended_on"] is None
    }


async def cooperation(conn: AsyncConnection, cooperation_id: str) -> dict[str, Any] | None:
    row = (
        await conn.execute(select(cooperations.c.organisation_id).where(cooperations.c.id == cooperation_id))
    ).first()
    if row is None:
        return None
    return next(c for c in await cooperations_of(conn, row.organisation_id) if c["id"] == cooperation_id)


async def cooperation_partners(conn: AsyncConnection) -> list[tuple[str, str]]:
    """(id, name) of the active administrations and services an MO can cooperate with, by name."""
    kinds = [str(k) for k in COOPERATION_PARTNER_KINDS]
    rows = await conn.execute(
        select(organisations.c.id, organisations.c.name)
        .where(organisations.c.kind.in_(kinds), organisations.c.archived.is_(False))
        .order_by(organisations.c.name)
    )
    return [(r.id, r.name) for r in rows]


async def partner_candidates(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every active administration and service that an MO can cooperate with, with its facets."""
    kinds = [str(k) for k in COOPERATION_PARTNER_KINDS]
    rows = (
        await conn.execute(
            select(organisations).where(organisations.c.kind.in_(kinds), organisations.c.archived.is_(False))
        )
    ).all()
    facets = await _facets_of(conn, [r.id for r in rows])
    return [_row(r, facets[r.id]) for r in rows]


# -- Teilhabecheck ----------------------------------------------------------------------------------------


async def list_teilhabechecks(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(select(teilhabechecks).order_by(teilhabechecks.c.started_on.desc()))
    return [dict(r._mapping) for r in rows]


async def get_teilhabecheck(conn: AsyncConnection, check_id: str) -> dict[str, Any] | None:
    row = (await conn.execute(select(teilhabechecks).where(teilhabechecks.c.id == check_id))).first()
    if row is None:
        return None
    items = await conn.execute(
        select(teilhabe_items).where(teilhabe_items.c.check_id == check_id).order_by(teilhabe_items.c.version)
    )
    found = [dict(i._mapping) for i in items]
    return {
        **dict(row._mapping),
        "findings": [i for i in found if i["kind"] == "finding"],
        "recommendations": [i for i in found if i["kind"] == "recommendation"],
    }
