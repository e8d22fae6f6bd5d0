"""Command handlers for committees and their seats: load -> decide -> save in one unit of work.

The organisation's state (exists, not archived, its kind) and the representative's (a current contact of
that very organisation) are read from their own aggregates in the same transaction as the append.
"""

from __future__ import annotations

import uuid
from datetime import date

from services.directory import merge_queries
from services.directory.domain.commands import DissolveCommittee, RecordCommittee, TakeSeat, VacateSeat
from services.directory.domain.committee import Committee
from services.directory.domain.contact import ContactPerson
from services.directory.handlers import UowFactory, ensure_no_member_through_a_duplicate
from services.directory.handlers import _active_organisation as active_organisation
from shared.errors import InvalidInput

WHAT_DE = "Gremium"


async def record_committee(uow_factory: UowFactory, cmd: RecordCommittee) -> Committee:
    committee = Committee.record(str(uuid.uuid4()), cmd.name, cmd.kind, cmd.district, cmd.topic)
    async with uow_factory() as uow:
        await uow.save(committee)
    return committee


async def take_seat(uow_factory: UowFactory, cmd: TakeSeat) -> Committee:
    async with uow_factory() as uow:
        committee = await uow.get(Committee, cmd.committee_id, WHAT_DE, cmd.expected_version)
        organisation = await active_organisation(uow, cmd.organisation_id)
        await ensure_no_member_through_a_duplicate(uow, cmd.organisation_id, committee.holds_seat)
        assert organisation.kind is not None
        if cmd.representative_id is not None:
            contact = await uow.get(ContactPerson, cmd.representative_id, "Ansprechperson")
            records = await merge_queries.record_ids(uow.conn, cmd.organisation_id)  # its own and merged in
            if contact.organisation_id not in records or contact.removed or contact.erased:
                raise InvalidInput(
                    "The representative must be a current contact person of this organisation.",
                    "Die Vertretung muss eine aktuelle Ansprechperson dieser Organisation sein.",
                    field="representative_id",
                )
        committee.take_seat(
            (cmd.organisation_id, organisation.kind), cmd.representative_id, cmd.taken_on or date.today()
        )
        await uow.save(committee)
    return committee


async def vacate_seat(uow_factory: UowFactory, cmd: VacateSeat) -> Committee:
    async with uow_factory() as uow:
        committee = await uow.get(Committee, cmd.committee_id, WHAT_DE, cmd.expected_version)
        committee.vacate_seat(cmd.organisation_id, cmd.vacated_on or date.today())
        await uow.save(committee)
    return committee


async def dissolve_committee(uow_factory: UowFactory, cmd: DissolveCommittee) -> Committee:
    async with uow_factory() as uow:
        committee = await uow.get(Committee, cmd.committee_id, WHAT_DE, cmd.expected_version)
        committee.dissolve(cmd.dissolved_on or date.today())
        await uow.save(committee)
    return committee
