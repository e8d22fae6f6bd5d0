"""Reads across merges: which organisation an id stands for today, and which records make up one.

An absorbed record's id keeps working: it resolves to its survivor (following later merges of the
survivor too). A survivor's connections include those recorded under the records it took over, so its
page shows its contacts, networks, cooperations and seats from before the merge as well.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.directory.committee_projection import committee_seats, committees
from services.directory.domain.mentoring import MentoringStatus
from services.directory.domain.merge import Connections
from services.directory.merge_projection import organisation_merges
from services.directory.projections import (
    cooperations,
    mentorings,
    network_memberships,
    networks,
    organisations,
)

OPEN_MENTORING = (MentoringStatus.PROPOSED.value, MentoringStatus.ACTIVE.value)

MAX_HOPS = 50  # merges chain only forwards (a merged record takes over nothing), so this is a data error


async def survivors(conn: AsyncConnection, ids: set[str]) -> dict[str, str]:
    """Every given id to the id it stands for today (itself unless it was merged away)."""
    found = {i: i for i in ids}
    pending = set(ids)
    for _ in range(MAX_HOPS):
        if not pending:
            break
        m = organisation_merges.c
        rows = (
            await conn.execute(select(m.absorbed_id, m.survivor_id).where(m.absorbed_id.in_(pending)))
        ).all()
        moved = {r.absorbed_id: r.survivor_id for r in rows}
        for original, current in found.items():
            if current in moved:
                found[original] = moved[current]
        pending = set(moved.values())
    return found


async def survivor_of(conn: AsyncConnection, organisation_id: str) -> str:
    return (await survivors(conn, {organisation_id}))[organisation_id]


async def record_ids(conn: AsyncConnection, organisation_id: str) -> list[str]:
    """The organisation's id and those of every record merged into it, directly or by an earlier merge."""
    found, frontier = [organisation_id], [organisation_id]
    for _ in range(MAX_HOPS):
        m = organisation_merges.c
        rows = (await conn.execute(select(m.absorbed_id).where(m.survivor_id.in_(frontier)))).all()
        frontier = [r.absorbed_id for r in rows if r.absorbed_id not in found]
        if not frontier:
            break
        found.extend(frontier)
    return found


async def absorbed_by(conn: AsyncConnection, organisation_id: str) -> list[dict[str, Any]]:
    """The records merged directly into this one, with their names and when; oldest merge first."""
    m = organisation_merges.c
    rows = await conn.execute(
        select(m.absorbed_id.label("id"), organisations.c.name, m.merged_at, m.reason)
        .join(organisations, organisations.c.id == m.absorbed_id)
        .where(m.survivor_id == organisation_id)
        .order_by(m.merged_at, m.absorbed_id)
    )
    return [dict(r._mapping) for r in rows]


async def merge_of(conn: AsyncConnection, organisation_id: str) -> dict[str, Any] | None:
    """For a merged record: the survivor it stands for today (id and name), when and why it was merged."""
    m = organisation_merges.c
    row = (await conn.execute(select(organisation_merges).where(m.absorbed_id == organisation_id))).first()
    if row is None:
        return None
    survivor = await survivor_of(conn, organisation_id)
    name = (await conn.execute(select(organisations.c.name).where(organisations.c.id == survivor))).scalar()
    return {"id": survivor, "name": name, "merged_at": row.merged_at, "reason": row.reason}


async def names(conn: AsyncConnection, ids: set[str]) -> dict[str, str]:
    rows = await conn.execute(
        select(organisations.c.id, organisations.c.name).where(organisations.c.id.in_(ids))
    )
    return {r.id: r.name for r in rows}


async def connections(conn: AsyncConnection, organisation_id: str) -> Connections:
    """What the organisation (with the records merged into it) takes part in now: what a merge must not
    double. Read in the merge's own transaction."""
    ids = await record_ids(conn, organisation_id)
    nm, n = network_memberships.c, networks.c
    member_of = await conn.execute(
        select(n.id, n.name)
        .join(network_memberships, nm.network_id == n.id)
        .where(nm.organisation_id.in_(ids), nm.left_on.is_(None))
    )
    cs, c = committee_seats.c, committees.c
    seated_in = await conn.execute(
        select(c.id, c.name)
        .join(committee_seats, cs.committee_id == c.id)
        .where(cs.organisation_id.in_(ids), cs.vacated_on.is_(None), c.dissolved_on.is_(None))
    )
    co = cooperations.c
    cooperating = (
        await conn.execute(
            select(co.organisation_id, co.partner_id, co.field_of_work).where(
                or_(co.organisation_id.in_(ids), co.partner_id.in_(ids)), co.ended_on.is_(None)
            )
        )
    ).all()
    me = mentorings.c
    mentoring = (
        await conn.execute(
            select(me.mentor_id, me.mentee_id).where(
                or_(me.mentor_id.in_(ids), me.mentee_id.in_(ids)), me.status.in_(OPEN_MENTORING)
            )
        )
    ).all()
    own = set(ids)
    others = {r.partner_id if r.organisation_id in own else r.organisation_id for r in cooperating}
    others |= {r.mentee_id if r.mentor_id in own else r.mentor_id for r in mentoring}
    today = await survivors(conn, others)
    called = await names(conn, set(today.values()))
    partners = {
        (today[r.partner_id if r.organisation_id in own else r.organisation_id], r.field_of_work)
        for r in cooperating
    }
    counterparts = {today[r.mentee_id if r.mentor_id in own else r.mentor_id] for r in mentoring}
    return Connections(
        networks={r.id: r.name for r in member_of},
        committees={r.id: r.name for r in seated_in},
        cooperations={key: called.get(key[0], key[0]) for key in partners},
        mentorings={other: called.get(other, other) for other in counterparts},
    )
