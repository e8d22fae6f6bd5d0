"""Merging duplicates: both records loaded, the merge decided, both saved in one unit of work.

Two people merging the same records at once cannot both win: each append expects the version it loaded,
so the second finds a stream that moved on and gets a 409, and nothing of it is kept.
"""

from __future__ import annotations

from services.directory.domain.merge import MergeOrganisations, merge
from services.directory.domain.model import Organisation
from services.directory.handlers import WHAT_DE, UowFactory


async def merge_organisations(uow_factory: UowFactory, cmd: MergeOrganisations) -> Organisation:
    async with uow_factory() as uow:
        survivor = await uow.get(Organisation, cmd.survivor_id, WHAT_DE, cmd.survivor_version)
        absorbed = await uow.get(Organisation, cmd.absorbed_id, WHAT_DE, cmd.absorbed_version)
        merge(survivor, absorbed, cmd.reason)
        await uow.save(absorbed)
        await uow.save(survivor)
    return survivor
