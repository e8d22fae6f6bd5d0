"""Command handlers: one plain async function per command, load -> decide -> save in one unit of work.

Registrations and cancellations do not depend on the version a person saw, so when another registration
for the same event won the race (an expected-version conflict), they are decided again on the new state
before the conflict reaches the caller. Staff commands sent with a version (If-Match) never retry: the
person asked to change what they saw.

On PostgreSQL a command first takes a transaction-scoped advisory lock on the event's stream, so people
registering for the same event in the same second queue instead of spinning through conflicts (SQLite's
single writer queues them anyway). The lock only saves work: correctness rests on the expected-version
append, which still refuses any write decided on an old state.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TypeVar

from services.events import notices as outbox
from services.events import queries, replica
from services.events.domain.commands import (
    ChangeCapacity,
    ChangeEventDetails,
    CorrectRegistration,
    DraftEvent,
    EventPlan,
    OrganisationRef,
    Register,
)
from services.events.domain.model import AlreadyRegistered, Details, Event, Registration, plan_of, token_hash
from services.events.domain.notices import NoticeDue, NoticeKind, notices_for
from shared.contracts.events import CancelledBy, FeedbackBy
from shared.db import queue_behind
from shared.errors import ConcurrencyError, InvalidInput, NotFound, StaleRead
from shared.store.uow import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
Clock = Callable[[], datetime]
T = TypeVar("T")
WHAT_DE = "Veranstaltung"
RETRIES = 40
STREAM_LOCK_CLASS = 0x1C_E7  # the first key of the two-key advisory locks of event streams


def utc_now() -> datetime:
    return datetime.now(UTC)


async def retrying(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run `attempt` again after an expected-version conflict, with a short random pause in between: the
    decision is taken again on the new state. Never after a StaleRead (the person must look again)."""
    for round_ in range(RETRIES):
        try:
            return await attempt()
        except StaleRead:
            raise  # what the person saw changed: deciding again would overwrite it
        except ConcurrencyError:
            if round_ == RETRIES - 1:
                raise
            await asyncio.sleep(random.uniform(0, min(0.2, 0.002 * 1.5**round_)))
    raise AssertionError("unreachable")


async def lock_stream(uow: UnitOfWork, stream_id: str) -> None:
    """Queue behind other commands on the same stream (PostgreSQL; SQLite runs one writer at a time)."""
    await queue_behind(uow.conn, STREAM_LOCK_CLASS, stream_id)


async def _load(
    uow: UnitOfWork, event_id: str, seen: int | None = None, registration_id: str | None = None
) -> Event:
    """The event, refused (StaleRead) when what the command decides on changed after version `seen`."""
    await lock_stream(uow, Event.stream_id_for(event_id))
    event = await uow.get(Event, event_id, WHAT_DE)
    event.unchanged_since(seen, registration_id)
    return event


async def _save(uow: UnitOfWork, event: Event, links: outbox.Links, previous: Details | None = None) -> None:
    """Append what the decision recorded and, in the same transaction, the notices it causes (`previous`:
    the description before a change of it, which the notice of a new time or place quotes)."""
    due = notices_for(event, event.pending_events, previous, utc_now())
    await outbox.write(uow, event, due, links)
    await uow.save(event)


async def _resolved_plan(uow: UnitOfWork, plan: EventPlan, current: Event | None = None) -> EventPlan:
    """The plan with its organisations looked up in the directory's copy (merges followed).

    Organisations newly named must exist and be active; those the event already had keep their place
    even if they were archived since (editing a title must not fail over a host's later archiving).
    """
    before: set[str] = set()
    if current is not None and current.details is not None:
        before = {*current.details.speaker_organisation_ids}
        if current.details.host_organisation_id:
            before.add(current.details.host_organisation_id)

    async def ref(organisation: OrganisationRef, field: str) -> OrganisationRef:
        if organisation.id in before:
            found = await replica.find(uow.conn, organisation.id)
            if found is not None:
                return found.ref()
        return await replica.active(uow.conn, organisation.id, field)

    host = await ref(plan.host, "host_organisation_id") if plan.host else None
    speakers = tuple([await ref(s, "speaker_organisation_ids") for s in plan.speakers])
    if plan.network_id and not await replica.network_exists(uow.conn, plan.network_id):
        raise InvalidInput(
            f"The directory has no network {plan.network_id}.",
            "Dieses Netzwerk gibt es im Verzeichnis nicht.",
            field="network_id",
        )
    return replace(plan, host=host, speakers=speakers)


# -- the event ----------------------------------------------------------------------------------------------


