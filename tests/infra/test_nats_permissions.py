"""The NATS users of `infra/nats/` against a real nats-server from the wheel: what each may and may not do.

Credentials are made by `natsconf.py credentials` (bcrypt hashes in the server's environment, plain
passwords for the clients), exactly as an operator would. A denied publish is dropped by the server, which
reports `permissions violation` to the client's error callback; a JetStream request therefore gets no
answer at all (a timeout, not "no responders"). The tests assert on that report and on the server's state.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import shlex
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from nats.js.api import ConsumerConfig, StreamConfig
from nats.js.errors import NotFoundError
from sqlalchemy import Column, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.bus.cloudevents import ReceivedEvent
from shared.bus.connection import DLQ_STREAM, Bus, ensure_dlq_stream, ensure_stream, inbox_prefix_for
from shared.bus.consumer import Consumer, ConsumerSpec
from shared.bus.relay import OutboxRelay
from shared.db import create_tables, make_engine, read_transaction
from shared.domain import Aggregate, DomainEvent, EventRegistry
from shared.platform.natsserver import NatsServer
from shared.store import EventStore
from shared.store.schema import store_metadata
from shared.store.uow import UnitOfWork
from shared.testing import eventually

pytestmark = pytest.mark.nats

ROOT = Path(__file__).resolve().parents[2]
INTEGRATOR = "integrator-iq-monitoring"
DENIED_TIMEOUT = 1.0  # a denied JetStream request is never answered: how long to wait for that non-answer


def _load_natsconf() -> ModuleType:
    spec = importlib.util.spec_from_file_location("natsconf", ROOT / "infra" / "nats" / "natsconf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


natsconf = _load_natsconf()


def _read_env_file(path: Path) -> dict[str, str]:
    """`KEY='value'` lines, read with shell quoting rules (as `set -a; . file` or docker compose would)."""
    values = {}
    for line in path.read_text().splitlines():
        [assignment] = shlex.split(line)
        key, value = assignment.split("=", 1)
        values[key] = value
    return values


@pytest.fixture
def passwords(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Fresh credentials: the server's hashes go into the environment, the clients' passwords are returned."""
    directory = tmp_path / "credentials"
    natsconf.write_credentials(directory, natsconf.make_credentials(rounds=4))
    for key, value in _read_env_file(directory / "nats-server.env").items():
        monkeypatch.setenv(key, value)
    out = {}
    for user in natsconf.users():
        env = _read_env_file(directory / f"{user.name}.env")
        assert env["IKMO_NATS_USER"] == user.name
        out[user.name] = env["IKMO_NATS_PASSWORD"]
    return out


@pytest.fixture
def server(tmp_path: Path, passwords: dict[str, str]) -> Iterator[NatsServer]:
    nats_server = NatsServer(
        tmp_path / "nats", config_file=natsconf.CONFIG_FILE, log_file=tmp_path / "nats.log"
    ).start()
    try:
        yield nats_server
    finally:
        nats_server.stop()


class Session:
    """One user's connection with the errors the server reported to it."""

    def __init__(self, nc: Client, errors: list[Exception]) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.quick = nc.jetstream(timeout=DENIED_TIMEOUT)  # for requests that are meant to be denied
        self.errors = errors

    def violations(self) -> list[str]:
        return [str(e) for e in self.errors if "permissions violation" in str(e).lower()]

    async def reported(self, what: str, subject: str) -> None:
        """Wait until the server has reported a violation for `what` (publish, subscription) to `subject`."""
        expected = f'permissions violation for {what} to "{subject}"'
        await eventually(lambda: any(expected.lower() in v.lower() for v in self.violations()))

    async def denied_request(self, subject: str, request: Callable[[], Awaitable[Any]]) -> None:
        """A JetStream API call whose request subject is not allowed: no answer, and a reported violation."""
        with pytest.raises(TimeoutError):
            await request()
        await self.reported("publish", subject)


