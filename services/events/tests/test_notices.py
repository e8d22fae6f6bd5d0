"""Notices leave through the outbox: to a real SMTP conversation when a server is configured, kept for the
page when none is, retried when the server refuses, and unreadable once the person is erased."""

from __future__ import annotations

import asyncio
import email
import email.policy
import smtplib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.events import handlers, notices
from services.events.domain.commands import Register
from services.events.domain.model import Event
from services.events.mail import MailSettings, NoticeDispatcher, failure
from services.events.notices import NoticeStatus
from services.events.tests.test_waitlist_concurrency import LINKS, published_event, service
from shared.contracts.events import (
    CancellationReason,
    CancelledBy,
    RegistrationAttendanceWithdrawn,
    RegistrationAttended,
    RegistrationErased,
    RegistrationStatus,
)
from shared.db import read_transaction, write_transaction
from shared.personal import ERASED
from shared.vault import Vault


def address(line: bytes) -> str:
    return line.decode().split("<", 1)[1].split(">", 1)[0]


@dataclass
class FakeSmtp:
    """A tiny SMTP server speaking just enough of RFC 5321 for smtplib: it keeps what it was given."""

    refuse_recipients: bool = False
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        sender, recipients = "", []
        await say("220 fake.smtp ready")
        while line := await reader.readline():
            verb = line.decode().strip().split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                await say("250 fake.smtp")
            elif verb == "MAIL":
                sender = address(line)
                await say("250 OK")
            elif verb == "RCPT":
                if self.refuse_recipients:
                    await say("550 mailbox unavailable")
                else:
                    recipients.append(address(line))
                    await say("250 OK")
            elif verb == "DATA":
                await say("354 go ahead")
                data = b""
                while not data.endswith(b"\r\n.\r\n"):
                    data += await reader.readline()
                self.messages.append((sender, recipients, data[: -len(b".\r\n")]))
                await say("250 queued")
            elif verb == "RSET":
                await say("250 OK")
            elif verb == "QUIT":
                await say("221 bye")
                break
            else:
                await say("502 not implemented")
        writer.close()


@pytest.fixture
async def smtp() -> AsyncIterator[FakeSmtp]:
    fake = FakeSmtp()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    try:
        yield fake
    finally:
        server.close()
        await server.wait_closed()


async def registered(engine: AsyncEngine, capacity: int = 1, people: int = 2) -> str:
    uow = await service(engine)
    event_id = await published_event(uow, capacity)
    for n in range(people):
        cmd = Register(event_id=event_id, name=f"Aylin Demir {n}", email=f"aylin{n}@verein.example")
        await handlers.register(uow, cmd, LINKS)
    return event_id


async def rows(engine: AsyncEngine) -> list:
    async with read_transaction(engine) as conn:
        found = (await conn.execute(select(notices.notices).order_by(notices.notices.c.created_at))).all()
        return await notices.opened(conn, list(found))


async def test_with_a_mail_server_each_notice_is_sent_once(engine: AsyncEngine, smtp: FakeSmtp) -> None:
    await registered(engine)
    settings = MailSettings(host="127.0.0.1", port=smtp.port, starttls=False, sender="VIA <via@example.org>")
    dispatcher = NoticeDispatcher(engine, settings)
    assert await dispatcher.dispatch() == 2
    assert await dispatcher.dispatch() == 0  # nothing is sent twice
    assert [n["status"] for n in await rows(engine)] == ["sent", "sent"]
    assert len(smtp.messages) == 2
    sender, recipients, data = smtp.messages[1]
    assert sender == "via@example.org" and recipients == ["aylin1@verein.example"]
    mail = email.message_from_bytes(data, policy=email.policy.default)
    assert mail["To"] == "Aylin Demir 1 <aylin1@verein.example>"  # a plain name needs no quotes
    assert mail["Subject"] == "Warteliste / Waitlist: Projektmanagement für Vereine"
    body = mail.get_content()
    assert "Sie stehen auf Platz 1 der Warteliste" in body and "you are number 1 on the waitlist" in body
    assert "http://events.test/oeffentlich/anmeldung/" in body