async def draft_event(uow_factory: UowFactory, cmd: DraftEvent) -> Event:
    async with uow_factory() as uow:
        plan = await _resolved_plan(uow, cmd.plan)
        event = Event.draft(str(uuid.uuid4()), plan, cmd.capacity)
        await uow.save(event)
    return event


async def change_details(
    uow_factory: UowFactory, cmd: ChangeEventDetails, links: outbox.Links, clock: Clock | None = None
) -> Event:
    """A new time or place of a published event is mailed to everyone registered, in the same step."""

    async def attempt() -> Event:
        async with uow_factory() as uow:
            event = await _load(uow, cmd.event_id, cmd.expected_version)
            previous = event.details
            assert previous is not None
            plan = await _resolved_plan(uow, plan_of(previous, cmd.changes), event)
            event.change_details(plan, (clock or utc_now)())
            await _save(uow, event, links, previous)
        return event

    return await retrying(attempt)


async def change_capacity(
    uow_factory: UowFactory, cmd: ChangeCapacity, links: outbox.Links, clock: Clock | None = None
) -> Event:
    async def attempt() -> Event:
        async with uow_factory() as uow:
            event = await _load(uow, cmd.event_id, cmd.expected_version)
            event.change_capacity(cmd.capacity, (clock or utc_now)())
            await _save(uow, event, links)
        return event

    return await retrying(attempt)


async def event_step(
    uow_factory: UowFactory,
    event_id: str,
    step: Callable[[Event], None],
    links: outbox.Links,
    expected_version: int | None = None,
) -> Event:
    """publish, cancel or complete: load, let `step` decide, save with the notices it causes."""

    async def attempt() -> Event:
        async with uow_factory() as uow:
            event = await _load(uow, event_id, expected_version)
            step(event)
            await _save(uow, event, links)
        return event

    return await retrying(attempt)


# -- registrations ------------------------------------------------------------------------------------------


async def register(
    uow_factory: UowFactory, cmd: Register, links: outbox.Links, clock: Clock | None = None
) -> tuple[Event, Registration]:
    """Register a person; the secret of their link is made here, once, and kept sealed in the log."""
    cmd = replace(cmd, registration_id=str(uuid.uuid4()), cancel_token=secrets.token_urlsafe(32))

    async def attempt() -> tuple[Event, Registration]:
        async with uow_factory() as uow:
            event = await _load(uow, cmd.event_id)
            organisation_id = cmd.organisation_id
            if organisation_id:
                organisation_id = (await replica.active(uow.conn, organisation_id, "organisation_id")).id
            registration = event.register(replace(cmd, organisation_id=organisation_id), (clock or utc_now)())
            await _save(uow, event, links)
        return event, registration

    return await retrying(attempt)


async def register_or_remind(
    uow_factory: UowFactory, cmd: Register, links: outbox.Links, clock: Clock | None = None
) -> tuple[Event, Registration | None]:
    """The public form: like `register`, but a person registered already is not told so on the screen
    (that would tell anyone who types an address whether its owner comes). They get an e-mail with their
    link instead, at most one per `REMINDER_PAUSE`, and the caller answers as for a new registration.
    None instead of the registration means: nothing was appended."""
    try:
        return await register(uow_factory, cmd, links, clock)
    except AlreadyRegistered as already:
        async with uow_factory() as uow:
            event = await _load(uow, cmd.event_id)
            await _remind(uow, event, already.registration_id, links)
        return event, None


async def _remind(uow: UnitOfWork, event: Event, registration_id: str, links: outbox.Links) -> None:
    """The "already registered" notice, unless one went out lately (a brake on mail bombing) or the
    registration ended in between."""
    kind = NoticeKind.ALREADY_REGISTERED
    registration = event.registrations[registration_id]
    if not registration.active or registration.erased:
        return
    if await outbox.sent_lately(uow.conn, registration_id, kind, utc_now() - outbox.REMINDER_PAUSE):
        return
    due = NoticeDue(kind, registration_id, event.waitlist_position(registration_id))
    await outbox.write(uow, event, [due], links)


async def cancel_registration(
    uow_factory: UowFactory,
    event_id: str,
    registration_id: str,
    by: CancelledBy,
    links: outbox.Links,
    clock: Clock | None = None,
) -> tuple[Event, bool]:
    async def attempt() -> tuple[Event, bool]:
        async with uow_factory() as uow:
            event = await _load(uow, event_id)
            changed = event.cancel_registration(registration_id, by, (clock or utc_now)())
            await _save(uow, event, links)
        return event, changed

    return await retrying(attempt)