@pytest.fixture
async def connect(
    server: NatsServer, passwords: dict[str, str]
) -> AsyncIterator[Callable[[str], Awaitable[Session]]]:
    sessions: list[Session] = []

    async def _connect(user: str) -> Session:
        errors: list[Exception] = []

        async def on_error(exc: Exception) -> None:
            errors.append(exc)

        nc = await nats.connect(
            server.url,
            user=user,
            password=passwords[user],
            inbox_prefix=inbox_prefix_for(user),
            error_cb=on_error,
            allow_reconnect=False,
        )
        session = Session(nc, errors)
        sessions.append(session)
        return session

    yield _connect
    for session in sessions:
        await session.nc.close()


@pytest.fixture
async def admin(connect: Callable[[str], Awaitable[Session]]) -> Session:
    return await connect("admin")


async def publish_event(js: Any, subject: str, event_id: str | None = None) -> None:
    event_id = event_id or str(uuid.uuid4())
    headers = {
        "Nats-Msg-Id": event_id,
        "ce-specversion": "1.0",
        "ce-id": event_id,
        "ce-source": "/ikmo/directory",
        "ce-type": subject,
        "ce-subject": "o-1",
        "ce-time": "2025-01-01T00:00:00+00:00",
    }
    await js.publish(subject, b'{"organisation_id":"o-1"}', headers=headers)


async def message_count(admin: Session, stream: str) -> int:
    return (await admin.js.stream_info(stream)).state.messages


async def consumer_names(admin: Session, stream: str) -> list[str]:
    return [c.name for c in await admin.js.consumers_info(stream)]


def test_the_configuration_is_what_the_rules_render() -> None:
    assert natsconf.main(["check"]) == 0


async def test_the_directory_declares_its_streams_and_publishes_its_events(connect) -> None:
    directory = await connect("directory")
    await ensure_stream(directory.js, "directory")
    await ensure_dlq_stream(directory.js)
    await ensure_stream(directory.js, "directory")  # idempotent on restart
    ack = await directory.js.publish("ikmo.directory.organisation.registered", b"{}")
    assert (ack.stream, ack.seq) == ("IKMO_DIRECTORY", 1)
    assert directory.violations() == []


async def test_the_directory_cannot_publish_or_declare_for_another_service(connect, admin) -> None:
    await ensure_stream(admin.js, "grants")
    directory = await connect("directory")
    await ensure_stream(directory.js, "directory")

    with pytest.raises(nats.errors.TimeoutError):
        await directory.js.publish("ikmo.grants.x.y", b"{}", timeout=DENIED_TIMEOUT)
    await directory.reported("publish", "ikmo.grants.x.y")
    assert await message_count(admin, "IKMO_GRANTS") == 0

    # Nor write into the dead-letter stream under a consumer it does not have.
    await directory.nc.publish("ikmo.dlq.reporting-directory", b"forged")
    await directory.reported("publish", "ikmo.dlq.reporting-directory")

    await directory.denied_request(
        "$JS.API.STREAM.CREATE.IKMO_EVENTS",
        lambda: directory.quick.add_stream(StreamConfig(name="IKMO_EVENTS", subjects=["ikmo.events.>"])),
    )
    await directory.denied_request(
        "$JS.API.STREAM.DELETE.IKMO_DIRECTORY",
        lambda: directory.quick.delete_stream("IKMO_DIRECTORY"),
    )
    assert (await admin.js.stream_info("IKMO_DIRECTORY")).config.name == "IKMO_DIRECTORY"
    with pytest.raises(NotFoundError):
        await admin.js.stream_info("IKMO_EVENTS")