async def test_without_a_mail_server_notices_are_kept_for_the_page(engine: AsyncEngine) -> None:
    await registered(engine)
    assert await NoticeDispatcher(engine, MailSettings(host=None)).dispatch() == 2
    kept = await rows(engine)
    assert [(n["kind"], n["status"]) for n in kept] == [("confirmation", "stored"), ("waitlist", "stored")]
    assert kept[0]["recipient"] == "Aylin Demir 0 <aylin0@verein.example>"
    assert "Ihr Platz ist bestätigt" in kept[0]["body"]


async def test_a_refusing_server_means_retries_later_then_failed(engine: AsyncEngine, smtp: FakeSmtp) -> None:
    await registered(engine, people=1)
    smtp.refuse_recipients = True
    dispatcher = NoticeDispatcher(engine, MailSettings(host="127.0.0.1", port=smtp.port, starttls=False))
    assert await dispatcher.dispatch() == 0
    [notice] = await rows(engine)
    assert notice["status"] == "pending" and notice["attempts"] == 1 and "550" in notice["last_error"]
    assert notice["next_attempt_at"].replace(tzinfo=UTC) > datetime.now(UTC)  # SQLite forgets the zone
    assert await dispatcher.dispatch() == 0  # not before its next attempt
    for _ in range(4):  # pretend the waiting time has passed, four more times
        async with write_transaction(engine) as conn:
            await conn.execute(
                update(notices.notices).values(next_attempt_at=datetime.now(UTC) - timedelta(1))
            )
        await dispatcher.dispatch()
    [notice] = await rows(engine)
    assert notice["status"] == NoticeStatus.FAILED and notice["attempts"] == 5 and smtp.messages == []


async def test_an_erased_person_is_neither_shown_nor_mailed(engine: AsyncEngine, smtp: FakeSmtp) -> None:
    event_id = await registered(engine, people=1)
    [before] = await rows(engine)
    async with write_transaction(engine) as conn:
        assert await Vault().erase(conn, before["registration_id"])
    [after] = await rows(engine)
    assert after["recipient"] == ERASED and after["body"] == ERASED and after["erased"]
    settings = MailSettings(host="127.0.0.1", port=smtp.port, starttls=False)
    assert await NoticeDispatcher(engine, settings).dispatch() == 1
    assert (await rows(engine))[0]["status"] == "dropped" and smtp.messages == []
    assert event_id


async def test_a_name_with_commas_and_addresses_stays_a_name(engine: AsyncEngine, smtp: FakeSmtp) -> None:
    uow = await service(engine)
    event_id = await published_event(uow, 1)
    name = "a@evil.example, b@evil.example, Demir, Aylin"
    await handlers.register(uow, Register(event_id=event_id, name=name, email="aylin@verein.example"), LINKS)
    settings = MailSettings(host="127.0.0.1", port=smtp.port, starttls=False, sender="VIA <via@example.org>")
    assert await NoticeDispatcher(engine, settings).dispatch() == 1
    [(_sender, recipients, data)] = smtp.messages
    assert recipients == ["aylin@verein.example"]  # exactly one RCPT: the registrant
    to = email.message_from_bytes(data, policy=email.policy.default)["To"]
    [one] = to.addresses
    assert (one.display_name, one.addr_spec) == (name, "aylin@verein.example")


