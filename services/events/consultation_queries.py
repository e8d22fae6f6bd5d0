"""Reads of the advice read model, with organisations as they are today (merges followed).

A session recorded for a duplicate that was merged away since shows, filters and counts as the survivor's.
The advised person and the minutes are opened only by `notes_of` (VIA's pages and API): the lists never
carry them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.events import replica
from services.events.consultation_projection import accompaniments, consultations
from services.events.queries import _org as organisation_brief
from shared.errors import InvalidInput
from shared.vault import Vault


@dataclass(frozen=True)
class ConsultationFilter:
    organisation_id: str | None = None
    topic: str | None = None
    format: str | None = None
    held_from: date | None = None
    held_until: date | None = None
    accompaniment_id: str | None = None

    def __post_init__(self) -> None:
        """A period that ends before it begins would find nothing without saying why: refused beside "Bis"."""
        if self.held_from and self.held_until and self.held_until < self.held_from:
            raise InvalidInput(
                f"“Until” lies before “From”: give a day on or after {self.held_from:%Y-%m-%d}.",
                f"„Bis“ liegt vor „Von“: bitte einen Tag ab dem {self.held_from:%d.%m.%Y} angeben.",
                field="held_until",
            )


async def _with_organisations(conn: AsyncConnection, rows: list[Any]) -> list[dict[str, Any]]:
    found = await replica.names(conn, {r.organisation_id for r in rows})
    out = []
    for row in rows:
        data = dict(row._mapping)
        data.pop("person_advised", None)
        data.pop("minutes", None)
        data["organisation"] = organisation_brief(found, row.organisation_id)
        out.append(data)
    return out


async def _resolved(conn: AsyncConnection, organisation_id: str) -> str:
    found = await replica.find(conn, organisation_id)
    return found.id if found is not None else organisation_id


async def list_consultations(
    conn: AsyncConnection, where: ConsultationFilter, limit: int = 100, offset: int = 0
) -> tuple[list[dict[str, Any]], int]:
    """Sessions, the most recent first; organisation and topic are filtered after the merges are followed
    (a survivor's list includes its duplicates' sessions), the same on SQLite and PostgreSQL."""
    c = consultations.c
    conditions: list[ColumnElement[bool]] = []
    if where.format:
        conditions.append(c.format == where.format)
    if where.held_from:
        conditions.append(c.held_on >= where.held_from)
    if where.held_until:
        conditions.append(c.held_on <= where.held_until)
    if where.accompaniment_id:
        conditions.append(c.accompaniment_id == where.accompaniment_id)
    query = select(consultations).where(*conditions).order_by(c.held_on.desc(), c.recorded_at.desc(), c.id)
    rows = list((await conn.execute(query)).all())
    if where.topic:
        rows = [r for r in rows if where.topic in r.topics]
    items = await _with_organisations(conn, rows)
    if where.organisation_id:
        wanted = await _resolved(conn, where.organisation_id)
        items = [i for i in items if i["organisation"]["id"] == wanted]
    return items[offset : offset + limit], len(items)


async def get_consultation(conn: AsyncConnection, consultation_id: str) -> dict[str, Any] | None:
    row = (await conn.execute(select(consultations).where(consultations.c.id == consultation_id))).first()
    if row is None:
        return None
    return (await _with_organisations(conn, [row]))[0]


async def notes_of(
    conn: AsyncConnection, consultation_id: str, vault: Vault, names: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """Who was advised, by whom, and the minutes, opened from the vault (an erased person reads as erased)."""
    row = (
        await conn.execute(
            select(
                consultations.c.adviser_id,
                consultations.c.person_advised,
                consultations.c.minutes,
                consultations.c.erased,
            ).where(consultations.c.id == consultation_id)
        )
    ).first()
    if row is None:
        return None
    person, minutes = await vault.open_all(conn, [row.person_advised, row.minutes])
    adviser = row.adviser_id or ""
    return {
        "adviser_id": adviser,
        "adviser_name": (names or {}).get(adviser, adviser),
        "person_advised": person,
        "minutes": minutes,
        "erased": row.erased,
    }


def _hours(minutes: int) -> float:
    return round(minutes / 60, 2)


async def list_accompaniments(
    conn: AsyncConnection, organisation_id: str | None = None, open_only: bool = False
) -> list[dict[str, Any]]:
    """Accompaniments with their number of sessions and hours: open ones first, the newest first."""
    a = accompaniments.c
    query = select(accompaniments).order_by(a.closed_on.is_not(None), a.opened_on.desc(), a.id)
    if open_only:
        query = query.where(a.closed_on.is_(None))
    rows = list((await conn.execute(query)).all())
    sessions = (
        await conn.execute(
            select(consultations.c.accompaniment_id, consultations.c.duration_minutes).where(
                consultations.c.accompaniment_id.is_not(None)
            )
        )
    ).all()
    totals: dict[str, list[int]] = {}
    for s in sessions:
        totals.setdefault(s.accompaniment_id, []).append(s.duration_minutes)
    items = await _with_organisations(conn, rows)
    for item in items:
        durations = totals.get(item["id"], [])
        item.update(sessions=len(durations), total_minutes=sum(durations), total_hours=_hours(sum(durations)))
    if organisation_id:
        wanted = await _resolved(conn, organisation_id)
        items = [i for i in items if i["organisation"]["id"] == wanted]
    return items


async def get_accompaniment(conn: AsyncConnection, accompaniment_id: str) -> dict[str, Any] | None:
    """An accompaniment with its sessions in the order they took place and its total hours."""
    row = (await conn.execute(select(accompaniments).where(accompaniments.c.id == accompaniment_id))).first()
    if row is None:
        return None
    item = (await _with_organisations(conn, [row]))[0]
    c = consultations.c
    rows = (
        await conn.execute(
            select(consultations)
            .where(c.accompaniment_id == accompaniment_id)
            .order_by(c.held_on, c.recorded_at, c.id)
        )
    ).all()
    item["sessions"] = await _with_organisations(conn, list(rows))
    total = sum(r.duration_minutes for r in rows)
    item.update(total_minutes=total, total_hours=_hours(total))
    return item