async def test_reporting_reads_the_directory_through_its_durable_but_cannot_publish_there(
    connect, admin
) -> None:
    await ensure_stream(admin.js, "directory")
    await ensure_dlq_stream(admin.js)
    await publish_event(admin.js, "ikmo.directory.organisation.registered")
    reporting = await connect("reporting")

    await reporting.js.add_consumer(
        "IKMO_DIRECTORY",
        ConsumerConfig(durable_name="reporting-directory", filter_subjects=["ikmo.directory.>"]),
    )
    sub = await reporting.js.pull_subscribe_bind(durable="reporting-directory", stream="IKMO_DIRECTORY")
    [msg] = await sub.fetch(1, timeout=10)
    assert msg.subject == "ikmo.directory.organisation.registered"
    await msg.ack_sync(timeout=10)  # the server confirms the ack: `$JS.ACK` of its own durable is allowed
    assert (await admin.js.consumer_info("IKMO_DIRECTORY", "reporting-directory")).ack_floor.stream_seq == 1

    with pytest.raises(nats.errors.TimeoutError):
        await reporting.js.publish("ikmo.directory.organisation.registered", b"{}", timeout=DENIED_TIMEOUT)
    await reporting.reported("publish", "ikmo.directory.organisation.registered")
    assert await message_count(admin, "IKMO_DIRECTORY") == 1

    # Only its own durable names, and never on the dead-letter stream.
    await reporting.denied_request(
        "$JS.API.CONSUMER.DURABLE.CREATE.IKMO_DIRECTORY.someone-else",
        lambda: reporting.js.add_consumer(
            "IKMO_DIRECTORY", ConsumerConfig(durable_name="someone-else"), timeout=DENIED_TIMEOUT
        ),
    )
    await reporting.denied_request(
        "$JS.API.CONSUMER.DURABLE.CREATE.IKMO_DLQ.reporting-directory",
        lambda: reporting.js.add_consumer(
            DLQ_STREAM, ConsumerConfig(durable_name="reporting-directory"), timeout=DENIED_TIMEOUT
        ),
    )
    assert await consumer_names(admin, "IKMO_DIRECTORY") == ["reporting-directory"]
    assert await consumer_names(admin, DLQ_STREAM) == []


async def test_an_integrator_reads_public_streams_only_and_publishes_nothing(connect, admin) -> None:
    await ensure_stream(admin.js, "directory")
    await ensure_dlq_stream(admin.js)
    await publish_event(admin.js, "ikmo.directory.organisation.registered")
    await admin.js.publish("ikmo.dlq.reporting-directory", b"a dead letter")
    integrator = await connect(INTEGRATOR)

    # What a CloudEvents integrator does: its own durable, filtered by one subject, pulled and acked.
    await integrator.js.add_consumer(
        "IKMO_DIRECTORY",
        ConsumerConfig(name=INTEGRATOR, durable_name=INTEGRATOR, filter_subject="ikmo.directory.>"),
    )
    sub = await integrator.js.pull_subscribe_bind(durable=INTEGRATOR, stream="IKMO_DIRECTORY")
    [msg] = await sub.fetch(1, timeout=10)
    assert msg.headers is not None and msg.headers["ce-type"] == "ikmo.directory.organisation.registered"
    await msg.ack_sync(timeout=10)

    # The dead-letter stream is closed to it, under its own consumer name too, and so is reading by sequence.
    await integrator.denied_request(
        f"$JS.API.CONSUMER.CREATE.IKMO_DLQ.{INTEGRATOR}",
        lambda: integrator.js.add_consumer(
            DLQ_STREAM, ConsumerConfig(name=INTEGRATOR, durable_name=INTEGRATOR), timeout=DENIED_TIMEOUT
        ),
    )
    await integrator.denied_request(
        "$JS.API.STREAM.MSG.GET.IKMO_DLQ", lambda: integrator.quick.get_msg(DLQ_STREAM, 1)
    )
    assert await consumer_names(admin, DLQ_STREAM) == []

    with pytest.raises(nats.errors.TimeoutError):
        await integrator.js.publish("ikmo.directory.organisation.registered", b"{}", timeout=DENIED_TIMEOUT)
    await integrator.reported("publish", "ikmo.directory.organisation.registered")
    assert await message_count(admin, "IKMO_DIRECTORY") == 1

    await integrator.denied_request(
        "$JS.API.STREAM.CREATE.IKMO_IQ",
        lambda: integrator.quick.add_stream(StreamConfig(name="IKMO_IQ", subjects=["iq.>"])),
    )
    await integrator.denied_request(
        "$JS.API.STREAM.DELETE.IKMO_DIRECTORY",
        lambda: integrator.quick.delete_stream("IKMO_DIRECTORY"),
    )
    assert {s.config.name for s in await admin.js.streams_info()} == {"IKMO_DIRECTORY", DLQ_STREAM}


