"""Reads of the calendar and registration read models, with organisation names from the directory's copy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.events import replica
from services.events.projections import calendar, cancellation_notes, feedback, participation, registrations
from shared.contracts.events import CancellationReason
from shared.vault import Vault


@dataclass(frozen=True)
class CalendarFilter:
    status: str | None = None
    format: str | None = None
    topic: str | None = None
    district: str | None = None
    starts_after: datetime | None = None
    public_only: bool = False  # what the public calendar shows: what was published (perhaps cancelled since)


def _event(row: Any, organisations: dict[str, replica.KnownOrganisation], nets: dict[str, str]) -> dict:
    data = dict(row._mapping)
    host = data["host_organisation_id"]
    data["host"] = _org(organisations, host) if host else None
    data["speakers"] = [_org(organisations, s) for s in data["speaker_organisation_ids"]]
    data["network"] = (
        {"id": data["network_id"], "name": nets.get(data["network_id"], "")} if data["network_id"] else None
    )
    data["free_places"] = max(0, data["capacity"] - data["confirmed"])
    data["cancel_reason"] = _category(data["cancel_reason"])
    data["cancel_note"] = None  # VIA's; see with_cancellation_notes
    return data


_CATEGORIES = frozenset(r.value for r in CancellationReason)


def _category(reason: str | None) -> str | None:
    """A read model built before reasons were categories may hold v1's free text until it is rebuilt:
    never shown, it reads as `other`, as the log does."""
    if reason is None or reason in _CATEGORIES:
        return reason
    return CancellationReason.OTHER.value


async def with_cancellation_notes(
    conn: AsyncConnection, events: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The events with VIA's notes on why they were cancelled: for VIA's team, never for the public."""
    cancelled = [e["id"] for e in events if e["status"] == "cancelled"]
    if not cancelled:
        return events
    n = cancellation_notes.c
    found = dict((await conn.execute(select(n.event_id, n.note).where(n.event_id.in_(cancelled)))).all())
    return [{**e, "cancel_note": found.get(e["id"])} for e in events]


def _org(organisations: dict[str, replica.KnownOrganisation], organisation_id: str) -> dict[str, Any]:
    found = organisations.get(organisation_id)
    if found is None:
        return {"id": organisation_id, "name": "", "kind": None}
    return {"id": found.id, "name": found.name, "kind": found.kind}


async def _decorate(conn: AsyncConnection, rows: list[Any]) -> list[dict[str, Any]]:
    ids = {i for r in rows for i in [r.host_organisation_id, *r.speaker_organisation_ids] if i}
    organisations = await replica.names(conn, ids)
    nets = await replica.network_names(conn)
    return [_event(r, organisations, nets) for r in rows]


