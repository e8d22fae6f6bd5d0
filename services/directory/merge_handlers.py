"""Merging duplicates: both records loaded, the merge decided, both saved in one unit of work.

Two people merging the same records at once cannot both win: each append expects the version it loaded,
so the second finds a stream that moved on and gets a 409, and nothing of it is kept. What both records
take part in is read in the same transaction; a join of either that commits in between relied on that
organisation's stream, which the merge appends to, so one of the two is refused (ADR 0011).
"""

from __future__ import annotations

from services.directory import merge_queries
from services.directory.domain.merge import MergeOrganisations, merge
from services.directory.domain.model import Organisation
from services.directory.handlers import WHAT_DE, UowFactory


async def merge_organisations(uow_factory: UowFactory, cmd: MergeOrganisations) -> Organisation:
    async with uow_factory() as uow:
        survivor = await uow.get(Organisation, cmd.survivor_id, WHAT_DE, cmd.survivor_version)
        absorbed = await uow.get(Organisation, cmd.absorbed_id, WHAT_DE, cmd.absorbed_version)
        held = (
            await merge_queries.connections(uow.conn, survivor.id),
            await merge_queries.connections(uow.conn, absorbed.id),
        )
        merge(survivor, absorbed, cmd.reason, held)
        await uow.save(absorbed)
        await uow.save(survivor)
    return survivor
