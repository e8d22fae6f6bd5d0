"""The waitlist under concurrency, on SQLite and PostgreSQL: many people registering and cancelling at once.

Whatever the interleaving, the log must show at every step: never more confirmed than places, every
promotion taken from the head of the waitlist, and nobody left waiting while a place is free. The event
and its registrations are one aggregate appended with its expected version, so a registration that lost
the race for a version is decided again on the new state, never on the old one.

Left to the scheduler, SQLite's single writer (and PostgreSQL's stream lock) mostly keep writers from ever
deciding on the same version, so a test of that alone could not fail without the version check. `Race`
makes the interleaving certain: N commands load one version before any appends; and the same race against
a store without the check shows the overbooking the check prevents.
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
from shared.db import create_tables, is_sqlite, read_transaction
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


async def recorded_history(uow: Callable[[], UnitOfWork], event_id: str) -> tuple[Event, list[RecordedEvent]]:
    """The event as it is now, and its log with the personal fields opened."""
    async with uow() as u:
        final = await u.get(Event, event_id)
        recorded = await EventStore().load(u.conn, final.stream_id)
        opened = await u.vault.open_all(u.conn, [e.data for e in recorded])
    return final, [replace(e, data=d) for e, d in zip(recorded, opened, strict=True)]


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

    final, recorded = await recorded_history(uow, event_id)
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

            async def save(self, aggregate):
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


class Race:
    """Makes the first attempts of `runners` commands decide on one and the same state.

    Each first attempt loads the event in a read transaction of its own and waits until every runner has
    loaded; only then do they open their write transactions (SQLite's write lock, PostgreSQL's stream lock)
    and append with the version they loaded. So the interleaving the expected version guards against
    happens for sure, on both databases, however the scheduler runs: one appends, every other one conflicts
    and is decided again by the handler's retry, which runs as in production.
    """

    def __init__(self, engine: AsyncEngine, event_id: str, runners: int, store: EventStore) -> None:
        self.engine, self.event_id, self.store = engine, event_id, store
        self.all_loaded = asyncio.Barrier(runners)
        self.loaded_versions: list[int] = []
        self.conflicts = 0
        self.attempts: list[int] = []  # per command, in the order `factory` was called

    def factory(self) -> Callable[[], UnitOfWork]:
        """One command's units of work: the first races, the later ones (retries) are ordinary."""
        command = len(self.attempts)
        self.attempts.append(0)
        race = self

        class LoadedBeforeTheLock(UnitOfWork):
            stale: Event | None = None

            async def __aenter__(self) -> UnitOfWork:
                async with read_transaction(race.engine) as conn:
                    self._conn = conn
                    self.stale = await super().find(Event, race.event_id)
                self._conn = None
                assert self.stale is not None
                race.loaded_versions.append(self.stale.version)
                await race.all_loaded.wait()  # everyone holds the same version, nobody a lock yet
                return await super().__aenter__()

            async def find(self, cls, aggregate_id):
                if cls is Event and aggregate_id == race.event_id and self.stale is not None:
                    stale, self.stale = self.stale, None
                    return stale  # what the handler decides on: the state from before the barrier
                return await super().find(cls, aggregate_id)

            async def save(self, aggregate):
                try:
                    return await super().save(aggregate)
                except ConcurrencyError:
                    race.conflicts += 1
                    raise

        def make() -> UnitOfWork:
            self.attempts[command] += 1
            kind = LoadedBeforeTheLock if self.attempts[command] == 1 else UnitOfWork
            return kind(self.engine, self.store, definition.registry, "events", definition.projections)

        return make


class StoreWithoutTheVersionCheck(EventStore):
    """What the waitlist would stand on without optimistic concurrency: every append goes after whatever
    the stream holds now, whatever version the decision was made on."""

    async def append(self, conn, stream_id, expected_version, new_events, metadata=None):
        current = await self.stream_version(conn, stream_id)
        return await super().append(conn, stream_id, current, new_events, metadata)


@pytest.mark.parametrize("queued", [True, False], ids=["stream-lock", "optimistic-only"])
async def test_commands_decided_on_one_version_conflict_and_are_decided_again(
    engine: AsyncEngine, queued: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight registrations and three cancellations (two with a place, one waiting) all load the event at
    the same version before any appends: exactly one append wins, the ten others conflict and are retried
    on the new state. The log still keeps every rule: each freed place is taken once, by the head of the
    line while anyone waits."""
    if not queued:
        monkeypatch.setattr(handlers, "lock_stream", no_lock)
    uow = await service(engine)
    capacity = 4
    event_id = await published_event(uow, capacity)
    before = [(await handlers.register(uow, person(event_id, n), LINKS))[1] for n in range(6)]
    assert [str(r.status) for r in before] == ["confirmed"] * 4 + ["waitlisted"] * 2
    leaving = [before[0].id, before[2].id, before[5].id]  # two places freed, one waiting leaves

    race = Race(engine, event_id, runners=11, store=EventStore())
    work: list[Awaitable[object]] = [
        handlers.register(race.factory(), person(event_id, n), LINKS) for n in range(6, 14)
    ]
    work += [
        handlers.cancel_registration(race.factory(), event_id, r, CancelledBy.PARTICIPANT, LINKS)
        for r in leaving
    ]
    random.Random(7).shuffle(work)
    await asyncio.gather(*work)

    assert len(set(race.loaded_versions)) == 1 and len(race.loaded_versions) == 11  # one state for all
    assert race.attempts.count(1) == 1  # exactly one command got through on the shared state
    if queued or is_sqlite(engine):  # the retries queue (stream lock, SQLite's writer): one retry each
        assert race.conflicts == 10 and sorted(race.attempts) == [1] + [2] * 10
    else:  # PostgreSQL without the lock: the retries race each other too
        assert race.conflicts >= 10

    final, recorded = await recorded_history(uow, event_id)
    replayed = check_history(recorded)
    history = [definition.registry.decode(e) for e in recorded]
    promoted = [e.registration_id for e in history if isinstance(e, RegistrationPromoted)]
    freed = [e for e in history if isinstance(e, RegistrationCancelled) and e.was == "confirmed"]
    newcomers = [e for e in history if isinstance(e, RegistrationConfirmed)][4:]  # only with nobody waiting
    assert len(freed) >= 2 and len(promoted) + len(newcomers) == len(freed)  # each freed place taken once
    assert promoted[0] == before[4].id  # by the first in line before the race
    assert len(final.confirmed) == capacity and replayed.waitlist == final.waitlist
    assert len(final.waitlist) == 14 - len(leaving) - capacity
    async with read_transaction(engine) as conn:
        rows = await registrations_of(conn, event_id)
    assert [r["id"] for r in rows if r["status"] == "waitlisted"] == final.waitlist
    assert {r["id"] for r in rows if r["status"] == "confirmed"} == {r.id for r in final.confirmed}


async def test_without_the_version_check_the_same_race_overbooks(engine: AsyncEngine) -> None:
    """The harness above can fail: with a store that appends without checking the expected version,
    the same race lets all eight registrations take one of three places."""
    store = StoreWithoutTheVersionCheck()
    uow = await service(engine)
    event_id = await published_event(uow, capacity=3)
    race = Race(engine, event_id, runners=8, store=store)
    await asyncio.gather(*(handlers.register(race.factory(), person(event_id, n), LINKS) for n in range(8)))
    assert race.conflicts == 0 and race.attempts == [1] * 8

    final, recorded = await recorded_history(uow, event_id)
    assert len(final.confirmed) == 8 > final.capacity
    with pytest.raises(AssertionError, match="more confirmed than places"):
        check_history(recorded)