async def test_an_old_unquoted_recipient_is_mailed_to_its_own_address_only(
    engine: AsyncEngine, smtp: FakeSmtp
) -> None:
    await registered(engine, people=1)
    [notice] = await rows(engine)
    async with write_transaction(engine) as conn:  # as notices were written before names were quoted
        sealed = await Vault().seal(
            conn, notice["registration_id"], "a@evil.example, b@evil.example, Max <aylin0@verein.example>"
        )
        await conn.execute(update(notices.notices).values(recipient=notices._json(sealed)))
    settings = MailSettings(host="127.0.0.1", port=smtp.port, starttls=False)
    assert await NoticeDispatcher(engine, settings).dispatch() == 1
    assert [recipients for _s, recipients, _d in smtp.messages] == [["aylin0@verein.example"]]


def test_the_page_reads_a_recipient_as_name_and_address_as_the_mailer_does() -> None:
    assert notices.name_and_address('"Demir, Aylin" <aylin@verein.example>') == (
        "Demir, Aylin",
        "aylin@verein.example",
    )
    old = "a@evil.example, b@evil.example, Max <aylin0@verein.example>"  # written before names were quoted
    assert notices.name_and_address(old) == ("Max", "aylin0@verein.example")
    assert notices.name_and_address(ERASED) == (ERASED, "")


async def test_a_refused_recipient_leaves_no_address_in_the_table_or_the_log(
    engine: AsyncEngine, smtp: FakeSmtp, caplog: pytest.LogCaptureFixture
) -> None:
    await registered(engine, people=1)
    smtp.refuse_recipients = True
    dispatcher = NoticeDispatcher(engine, MailSettings(host="127.0.0.1", port=smtp.port, starttls=False))
    with caplog.at_level("WARNING"):
        await dispatcher.dispatch()
    [notice] = await rows(engine)
    assert notice["last_error"] == "SMTPRecipientsRefused: 550 mailbox unavailable"
    assert "aylin0" not in caplog.text and "SMTPRecipientsRefused: 550" in caplog.text


def test_a_failure_is_told_without_addresses() -> None:
    refused = smtplib.SMTPRecipientsRefused({"x@y.example": (550, b"5.1.1 <x@y.example> unknown user")})
    assert failure(refused) == "SMTPRecipientsRefused: 550 5.1.1 … unknown user"
    sender = smtplib.SMTPSenderRefused(553, b"sender via@example.org not allowed", "via@example.org")
    assert failure(sender) == "SMTPSenderRefused: 553 sender … not allowed"
    assert (
        failure(ConnectionRefusedError(111, "Connection refused"))
        == "ConnectionRefusedError: Connection refused"
    )


async def test_an_erased_person_whose_check_in_was_undone_before_blocks_nothing(engine: AsyncEngine) -> None:
    """Before undoing an erased person's check-in was refused, it could be done: such a person holds a
    place and has no key. Cancelling them, or the event, tells everyone else and seals nothing for them."""
    uow = await service(engine)
    event_id = await registered(engine, capacity=1, people=2)
    async with uow() as unit:  # the old history: checked in, erased, check-in undone
        event = await unit.get(Event, event_id, "Veranstaltung")
        [erased, waiting] = list(event.registrations)
        event._record(RegistrationAttended(event_id=event_id, registration_id=erased, organisation_id=None))
        event._record(RegistrationErased(event_id=event_id, registration_id=erased))
        event._record(
            RegistrationAttendanceWithdrawn(event_id=event_id, registration_id=erased, organisation_id=None)
        )
        await unit.save(event)
        await unit.vault.erase(unit.conn, erased)
    event, changed = await handlers.cancel_registration(uow, event_id, erased, CancelledBy.STAFF, LINKS)
    assert changed and event.registrations[waiting].status == RegistrationStatus.CONFIRMED
    await handlers.event_step(uow, event_id, lambda e: e.cancel(CancellationReason.VENUE_UNAVAILABLE), LINKS)
    kinds = [(n["kind"], n["registration_id"]) for n in await rows(engine)]
    assert [k for k in kinds if k[1] == erased] == [("confirmation", erased)]  # from before the erasure
    assert [k for k, r in kinds if r == waiting] == ["waitlist", "promotion", "event_cancelled"]