async def cancel_by_token(
    uow_factory: UowFactory, token: str, links: outbox.Links, clock: Clock | None = None
) -> tuple[Event, Registration, bool]:
    """The personal link: the token names the registration; anything else is a 404, never a hint."""

    async def attempt() -> tuple[Event, Registration, bool]:
        async with uow_factory() as uow:
            event_id = await queries.event_of_token(uow.conn, token_hash(token))
            if event_id is None:
                raise unknown_link()
            event = await _load(uow, event_id)
            registration = event.registration_by_token(token)
            if registration is None:
                raise unknown_link()
            changed = event.cancel_registration(
                registration.id, CancelledBy.PARTICIPANT, (clock or utc_now)()
            )
            await _save(uow, event, links)
        return event, registration, changed

    return await retrying(attempt)


def unknown_link() -> NotFound:
    return NotFound("This link is not (or no longer) valid.", "Dieser Link ist nicht (mehr) gültig.")


async def erase_registration(
    uow_factory: UowFactory,
    event_id: str,
    registration_id: str,
    links: outbox.Links,
    clock: Clock | None = None,
) -> Event:
    """Erase the person: the event says so, their key goes in the same transaction, and a place they
    held passes to the next in line."""

    async def attempt() -> Event:
        async with uow_factory() as uow:
            event = await _load(uow, event_id)
            event.erase_registration(registration_id, (clock or utc_now)())
            await _save(uow, event, links)
            await uow.vault.erase(uow.conn, registration_id)
        return event

    return await retrying(attempt)


async def correct_registration(
    uow_factory: UowFactory, cmd: CorrectRegistration, links: outbox.Links
) -> tuple[Event, list[str]]:
    """Staff put right a registrant's details; a corrected address gets the confirmation again (it has
    the personal link). A newly chosen organisation must be active in the directory; the one the
    registration had keeps its place even if archived since. Sent with the version the person saw, it is
    refused (never retried) when the event moved on since. A new secret for the personal link is made
    here as in `register`; the aggregate takes it only when the address changes. Returns what changed."""
    cmd = replace(cmd, cancel_token=secrets.token_urlsafe(32))

    async def attempt() -> tuple[Event, list[str]]:
        async with uow_factory() as uow:
            event = await _load(uow, cmd.event_id, cmd.expected_version, cmd.registration_id)
            changes = dict(cmd.changes)
            chosen = changes.get("organisation_id")
            current = event.registration(cmd.registration_id).organisation_id
            if chosen and chosen != current:
                changes["organisation_id"] = (await replica.active(uow.conn, chosen, "organisation_id")).id
            changed = event.correct_registration(replace(cmd, changes=changes))
            await _save(uow, event, links)
        return event, changed

    return await retrying(attempt)


# -- attendance ---------------------------------------------------------------------------------------------


async def check_in(
    uow_factory: UowFactory, event_id: str, registration_id: str, clock: Clock | None = None
) -> tuple[Event, bool]:
    """Someone is at the door. Like a registration it does not depend on what the tapping person saw, so
    a conflict with another check-in of the same event is decided again. The clock is looked up when
    called (`utc_now` of this module), so a test can move the service's time to the event's day."""
    now = (clock or utc_now)()
    return await _attendance_step(uow_factory, event_id, lambda e: e.check_in(registration_id, now))


async def undo_check_in(uow_factory: UowFactory, event_id: str, registration_id: str) -> tuple[Event, bool]:
    return await _attendance_step(uow_factory, event_id, lambda e: e.undo_check_in(registration_id))


async def _attendance_step(
    uow_factory: UowFactory, event_id: str, decide: Callable[[Event], bool]
) -> tuple[Event, bool]:
    async def attempt() -> tuple[Event, bool]:
        async with uow_factory() as uow:
            event = await _load(uow, event_id)
            changed = decide(event)
            await uow.save(event)
        return event, changed

    return await retrying(attempt)


# -- feedback -----------------------------------------------------------------------------------------------


async def give_feedback(
    uow_factory: UowFactory,
    event_id: str,
    registration_id: str,
    rating: int,
    comment: str | None,
    by: FeedbackBy,
    clock: Clock | None = None,
) -> tuple[Event, bool]:
    """A rating and comment after the event; the comment is sealed under the registration's key when
    appended (its event is personal), so erasing the person shreds it."""
    now = (clock or utc_now)()

    async def attempt() -> tuple[Event, bool]:
        async with uow_factory() as uow:
            event = await _load(uow, event_id)
            changed = event.give_feedback(registration_id, rating, comment, by, now)
            await uow.save(event)
        return event, changed

    return await retrying(attempt)
