"""Command handlers: one plain async function per command, load -> decide -> save in one unit of work."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

from services.directory import merge_queries, queries
from services.directory.domain.commands import (
    AddContactPerson,
    ArchiveOrganisation,
    ChangeContact,
    ChangeLegalForm,
    FoundNetwork,
    JoinNetwork,
    LeaveNetwork,
    RegisterOrganisation,
    UpdateOrganisationProfile,
)
from services.directory.domain.contact import ContactPerson
from services.directory.domain.cooperation import Cooperation
from services.directory.domain.mentoring import Mentoring
from services.directory.domain.model import Organisation
from services.directory.domain.network import Network
from services.directory.domain.teilhabecheck import Teilhabecheck
from shared.contracts.directory import District, FieldOfWork
from shared.db import queue_behind
from shared.errors import ConcurrencyError, DomainRuleViolation, InvalidInput
from shared.store.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
WHAT_DE = "Organisation"
COOPERATION_LOCK_SCOPE = 0xC0_0B  # writers of one pair and field queue for the "only once" check
MENTORING_LOCK_SCOPE = 0x3E_47  # proposals for one pair queue for the "one open mentoring" check


async def register_organisation(uow_factory: UowFactory, cmd: RegisterOrganisation) -> Organisation:
    organisation = Organisation.register(cmd.organisation_id or str(uuid.uuid4()), cmd)
    async with uow_factory() as uow:
        if cmd.organisation_id and await uow.find(Organisation, cmd.organisation_id) is not None:
            raise DomainRuleViolation(  # two at once: the second append finds the stream begun (409 too)
                f"An organisation with the id {cmd.organisation_id} exists already.",
                f"Eine Organisation mit der Kennung {cmd.organisation_id} gibt es bereits.",
            )
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


# -- networks ---------------------------------------------------------------------------------------------


JOINS_NOTHING = (
    "{name} is archived and joins nothing new.",
    "{name} ist archiviert und kann nichts Neuem beitreten.",
)
NO_NEW_CONTACTS = (
    "{name} is archived: no new contact persons are added.",
    "{name} ist archiviert: Es werden keine neuen Ansprechpersonen eingetragen.",
)


async def _active_organisation(
    uow: UnitOfWork, organisation_id: str, archived: tuple[str, str] = JOINS_NOTHING
) -> Organisation:
    """An organisation that may take part in something new: it exists (404) and is not archived (409;
    `archived` says what is refused, in English and German, with `{name}`)."""
    organisation = await uow.get(Organisation, organisation_id, WHAT_DE)
    uow.rely_on(organisation)  # archived or merged before this commits: the command is refused, not kept
    if organisation.merged_into is not None:  # a duplicate merged away: its survivor takes part instead
        name = organisation.profile.name if organisation.profile else organisation_id
        raise DomainRuleViolation(
            f"{name} was merged into {organisation.merged_into_name}; choose that one.",
            f"{name} wurde mit {organisation.merged_into_name} zusammengeführt; bitte diese wählen.",
        )
    if organisation.archived:
        name = organisation.profile.name if organisation.profile else organisation_id
        raise DomainRuleViolation(archived[0].format(name=name), archived[1].format(name=name))
    return organisation


async def ensure_no_member_through_a_duplicate(
    uow: UnitOfWork, organisation_id: str, is_member: Callable[[str], bool]
) -> None:
    """No double membership through a merge: a duplicate merged into this organisation that is still a
    member (network, committee) counts as the organisation itself (read in the same transaction)."""
    for record in (await merge_queries.record_ids(uow.conn, organisation_id))[1:]:
        if is_member(record):
            raise DomainRuleViolation(
                "This organisation is already a member through a duplicate merged into it.",
                "Diese Organisation ist über eine mit ihr zusammengeführte Dublette bereits Mitglied.",
            )


async def found_network(uow_factory: UowFactory, cmd: FoundNetwork) -> Network:
    async with uow_factory() as uow:
        for organisation_id in dict.fromkeys(cmd.coordinators):
            await _active_organisation(uow, organisation_id)
        network = Network.found(
            str(uuid.uuid4()), cmd.name, cmd.topic, cmd.coordinators, cmd.founded_on or date.today()
        )
        await uow.save(network)
    return network


async def join_network(uow_factory: UowFactory, cmd: JoinNetwork) -> Network:
    async with uow_factory() as uow:
        network = await uow.get(Network, cmd.network_id, "Netzwerk", cmd.expected_version)
        await _active_organisation(uow, cmd.organisation_id)
        await ensure_no_member_through_a_duplicate(uow, cmd.organisation_id, network.is_member)
        network.join(cmd.organisation_id, cmd.joined_on or date.today())
        await uow.save(network)
    return network


async def leave_network(uow_factory: UowFactory, cmd: LeaveNetwork) -> Network:
    async with uow_factory() as uow:
        network = await uow.get(Network, cmd.network_id, "Netzwerk", cmd.expected_version)
        network.leave(cmd.organisation_id, cmd.left_on or date.today())
        await uow.save(network)
    return network


# -- contact persons --------------------------------------------------------------------------------------


async def add_contact(uow_factory: UowFactory, cmd: AddContactPerson) -> ContactPerson:
    async with uow_factory() as uow:
        await _active_organisation(uow, cmd.organisation_id, NO_NEW_CONTACTS)
        contact = ContactPerson.record(
            str(uuid.uuid4()), cmd.organisation_id, cmd.name, cmd.role, cmd.consent, cmd.email, cmd.phone
        )
        await uow.save(contact)
    return contact


async def change_contact(uow_factory: UowFactory, cmd: ChangeContact) -> ContactPerson:
    async with uow_factory() as uow:
        contact = await uow.get(ContactPerson, cmd.contact_id, "Ansprechperson", cmd.expected_version)
        contact.change(cmd.role, cmd.consent)
        await uow.save(contact)
    return contact


async def remove_contact(uow_factory: UowFactory, contact_id: str) -> ContactPerson:
    async with uow_factory() as uow:
        contact = await uow.get(ContactPerson, contact_id, "Ansprechperson")
        contact.remove()
        await uow.save(contact)
    return contact


async def erase_contact(uow_factory: UowFactory, contact_id: str) -> ContactPerson:
    """Erase the person: the event says so, and their key goes in the same transaction."""
    async with uow_factory() as uow:
        contact = await uow.get(ContactPerson, contact_id, "Ansprechperson")
        contact.erase()
        await uow.save(contact)
        await uow.vault.erase(uow.conn, contact_id)
    return contact


# -- mentoring --------------------------------------------------------------------------------------------


async def propose_mentoring(
    uow_factory: UowFactory, mentor_id: str, mentee_id: str, focus_areas: tuple[str, ...]
) -> Mentoring:
    mentoring = Mentoring.propose(str(uuid.uuid4()), mentor_id, mentee_id, focus_areas)
    async with uow_factory() as uow:
        await queue_behind(uow.conn, MENTORING_LOCK_SCOPE, "|".join(sorted((mentor_id, mentee_id))))
        await _active_organisation(uow, mentor_id)
        await _active_organisation(uow, mentee_id)
        if await queries.mentoring_open(uow.conn, mentor_id, mentee_id):
            raise DomainRuleViolation(
                "These two already have an open mentoring; end it before proposing another.",
                "Diese beiden haben bereits eine laufende Begleitung; bitte sie erst beenden.",
            )
        await uow.save(mentoring)
    return mentoring


async def mentoring_step(
    uow_factory: UowFactory,
    mentoring_id: str,
    step: str,
    on: date | None,
    reason: str | None = None,
    expected_version: int | None = None,
) -> Mentoring:
    """start, complete or end_early one mentoring."""
    async with uow_factory() as uow:
        mentoring = await uow.get(Mentoring, mentoring_id, "Begleitung", expected_version)
        day = on or date.today()
        if step == "start":  # both must still take part in something new when it begins
            await _active_organisation(uow, mentoring.mentor_id)
            await _active_organisation(uow, mentoring.mentee_id)
            mentoring.start(day)
        elif step == "complete":
            mentoring.complete(day)
        else:
            mentoring.end_early(day, reason)
        await uow.save(mentoring)
    return mentoring


# -- cooperations -----------------------------------------------------------------------------------------


async def start_cooperation(
    uow_factory: UowFactory,
    organisation_id: str,
    partner_id: str,
    field: FieldOfWork,
    started_on: date | None,
) -> Cooperation:
    async with uow_factory() as uow:
        await queue_behind(uow.conn, COOPERATION_LOCK_SCOPE, f"{organisation_id}|{partner_id}|{field}")
        organisation = await _active_organisation(uow, organisation_id)
        partner = await _active_organisation(uow, partner_id)
        assert organisation.kind is not None and partner.kind is not None
        if await queries.cooperating_now(uow.conn, organisation_id, partner_id, field):
            raise DomainRuleViolation(
                "These two already cooperate in this field.",
                "Diese beiden kooperieren in diesem Feld bereits.",
            )
        day = started_on or date.today()
        ended = await queries.last_cooperation_end(uow.conn, organisation_id, partner_id, field)
        if ended is not None and day <= ended:
            raise InvalidInput(
                f"Their last cooperation in this field ended on {ended:%d.%m.%Y}; "
                "a new one starts after that.",
                f"Ihre letzte Kooperation in diesem Feld endete am {ended:%d.%m.%Y}; "
                "eine neue beginnt danach.",
                field="started_on",
            )
        cooperation = Cooperation.start(
            str(uuid.uuid4()),
            (organisation_id, organisation.kind),
            (partner_id, partner.kind),
            field,
            day,
        )
        await uow.save(cooperation)
    return cooperation


async def end_cooperation(
    uow_factory: UowFactory, cooperation_id: str, ended_on: date | None, expected_version: int | None = None
) -> Cooperation:
    async with uow_factory() as uow:
        cooperation = await uow.get(Cooperation, cooperation_id, "Kooperation", expected_version)
        cooperation.end(ended_on or date.today())
        await uow.save(cooperation)
    return cooperation


# -- Teilhabecheck ----------------------------------------------------------------------------------------


async def start_teilhabecheck(
    uow_factory: UowFactory, district: District, social_space: str, started_on: date | None
) -> Teilhabecheck:
    check = Teilhabecheck.start(str(uuid.uuid4()), district, social_space, started_on or date.today())
    async with uow_factory() as uow:
        await uow.save(check)
    return check


async def change_teilhabecheck(
    uow_factory: UowFactory,
    check_id: str,
    change: Callable[[Teilhabecheck], None],
    expected_version: int | None = None,
) -> Teilhabecheck:
    """Load the analysis, let `change` decide (record a finding, complete a phase, …), save."""
    async with uow_factory() as uow:
        check = await uow.get(Teilhabecheck, check_id, "Teilhabecheck", expected_version)
        change(check)
        await uow.save(check)
    return check
