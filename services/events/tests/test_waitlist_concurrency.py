"""The waitlist under concurrency, on SQLite and PostgreSQL: many people registering and cancelling at once.

Whatever the interleaving, the log must show at every step: never more confirmed than places, every
promotion taken from the head of the waitlist, and nobody left waiting while a place is free. The event
and its registrations are one aggregate appended with its expected version, so a registration that lost
the race for a version is decided again on the new state, never on the old one.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.events import handlers, notices, replica
from services.events.app import definition
from services.events.domain.commands import DraftEvent, EventPlan, Register
from services.events.domain.model import Event
from services.events.notices import Links
from services.events.queries import registrations_of
from shared.contracts.directory import District
from shared.contracts.events import (
    CancelledBy,
    EventFormat,
    FundingLine,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationStatus,
    RegistrationWaitlisted,
    Topic,
)
from shared.db import create_tables, read_transaction
from shared.errors import ConcurrencyError
from shared.store.eventstore import EventStore, RecordedEvent
from shared.store.schema import store_metadata
from shared.store.uow import UnitOfWork

LINKS = Links("http://events.test")
START = datetime.now(UTC) + timedelta(days=20)
PLAN = EventPlan(
    title="Projektmanagement für Vereine",
    format=EventFormat.WORKSHOP,
    topics=(Topic.PROJECT_MANAGEMENT,),
    funding_line=FundingLine.IQ,
    starts_at=START,
    ends_at=START + timedelta(hours=4),
    registration_deadline=START - timedelta(days=1),
    venue="Nachbarschaftshaus Urbanstraße",
    district=District.FRIEDRICHSHAIN_KREUZBERG,
)


async def service(engine: AsyncEngine) -> Callable[[], UnitOfWork]:
    await create_tables(
        engine,
        store_metadata,
        *(p.metadata for p in definition.projections),
        replica.metadata,
        notices.metadata,
    )
    store = EventStore()
    return lambda: UnitOfWork(engine, store, definition.registry, "events", definition.projections)


async def published_event(uow: Callable[[], UnitOfWork], capacity: int) -> str:
    event = await handlers.draft_event(uow, DraftEvent(PLAN, capacity))
    await handlers.event_step(uow, event.id, Event.publish, LINKS)
    return event.id


def person(event_id: str, n: int) -> Register:
    return Register(event_id=event_id, name=f"Person {n}", email=f"p{n}@verein.example")


def check_history(recorded: list[RecordedEvent]) -> Event:
    """Replay the log one event at a time and check the waitlist's rules after each event, and after each
    command (the events of one append share their correlation id)."""
    event = Event("check")
    for step, stored in enumerate(recorded):
        change = definition.registry.decode(stored)
        if isinstance(change, RegistrationPromoted):
            assert event.waitlist and event.waitlist[0] == change.registration_id, (
                f"step {step}: {change.registration_id} promoted, but the head of the waitlist was "
                f"{event.waitlist[:1]}"
            )
        if isinstance(change, RegistrationConfirmed):
            assert not event.waitlist, f"step {step}: a newcomer got a place while others were waiting"
        event.apply(change)
        event.version += 1
        assert len(event.confirmed) <= event.capacity, f"step {step}: more confirmed than places"
        last_of_command = (
            step + 1 == len(recorded)
            or recorded[step + 1].metadata.correlation_id != stored.metadata.correlation_id
        )
        if last_of_command:
            assert not (event.waitlist and event.free_places), (
                f"step {step}: someone waits beside a free place"
            )
    return event


async def no_lock(uow: UnitOfWork, stream_id: str) -> None:
    """Stands in for the stream lock: every writer then races, and only the expected version decides."""


@pytest.mark.parametrize("queued", [True, False], ids=["stream-lock", "optimistic-only"])
async def test_concurrent_registrations_and_cancellations_keep_the_waitlist_rules(
    engine: AsyncEngine, queued: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not queued:
        monkeypatch.setattr(handlers, "lock_stream", no_lock)
    uow = await service(engine)
    capacity = 5
    event_id = await published_event(uow, capacity)
    first_wave = await asyncio.gather(
        *(handlers.register(uow, person(event_id, n), LINKS) for n in range(20))
    )
    registered = [registration.id for _, registration in first_wave]

    rng = random.Random(5)
    leaving = rng.sample(registered, 8)  # some with a place, some waiting
    work: list[Awaitable[object]] = [
        handlers.register(uow, person(event_id, n), LINKS) for n in range(20, 40)
    ]
    work += [handlers.cancel_registration(uow, event_id, r, CancelledBy.PARTICIPANT, LINKS) for r in leaving]
    rng.shuffle(work)
    await asyncio.gather(*work)

    async with uow() as u:
        final = await u.get(Event, event_id)
        recorded = await EventStore().load(u.conn, final.stream_id)
        opened = await u.vault.open_all(u.conn, [e.data for e in recorded])
    recorded = [replace(e, data=d) for e, d in zip(recorded, opened, strict=True)]
    replayed = check_history(recorded)
    history = [definition.registry.decode(e) for e in recorded]
    active = [r for r in final.registrations.values() if r.active]
    assert len(active) == 40 - len(leaving)
    assert len(final.confirmed) == capacity  # more people than places: every place is taken
    assert len(final.waitlist) == len(active) - capacity
    assert replayed.waitlist == final.waitlist
    promotions = [e for e in history if isinstance(e, RegistrationPromoted)]
    cancelled_with_place = [
        e for e in history if isinstance(e, RegistrationCancelled) and e.was == "confirmed"
    ]
    assert len(promotions) == len(cancelled_with_place)  # each freed place went to the next in line

    async with read_transaction(engine) as conn:  # the read model agrees with the aggregate
        rows = await registrations_of(conn, event_id)
    assert [r["id"] for r in rows if r["status"] == "waitlisted"] == final.waitlist
    assert {r["id"] for r in rows if r["status"] == "confirmed"} == {r.id for r in final.confirmed}
    waitlisted_events = [e.registration_id for e in history if isinstance(e, RegistrationWaitlisted)]
    assert [r for r in waitlisted_events if r in final.waitlist] == final.waitlist  # order of arrival


@pytest.mark.postgres
async def test_two_people_for_the_last_place_one_is_decided_again_onto_the_waitlist(
    postgres_url: tuple[str, dict[str, object]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic: both load the event with one free place, both decide "confirmed", both append. The
    second append conflicts; its retry sees the place taken and puts the person on the waitlist.
    (PostgreSQL only: SQLite's write lock makes the second wait before it even loads.)"""
    from shared.db import make_engine

    monkeypatch.setattr(handlers, "lock_stream", no_lock)  # the lock would make the second wait
    url, connect_args = postgres_url
    engine = make_engine(url, connect_args=connect_args)
    try:
        uow = await service(engine)
        event_id = await published_event(uow, capacity=1)
        both_decided = asyncio.Barrier(2)
        conflicts: list[ConcurrencyError] = []

        class RacingUnitOfWork(UnitOfWork):
            first_round = True

            async def save(self, aggregate):  # type: ignore[no-untyped-def]
                if RacingUnitOfWork.first_round:
                    await both_decided.wait()  # both decided on the same version before either appends
                try:
                    return await super().save(aggregate)
                except ConcurrencyError as conflict:
                    RacingUnitOfWork.first_round = False
                    conflicts.append(conflict)
                    raise

        store = EventStore()

        def racing() -> UnitOfWork:
            return RacingUnitOfWork(engine, store, definition.registry, "events", definition.projections)

        results = await asyncio.gather(
            handlers.register(racing, person(event_id, 1), LINKS),
            handlers.register(racing, person(event_id, 2), LINKS),
        )
        assert len(conflicts) == 1
        statuses = sorted(str(registration.status) for _, registration in results)
        assert statuses == [RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED]
        async with uow() as u:
            final = await u.get(Event, event_id)
        assert len(final.confirmed) == 1 and len(final.waitlist) == 1
    finally:
        await engine.dispose()
