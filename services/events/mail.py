"""Delivering the notices of the outbox: by SMTP when a server is configured, otherwise kept for the page.

`IKMO_SMTP_HOST` (and `_PORT`, `_USERNAME`, `_PASSWORD`, `_SENDER`, `_STARTTLS`, `_SSL`, `_CA_FILE`) name
the mail server. The server's certificate is always verified, name included: against the system's CA store,
or against `IKMO_SMTP_CA_FILE` alone for a server with a certificate of an in-house CA. With `_STARTTLS`
nothing (no password, no notice) is sent unless the server offers STARTTLS. Without a host (the embedded
default) a notice is marked "stored": staff read it on the page "Benachrichtigungen" and can pass it on by
hand.

A notice is claimed before it is sent (pending → sending, one UPDATE that only one dispatcher can win), so
two replicas never send the same notice; one claimed by a dispatcher that then died goes back to pending
after `RECLAIM_AFTER`. Delivery is therefore at least once, as with every outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import smtplib
import ssl
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.events.notices import NoticeStatus, notices, opened, recipient_address
from shared.db import read_transaction, write_transaction
from shared.personal import ERASED

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RECLAIM_AFTER = timedelta(minutes=5)
RETRY_BASE = timedelta(seconds=30)  # then 1, 2, 4 minutes: a mail server restarting is back by then


class MailSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IKMO_SMTP_", extra="ignore")

    host: str | None = None
    port: int = 587
    username: str | None = None
    password: SecretStr | None = Field(default=None, repr=False)
    sender: str = "VIA Berlin/Brandenburg e.V. <veranstaltungen@via-in-berlin.de>"
    starttls: bool = True
    ssl: bool = False  # SMTPS (port 465) instead of STARTTLS
    ca_file: Path | None = None  # PEM file of the CAs to trust instead of the system's (an in-house CA)
    timeout: float = 20.0

    @property
    def configured(self) -> bool:
        return bool(self.host)

    @model_validator(mode="after")
    def _no_password_in_plain_text(self) -> MailSettings:
        """A login without STARTTLS or SMTPS would hand the mailbox's password to anyone on the way; the
        service refuses to start rather than do it quietly (a relay on localhost needs no login)."""
        if self.username and not (self.starttls or self.ssl):
            raise ValueError(
                "IKMO_SMTP_USERNAME is set but neither IKMO_SMTP_STARTTLS nor IKMO_SMTP_SSL: the password "
                "would travel in plain text / Anmeldung am Mailserver nur verschlüsselt: IKMO_SMTP_STARTTLS "
                "oder IKMO_SMTP_SSL einschalten"
            )
        return self


_ADDRESS_LIKE = re.compile(r"<[^>]*>|\S*@\S*")


def failure(exc: BaseException) -> str:
    """What went wrong, for the log and the notices table: the kind of error and the server's code and
    short text, never an address (the table is kept after the person is erased)."""
    kind = type(exc).__name__

    def short(text: bytes | str) -> str:
        plain = text.decode(errors="replace") if isinstance(text, bytes) else text
        return " ".join(_ADDRESS_LIKE.sub("…", plain).split())[:200]

    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = sorted({f"{code} {short(text)}" for code, text in exc.recipients.values()})
        return f"{kind}: {'; '.join(answers)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{kind}: {exc.smtp_code} {short(exc.smtp_error)}"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{kind}: {short(exc.strerror)}"
    return kind


def send_by_smtp(settings: MailSettings, recipient: str, subject: str, body: str) -> None:
    """One message through the configured server (blocking: the dispatcher runs it in a thread)."""
    assert settings.host is not None
    to = recipient_address(recipient)
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="ikmo.events")
    message.set_content(body)
    context = ssl.create_default_context(cafile=settings.ca_file)  # verifies chain and host name
    client: smtplib.SMTP
    if settings.ssl:
        client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with client:
        if settings.starttls and not settings.ssl:
            client.starttls(context=context)
        if settings.username:
            password = settings.password.get_secret_value() if settings.password else ""
            client.login(settings.username, password)
        client.send_message(message, to_addrs=[to.addr_spec])  # the registrant only, never the header


class NoticeDispatcher:
    """Works through pending notices; `wake()` after a command wrote some, else it looks every `interval`."""

    def __init__(self, engine: AsyncEngine, settings: MailSettings, interval: float = 2.0) -> None:
        self.engine = engine
        self.settings = settings
        self.interval = interval
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="notice-dispatcher")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._task, timeout=10)
            self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()  # before the work: a wake-up arriving during it is not lost
            try:
                while await self.dispatch() > 0 and not self._stopping.is_set():
                    pass
            except Exception as exc:  # the database away for a moment: try again at the next round
                log.warning("notice dispatcher: %s", exc)
            if self._stopping.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)

    async def dispatch(self, batch: int = 20) -> int:
        """Deliver up to `batch` pending notices; returns how many were handled."""
        n = notices.c
        now = datetime.now(UTC)
        async with write_transaction(self.engine) as conn:
            await conn.execute(
                update(notices)
                .where(n.status == NoticeStatus.SENDING, n.claimed_at < now - RECLAIM_AFTER)
                .values(status=NoticeStatus.PENDING)
            )
        async with read_transaction(self.engine) as conn:
            ids = (
                (
                    await conn.execute(
                        select(n.id)
                        .where(
                            n.status == NoticeStatus.PENDING,
                            or_(n.next_attempt_at.is_(None), n.next_attempt_at <= now),
                        )
                        .order_by(n.created_at, n.id)
                        .limit(batch)
                    )
                )
                .scalars()
                .all()
            )
        handled = 0
        for notice_id in ids:
            if await self._deliver(notice_id):
                handled += 1
        return handled

    async def _deliver(self, notice_id: str) -> bool:
        n = notices.c
        async with write_transaction(self.engine) as conn:
            claimed = await conn.execute(
                update(notices)
                .where(n.id == notice_id, n.status == NoticeStatus.PENDING)
                .values(status=NoticeStatus.SENDING, claimed_at=datetime.now(UTC))
            )
            if claimed.rowcount != 1:
                return False  # another dispatcher has it
            row = (await conn.execute(select(notices).where(n.id == notice_id))).one()
            [notice] = await opened(conn, [row])
        status, error, retry_at = NoticeStatus.STORED, None, None
        attempts = row.attempts
        if notice["recipient"] == ERASED:
            status = NoticeStatus.DROPPED
        elif self.settings.configured:
            attempts += 1
            try:
                await asyncio.to_thread(
                    send_by_smtp, self.settings, notice["recipient"], notice["subject"], notice["body"]
                )
                status = NoticeStatus.SENT
            except (OSError, smtplib.SMTPException, ValueError) as exc:
                error = failure(exc)
                status = NoticeStatus.FAILED if attempts >= MAX_ATTEMPTS else NoticeStatus.PENDING
                retry_at = datetime.now(UTC) + RETRY_BASE * 2 ** (attempts - 1)
                log.warning("notice %s: attempt %d failed: %s", notice_id, attempts, error)
        async with write_transaction(self.engine) as conn:
            await conn.execute(
                update(notices)
                .where(n.id == notice_id)
                .values(
                    status=status,
                    attempts=attempts,
                    last_error=error,
                    next_attempt_at=retry_at,
                    delivered_at=datetime.now(UTC)
                    if status in (NoticeStatus.SENT, NoticeStatus.STORED)
                    else None,
                )
            )
        return status != NoticeStatus.PENDING
