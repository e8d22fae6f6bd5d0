"""Command handlers for advice and process accompaniment: load -> decide -> save in one unit of work.

A session of an accompaniment is appended to the consultation's new stream and to the accompaniment's stream
in the same transaction: if someone closed the accompaniment meanwhile, the accompaniment's append conflicts,
the attempt is decided again on the new state, and the session is refused (nothing half-applied).
Organisations are looked up in the directory's copy with merges followed: a new record names an active
organisation, and a record keeps the organisation it had even if that was archived since.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from services.events import replica
from services.events.domain.consultation import Accompaniment, Consultation
from services.events.domain.consultation_commands import (
    CloseAccompaniment,
    CorrectConsultation,
    OpenAccompaniment,
    RecordConsultation,
)
from services.events.handlers import UowFactory, lock_stream, retrying, utc_now
from shared.errors import InvalidInput
from shared.store.uow import UnitOfWork
from shared.web.vocabulary import local

Today = Callable[[], date]
CONSULTATION_DE = "Beratung"
ACCOMPANIMENT_DE = "Prozessbegleitung"


def berlin_today() -> date:
    """Days are Berlin's: advice given at 00:30 in Berlin happened on that day, not the day before in UTC."""
    return local(utc_now()).date()


async def _accompaniment(
    uow: UnitOfWork, accompaniment_id: str, expected: int | None = None
) -> Accompaniment:
    await lock_stream(uow, Accompaniment.stream_id_for(accompaniment_id))
    return await uow.get(Accompaniment, accompaniment_id, ACCOMPANIMENT_DE, expected)


async def _named_accompaniment(uow: UnitOfWork, accompaniment_id: str) -> Accompaniment:
    """The accompaniment a new session names: one that does not exist is a mistake in the input (422)."""
    await lock_stream(uow, Accompaniment.stream_id_for(accompaniment_id))
    found = await uow.find(Accompaniment, accompaniment_id)
    if found is None:
        raise InvalidInput(
            f"There is no accompaniment {accompaniment_id}.",
            "Diese Prozessbegleitung gibt es nicht.",
            field="accompaniment_id",
        )
    return found


async def _current_id(uow: UnitOfWork, organisation_id: str) -> str:
    """The organisation an old id stands for today (the survivor of a merge); unknown ids stay as they are."""
    found = await replica.find(uow.conn, organisation_id)
    return found.id if found is not None else organisation_id


async def record_consultation(
    uow_factory: UowFactory, cmd: RecordConsultation, today: Today = berlin_today
) -> Consultation:
    consultation_id = str(uuid.uuid4())

    async def attempt() -> Consultation:
        async with uow_factory() as uow:
            advice = cmd.advice
            accompaniment = None
            if cmd.accompaniment_id is not None:
                accompaniment = await _named_accompaniment(uow, cmd.accompaniment_id)
                if not advice.organisation_id:  # a session form need not name it again
                    advice = replace(advice, organisation_id=accompaniment.organisation_id)
            if not advice.organisation_id:
                raise InvalidInput(
                    "Choose the organisation that was advised.",
                    "Bitte die beratene Organisation wählen.",
                    field="organisation_id",
                )
            organisation = await replica.active(uow.conn, advice.organisation_id, "organisation_id")
            advice = replace(advice, organisation_id=organisation.id)
            consultation = Consultation.record(
                consultation_id, advice, cmd.adviser_id, today(), cmd.accompaniment_id
            )
            await uow.save(consultation)
            if accompaniment is not None:
                accompaniment.add_session(
                    consultation_id,
                    organisation.id,
                    await _current_id(uow, accompaniment.organisation_id),
                    advice.held_on,
                    advice.duration_minutes,
                )
                await uow.save(accompaniment)
        return consultation

    return await retrying(attempt)


async def correct_consultation(
    uow_factory: UowFactory, cmd: CorrectConsultation, today: Today = berlin_today
) -> Consultation:
    async with uow_factory() as uow:
        consultation = await uow.get(Consultation, cmd.consultation_id, CONSULTATION_DE, cmd.expected_version)
        assert consultation.advice is not None
        changes = dict(cmd.changes)
        if "organisation_id" in changes:
            wanted = changes["organisation_id"]
            if await _current_id(uow, wanted) == await _current_id(uow, consultation.advice.organisation_id):
                changes.pop("organisation_id")  # the same organisation (perhaps by its old id): no change
            elif consultation.accompaniment_id is None:
                changes["organisation_id"] = (await replica.active(uow.conn, wanted, "organisation_id")).id
        changed = consultation.correct(changes, today())
        await uow.save(consultation)
        if consultation.accompaniment_id and {"held_on", "duration_minutes"} & set(changed):
            accompaniment = await _accompaniment(uow, consultation.accompaniment_id)
            assert consultation.advice is not None
            accompaniment.change_session(
                consultation.id, consultation.advice.held_on, consultation.advice.duration_minutes
            )
            await uow.save(accompaniment)
    return consultation


async def erase_consultation(uow_factory: UowFactory, consultation_id: str) -> Consultation:
    """Erase the advised person and the minutes: the event says so, the key goes in the same transaction."""
    async with uow_factory() as uow:
        consultation = await uow.get(Consultation, consultation_id, CONSULTATION_DE)
        consultation.erase()
        await uow.save(consultation)
        await uow.vault.erase(uow.conn, consultation_id)
    return consultation


async def open_accompaniment(
    uow_factory: UowFactory, cmd: OpenAccompaniment, today: Today = berlin_today
) -> Accompaniment:
    async with uow_factory() as uow:
        organisation = await replica.active(uow.conn, cmd.organisation_id, "organisation_id")
        accompaniment = Accompaniment.open(
            str(uuid.uuid4()), organisation.id, cmd.topics, cmd.opened_on, cmd.goal, today()
        )
        await uow.save(accompaniment)
    return accompaniment


async def close_accompaniment(
    uow_factory: UowFactory, cmd: CloseAccompaniment, today: Today = berlin_today
) -> Accompaniment:
    async with uow_factory() as uow:
        accompaniment = await _accompaniment(uow, cmd.accompaniment_id, cmd.expected_version)
        accompaniment.close(cmd.closed_on, cmd.outcome, cmd.note, today())
        await uow.save(accompaniment)
    return accompaniment