async def test_every_service_reads_exactly_the_streams_the_architecture_gives_it(connect, admin) -> None:
    for service in natsconf.SERVICES:
        await ensure_stream(admin.js, service)
    sessions = {service: await connect(service) for service in natsconf.SERVICES}

    async def durable(service: str, source: str) -> bool:
        """Whether `<service>-<source>` can be created on the source's stream."""
        session, name, stream = sessions[service], f"{service}-{source}", natsconf.stream(source)
        try:
            await session.quick.add_consumer(stream, ConsumerConfig(durable_name=name))
        except TimeoutError:
            await session.reported("publish", f"$JS.API.CONSUMER.DURABLE.CREATE.{stream}.{name}")
            return False
        return True

    pairs = [(s, t) for s in natsconf.SERVICES for t in natsconf.SERVICES if s != t]
    allowed = await asyncio.gather(*(durable(s, t) for s, t in pairs))
    granted = {pair for pair, ok in zip(pairs, allowed, strict=True) if ok}
    assert granted == {
        ("events", "directory"),
        ("grants", "directory"),
        ("grants", "events"),
        ("volunteering", "directory"),
        ("reporting", "directory"),
        ("reporting", "events"),
        ("reporting", "grants"),
        ("reporting", "volunteering"),
    }
    # And each publishes its own events with a JetStream ack.
    for service, session in sessions.items():
        ack = await session.js.publish(f"ikmo.{service}.thing.happened", b"{}")
        assert ack.stream == natsconf.stream(service)


@pytest.mark.parametrize(
    ("user", "subject"),
    [
        (INTEGRATOR, "ikmo.>"),  # no core subscription past JetStream
        (INTEGRATOR, "_INBOX.>"),  # nor to the replies other clients are sent (their pulled messages)
        ("reporting", "_INBOX.directory.>"),
        ("directory", "ikmo.dlq.>"),
    ],
)
async def test_nobody_subscribes_outside_their_own_inbox(connect, user: str, subject: str) -> None:
    session = await connect(user)
    await session.nc.subscribe(subject)
    await session.reported("subscription", subject)


@pytest.mark.parametrize("password", ["wrong", None])
async def test_a_wrong_or_missing_password_is_refused(server: NatsServer, password: str | None) -> None:
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    credentials = {"user": "directory", "password": password} if password else {}
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(
            server.url, allow_reconnect=False, max_reconnect_attempts=0, error_cb=on_error, **credentials
        )