async def list_events(
    conn: AsyncConnection, where: CalendarFilter, limit: int = 100, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    c = calendar.c
    conditions: list[ColumnElement[bool]] = []
    if where.public_only:
        conditions.append(c.published_at.is_not(None))
    if where.status:
        conditions.append(c.status == where.status)
    if where.format:
        conditions.append(c.format == where.format)
    if where.district:
        conditions.append(c.district == where.district)
    if where.starts_after:
        conditions.append(c.ends_at >= where.starts_after)
    rows = (await conn.execute(select(calendar).where(*conditions).order_by(c.starts_at, c.id))).all()
    if where.topic:  # topics are a JSON list: filtered here, the same on SQLite and PostgreSQL
        rows = [r for r in rows if where.topic in r.topics]
    total = len(rows)
    return await _decorate(conn, list(rows[offset : offset + limit])), total


async def get_event(conn: AsyncConnection, event_id: str, public_only: bool = False) -> dict[str, Any] | None:
    query = select(calendar).where(calendar.c.id == event_id)
    if public_only:
        query = query.where(calendar.c.published_at.is_not(None))
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    return (await _decorate(conn, [row]))[0]


async def titles(conn: AsyncConnection, event_ids: set[str]) -> dict[str, str]:
    """Event titles by id from the calendar, for pages that list things about several events."""
    if not event_ids:
        return {}
    c = calendar.c
    rows = await conn.execute(select(c.id, c.title).where(c.id.in_(event_ids)))
    return {row.id: row.title for row in rows}


async def registrations_of(
    conn: AsyncConnection, event_id: str, vault: Vault | None = None
) -> list[dict[str, Any]]:
    """Every registration of an event, opened: confirmed first, then the waitlist in its order, then the
    cancelled ones."""
    r = registrations.c
    rows = (await conn.execute(select(registrations).where(r.event_id == event_id))).all()
    vault = vault or Vault()
    opened = await vault.open_all(conn, [[row.name, row.email, row.phone] for row in rows])
    organisations = await replica.names(conn, {row.organisation_id for row in rows if row.organisation_id})
    took_part = await participation_of(conn, event_id)
    order = {"confirmed": 0, "waitlisted": 1, "cancelled": 2}
    items = []
    for row, (name, email, phone) in zip(rows, opened, strict=True):
        organisation = organisations.get(row.organisation_id) if row.organisation_id else None
        items.append(
            {
                "id": row.id,
                "event_id": row.event_id,
                "name": name,
                "email": email,
                "phone": phone,
                "organisation_id": organisation.id if organisation else row.organisation_id,
                "organisation_name": organisation.name if organisation else None,
                "status": row.status,
                "promoted": row.promoted,
                "cancelled_by": row.cancelled_by,
                "erased": row.erased,
                "registered_at": row.registered_at,
                "consent": row.consent,
                "changed_at": row.changed_at,
                "waitlisted_at_version": row.waitlisted_at_version,
                **_taking_part(took_part.get(row.id)),
            }
        )
    items.sort(
        key=lambda i: (
            order.get(i["status"] or "", 3),
            i["waitlisted_at_version"] or 0 if i["status"] == "waitlisted" else 0,
            i["registered_at"],
            i["id"],
        )
    )
    position = 0
    for item in items:
        if item["status"] == "waitlisted":
            position += 1
            item["waitlist_position"] = position
        else:
            item["waitlist_position"] = None
    return items


async def registration_by_token(conn: AsyncConnection, cancel_token_hash: str) -> dict[str, Any] | None:
    """The registration a personal link stands for, opened (its name reads "[gelöscht]" once erased)."""
    r = registrations.c
    row = (await conn.execute(select(registrations).where(r.cancel_token_hash == cancel_token_hash))).first()
    if row is None:
        return None
    [name] = await Vault().open_all(conn, [row.name])
    took_part = (await participation_of(conn, row.event_id)).get(row.id)
    return {
        "id": row.id,
        "event_id": row.event_id,
        "name": name,
        "status": row.status,
        "erased": row.erased,
        **_taking_part(took_part),
    }


async def event_of_token(conn: AsyncConnection, cancel_token_hash: str) -> str | None:
    r = registrations.c
    found = (await conn.execute(select(r.event_id).where(r.cancel_token_hash == cancel_token_hash))).first()
    return found.event_id if found else None


async def counts(conn: AsyncConnection) -> dict[str, int]:
    c = calendar.c
    rows = (await conn.execute(select(c.status, func.count()).group_by(c.status))).all()
    return {status: int(n) for status, n in rows}


def _taking_part(row: Any) -> dict[str, Any]:
    return {
        "attended": bool(row and row.attended),
        "attended_at": row.attended_at if row and row.attended else None,
    }


async def participation_of(conn: AsyncConnection, event_id: str) -> dict[str, Any]:
    """The participation rows of an event's registrations, by registration id."""
    p = participation.c
    rows = (await conn.execute(select(participation).where(p.event_id == event_id))).all()
    return {row.registration_id: row for row in rows}


async def feedback_of(conn: AsyncConnection, event_id: str, vault: Vault | None = None) -> dict[str, Any]:
    """What people said about an event: the average, how many gave each rating, and the comments
    (opened; "[gelöscht]" once the person is erased), newest first."""
    f = feedback.c
    rows = (
        await conn.execute(select(feedback).where(f.event_id == event_id).order_by(f.given_at.desc()))
    ).all()
    comments = await (vault or Vault()).open_all(conn, [row.comment for row in rows])
    ratings = [row.rating for row in rows]
    return {
        "count": len(ratings),
        "average": round(sum(ratings) / len(ratings), 1) if ratings else None,
        "distribution": {str(n): ratings.count(n) for n in range(5, 0, -1)},
        "items": [
            {
                "registration_id": row.registration_id,
                "rating": row.rating,
                "comment": comment,
                "by": row.given_by,
                "given_at": row.given_at,
            }
            for row, comment in zip(rows, comments, strict=True)
        ],
    }


async def feedback_by(conn: AsyncConnection, registration_id: str) -> dict[str, Any] | None:
    """One registration's own feedback, opened: what the personal link's form shows again."""
    row = (await conn.execute(select(feedback).where(feedback.c.registration_id == registration_id))).first()
    if row is None:
        return None
    [comment] = await Vault().open_all(conn, [row.comment])
    return {"rating": row.rating, "comment": comment, "by": row.given_by, "given_at": row.given_at}
