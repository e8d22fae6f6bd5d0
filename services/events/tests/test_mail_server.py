"""Notices against a real SMTP server (aiosmtpd, see mailserver.py): STARTTLS with a login, SMTPS, and the
ways it must go wrong safely. The client trusts the test's own CA only through IKMO_SMTP_CA_FILE; a
certificate it cannot verify, or a server that does not offer the TLS it was told to use, means that nothing
is sent, neither the password nor the notice."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.events import notices
from services.events.mail import MAX_ATTEMPTS, MailSettings, NoticeDispatcher
from services.events.notices import NoticeStatus
from services.events.tests.mailserver import Authority, smtp_server
from services.events.tests.test_notices import registered, rows
from shared.db import write_transaction

USERS = {"veranstaltungen": "richtig-geheim"}
SENDER = "VIA Berlin <veranstaltungen@via.example>"


@pytest.fixture
def ca(tmp_path: Path) -> Authority:
    return Authority.make(tmp_path / "ca")


def settings_for(port: int, ca: Authority, **changes: object) -> MailSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "username": "veranstaltungen",
        "password": "richtig-geheim",
        "sender": SENDER,
        "ca_file": ca.cert_file,
    }
    return MailSettings(**{**values, **changes})  # type: ignore[arg-type]


async def due_now(engine: AsyncEngine) -> None:
    """Pretend the waiting time before the next attempt has passed."""
    async with write_transaction(engine) as conn:
        await conn.execute(update(notices.notices).values(next_attempt_at=datetime.now(UTC) - timedelta(1)))


async def test_starttls_and_a_login_deliver_each_notice_once_with_its_headers(
    engine: AsyncEngine, ca: Authority, monkeypatch: pytest.MonkeyPatch
) -> None:
    await registered(engine, capacity=1, people=2)  # a confirmation and a waitlist notice
    async with smtp_server(starttls=ca.server_context(), users=USERS) as server:
        for name, value in {  # as an operator writes them (docs/operations.md)
            "HOST": "localhost",
            "PORT": str(server.port),
            "USERNAME": "veranstaltungen",
            "PASSWORD": "richtig-geheim",
            "SENDER": SENDER,
            "STARTTLS": "true",
            "CA_FILE": str(ca.cert_file),
        }.items():
            monkeypatch.setenv(f"IKMO_SMTP_{name}", value)
        settings = MailSettings()
        assert settings.ca_file == ca.cert_file and settings.starttls and not settings.ssl
        dispatcher = NoticeDispatcher(engine, settings)
        assert await dispatcher.dispatch() == 2
        assert await dispatcher.dispatch() == 0  # nothing twice
    assert [n["status"] for n in await rows(engine)] == ["sent", "sent"]
    assert server.logins == [("veranstaltungen", True, True)] * 2  # one per message, over TLS only
    assert len(server.messages) == 2
    assert all(m.over_tls and m.login == "veranstaltungen" for m in server.messages)
    assert [m.rcpt_tos for m in server.messages] == [["aylin0@verein.example"], ["aylin1@verein.example"]]
    waitlist = server.messages[1]
    assert waitlist.mail_from == "veranstaltungen@via.example"
    mail = email.message_from_bytes(waitlist.content, policy=email.policy.default)
    assert mail["From"] == SENDER
    assert mail["To"] == "Aylin Demir 1 <aylin1@verein.example>"
    assert mail["Subject"] == "Warteliste / Waitlist: Projektmanagement für Vereine"
    assert mail["Message-ID"].endswith("@ikmo.events>")
    assert mail["Date"].endswith(" -0000") and mail["Date"].datetime.year >= 2024  # UTC (RFC 5322 3.3)
    assert "Sie stehen auf Platz 1 der Warteliste" in mail.get_content()
    ids = {email.message_from_bytes(m.content)["Message-ID"] for m in server.messages}
    assert len(ids) == 2


async def test_smtps_speaks_tls_from_the_first_byte(engine: AsyncEngine, ca: Authority) -> None:
    await registered(engine, people=1)
    async with smtp_server(implicit_tls=ca.server_context(), users=USERS) as server:
        settings = settings_for(server.port, ca, ssl=True)  # IKMO_SMTP_SSL=true, STARTTLS left on: ignored
        assert await NoticeDispatcher(engine, settings).dispatch() == 1
    [notice] = await rows(engine)
    assert notice["status"] == NoticeStatus.SENT
    [message] = server.messages
    assert message.over_tls and message.login == "veranstaltungen"
    assert message.rcpt_tos == ["aylin0@verein.example"]
    mail = email.message_from_bytes(message.content, policy=email.policy.default)
    assert mail["Subject"] == "Anmeldebestätigung / Registration confirmed: Projektmanagement für Vereine"


async def test_a_wrong_password_is_retried_then_failed_and_nothing_is_sent(
    engine: AsyncEngine, ca: Authority
) -> None:
    await registered(engine, people=1)
    async with smtp_server(starttls=ca.server_context(), users=USERS) as server:
        dispatcher = NoticeDispatcher(engine, settings_for(server.port, ca, password="falsch"))
        assert await dispatcher.dispatch() == 0
        [notice] = await rows(engine)
        assert notice["status"] == NoticeStatus.PENDING and notice["attempts"] == 1
        assert notice["last_error"].startswith("SMTPAuthenticationError: 535")
        assert await dispatcher.dispatch() == 0  # not before its next attempt
        for _ in range(MAX_ATTEMPTS - 1):
            await due_now(engine)
            await dispatcher.dispatch()
        await due_now(engine)
        assert await dispatcher.dispatch() == 0  # failed is final: no sixth attempt
    [notice] = await rows(engine)
    assert notice["status"] == NoticeStatus.FAILED and notice["attempts"] == MAX_ATTEMPTS
    assert "falsch" not in notice["last_error"]
    assert server.messages == [] and server.mail_commands == 0
    assert server.logins and set(server.logins) == {("veranstaltungen", True, False)}  # refused, over TLS


@pytest.mark.parametrize("mode", ["starttls", "smtps"])
async def test_a_certificate_the_client_does_not_trust_stops_everything(
    engine: AsyncEngine, ca: Authority, tmp_path: Path, mode: str
) -> None:
    await registered(engine, people=1)
    stranger = Authority.make(tmp_path / "stranger", "Someone Else's CA")
    context = stranger.server_context()  # valid names, but signed by a CA the client was not given
    starttls, implicit_tls = (context, None) if mode == "starttls" else (None, context)
    async with smtp_server(starttls=starttls, implicit_tls=implicit_tls, users=USERS) as server:
        settings = settings_for(server.port, ca, ssl=mode == "smtps")
        assert await NoticeDispatcher(engine, settings).dispatch() == 0
    [notice] = await rows(engine)
    assert notice["status"] == NoticeStatus.PENDING  # tried again later: the certificate may get fixed
    assert notice["last_error"].startswith("SSLCertVerificationError")
    assert "CERTIFICATE_VERIFY_FAILED" in notice["last_error"]
    assert server.messages == [] and server.logins == [] and server.mail_commands == 0


async def test_without_a_ca_file_a_self_signed_certificate_is_not_trusted(
    engine: AsyncEngine, ca: Authority
) -> None:
    await registered(engine, people=1)
    async with smtp_server(starttls=ca.server_context(), users=USERS) as server:
        settings = settings_for(server.port, ca, ca_file=None)  # the system's CAs only
        assert await NoticeDispatcher(engine, settings).dispatch() == 0
    [notice] = await rows(engine)
    assert notice["last_error"].startswith("SSLCertVerificationError")
    assert server.messages == [] and server.logins == []


async def test_a_certificate_for_another_name_stops_everything(engine: AsyncEngine, ca: Authority) -> None:
    await registered(engine, people=1)
    elsewhere = ca.server_context(dns_names=("mail.elsewhere.example",), ips=())  # trusted CA, wrong name
    async with smtp_server(starttls=elsewhere, users=USERS) as server:
        assert await NoticeDispatcher(engine, settings_for(server.port, ca)).dispatch() == 0
    [notice] = await rows(engine)
    assert notice["last_error"].startswith("SSLCertVerificationError")
    assert "mismatch" in notice["last_error"]
    assert server.messages == [] and server.logins == []


async def test_a_server_without_starttls_gets_nothing_in_plain_text(
    engine: AsyncEngine, ca: Authority
) -> None:
    await registered(engine, people=1)
    # offers AUTH and takes mail in plain text, does not offer STARTTLS: a downgrade, or a wrong server
    async with smtp_server(users=USERS, login_required=False) as server:
        settings = settings_for(server.port, ca, starttls=True)
        assert await NoticeDispatcher(engine, settings).dispatch() == 0
    [notice] = await rows(engine)
    assert notice["status"] == NoticeStatus.PENDING
    assert notice["last_error"] == "SMTPNotSupportedError"
    assert server.logins == [] and server.mail_commands == 0 and server.messages == []


def test_a_login_without_tls_is_refused_at_start_with_the_setting_to_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("IKMO_SMTP_HOST", "mail.example.org")
    monkeypatch.setenv("IKMO_SMTP_USERNAME", "veranstaltungen")
    monkeypatch.setenv("IKMO_SMTP_PASSWORD", "geheim")
    monkeypatch.setenv("IKMO_SMTP_STARTTLS", "false")
    with pytest.raises(ValidationError, match="IKMO_SMTP_STARTTLS oder IKMO_SMTP_SSL") as refused:
        MailSettings()
    assert "geheim" not in str(refused.value)  # the password is not repeated into the log
    monkeypatch.setenv("IKMO_SMTP_SSL", "true")
    assert MailSettings().ssl  # SMTPS: the login is encrypted
    monkeypatch.delenv("IKMO_SMTP_USERNAME")
    monkeypatch.delenv("IKMO_SMTP_SSL")
    assert not MailSettings().starttls  # a relay without a login (on localhost, say) may speak plainly
