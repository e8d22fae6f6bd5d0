"""Command handlers: one plain async function per command, load -> decide -> save in one unit of work."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from services.directory.domain.commands import (
    ArchiveOrganisation,
    ChangeLegalForm,
    RegisterOrganisation,
    UpdateOrganisationProfile,
)
from services.directory.domain.model import Organisation
from shared.errors import ConcurrencyError
from shared.store.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
WHAT_DE = "Organisation"


async def register_organisation(uow_factory: UowFactory, cmd: RegisterOrganisation) -> Organisation:
    organisation = Organisation.register(str(uuid.uuid4()), cmd)
    async with uow_factory() as uow:
        await uow.save(organisation)
    return organisation


async def _load(uow: UnitOfWork, organisation_id: str, expected_version: int | None) -> Organisation:
    organisation = await uow.get(Organisation, organisation_id, WHAT_DE)
    if expected_version is not None and organisation.version != expected_version:
        raise ConcurrencyError(organisation.stream_id, expected_version, organisation.version)
    return organisation


async def update_profile(uow_factory: UowFactory, cmd: UpdateOrganisationProfile) -> Organisation:
    async with uow_factory() as uow:
        organisation = await _load(uow, cmd.organisation_id, cmd.expected_version)
        organisation.update_profile(cmd)
        await uow.save(organisation)
    return organisation


async def change_legal_form(uow_factory: UowFactory, cmd: ChangeLegalForm) -> Organisation:
    async with uow_factory() as uow:
        organisation = await _load(uow, cmd.organisation_id, cmd.expected_version)
        organisation.change_legal_form(cmd.legal_form)
        await uow.save(organisation)
    return organisation


async def archive_organisation(uow_factory: UowFactory, cmd: ArchiveOrganisation) -> Organisation:
    async with uow_factory() as uow:
        organisation = await _load(uow, cmd.organisation_id, cmd.expected_version)
        organisation.archive(cmd.reason)
        await uow.save(organisation)
    return organisation