async def test_plain_passwords_in_the_environment_work_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`natsconf.py credentials --plain`: no bcrypt needed, e.g. for a throwaway local server."""
    natsconf.write_credentials(tmp_path / "plain", natsconf.make_credentials(hashed=False))
    for key, value in _read_env_file(tmp_path / "plain" / "nats-server.env").items():
        assert not value.startswith('"$2')
        monkeypatch.setenv(key, value)
    password = _read_env_file(tmp_path / "plain" / "directory.env")["IKMO_NATS_PASSWORD"]
    server = NatsServer(tmp_path / "nats", config_file=natsconf.CONFIG_FILE).start()
    try:
        nc = await nats.connect(server.url, user="directory", password=password, allow_reconnect=False)
        await nc.close()
    finally:
        server.stop()


# --- the real kernel under the service users -------------------------------------------------------------


class OrganisationRegistered(DomainEvent):
    event_type = "ikmo.directory.organisation.registered"
    organisation_id: str
    name: str
    poison: bool = False


class Organisation(Aggregate):
    stream_prefix = "organisation"

    def apply(self, event: DomainEvent) -> None:
        pass

    def register(self, name: str, poison: bool = False) -> None:
        self._record(OrganisationRegistered(organisation_id=self.id, name=name, poison=poison))


directory_events = EventRegistry(OrganisationRegistered)

seen_md = MetaData()
seen = Table("seen_organisations", seen_md, Column("organisation_id", String(64), primary_key=True))


async def project(conn: AsyncConnection, event: ReceivedEvent) -> None:
    if event.data["poison"]:
        raise ValueError("reporting cannot handle this organisation")
    await conn.execute(insert(seen).values(organisation_id=event.data["organisation_id"]))


async def _ready(bus: Bus) -> None:
    await asyncio.wait_for(bus.ready.wait(), 30)


async def test_the_kernel_works_under_the_service_users(
    tmp_path: Path, server: NatsServer, passwords: dict[str, str], admin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="shared.bus")
    # IKMO_DIRECTORY exists with older settings: the directory's start-up brings it up to date (UPDATE).
    await admin.js.add_stream(
        StreamConfig(name="IKMO_DIRECTORY", subjects=["ikmo.directory.>"], duplicate_window=10)
    )

    directory_db: AsyncEngine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'directory.sqlite3'}")
    reporting_db: AsyncEngine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'reporting.sqlite3'}")
    await create_tables(directory_db, store_metadata)
    await create_tables(reporting_db, store_metadata, seen_md)

    # The directory with its user in the URL, reporting with user/password arguments: both ways work.
    url = server.url.replace("nats://", f"nats://directory:{passwords['directory']}@")
    directory_bus = Bus(url, "ikmo-directory", ("directory",))
    reporting_bus = Bus(
        server.url, "ikmo-reporting", ("reporting",), user="reporting", password=passwords["reporting"]
    )
    assert (directory_bus.inbox_prefix, reporting_bus.inbox_prefix) == (
        "_INBOX.directory",
        "_INBOX.reporting",
    )
    relay = OutboxRelay(directory_db, directory_bus, idle_poll=0.05)
    spec = ConsumerSpec(
        "reporting-directory", "IKMO_DIRECTORY", ["ikmo.directory.>"], project, max_deliver=2, backoff=(0.1,)
    )
    consumer = Consumer(spec, reporting_db, reporting_bus)
    store = EventStore()
    try:
        directory_bus.start()
        reporting_bus.start()
        await _ready(directory_bus)
        await _ready(reporting_bus)
        relay.start()
        consumer.start()

        ids = [f"o-{i}" for i in range(3)]
        for i, organisation_id in enumerate(ids):
            async with UnitOfWork(
                directory_db, store, directory_events, "directory", on_commit=relay.wake
            ) as uow:
                organisation = Organisation(organisation_id)
                organisation.register(f"MO {i}", poison=(i == 1))
                await uow.save(organisation)

        # The relay published everything (JetStream acknowledged each message)...
        await eventually(lambda: _is(relay.backlog(), 0))
        assert relay.stats.failed == 0
        assert await message_count(admin, "IKMO_DIRECTORY") == 3
        # ...reporting handled two, retried the poison once (nak) and then dead-lettered it...
        await eventually(lambda: consumer.stats.processed == 2 and consumer.stats.dead_lettered == 1)
        assert consumer.stats.retried == 1
        # ...and the server took every ack: nothing pending, nothing waiting for redelivery.
        await eventually(lambda: _consumer_settled(admin))
        async with read_transaction(reporting_db) as conn:
            assert set((await conn.execute(select(seen.c.organisation_id))).scalars()) == {"o-0", "o-2"}

        dead = await admin.js.get_last_msg(DLQ_STREAM, "ikmo.dlq.reporting-directory")
        assert dead.headers is not None and dead.headers["ikmo-dlq-consumer"] == "reporting-directory"
        assert (await admin.js.stream_info("IKMO_DIRECTORY")).config.duplicate_window == 120.0
    finally:
        await consumer.stop()
        await relay.stop()
        await reporting_bus.close()
        await directory_bus.close()
        await directory_db.dispose()
        await reporting_db.dispose()

    # Retries and the dead letter are logged on purpose; a refusal by the server would show up as below.
    refused = ("violation", "not reachable", "resubscribing", "outbox relay:", "dead-lettering failed")
    assert [r.getMessage() for r in caplog.records if any(w in r.getMessage().lower() for w in refused)] == []


async def _is(value: Awaitable[int], expected: int) -> bool:
    return await value == expected


async def _consumer_settled(admin: Session) -> bool:
    info = await admin.js.consumer_info("IKMO_DIRECTORY", "reporting-directory")
    return info.num_ack_pending == 0 and info.num_pending == 0
