"""Notices to people (confirmation, waitlist, promotion, cancellation): written into a mail outbox.

The handler writes a notice in the same transaction as the events that give its reason, so there is a
notice exactly when the decision was stored, and none when it was not. Delivery is the dispatcher's job
(mail.py): by SMTP when one is configured, otherwise the notice is kept and staff read it on the page
"Benachrichtigungen". Recipient and text are personal (a name, an address, the personal link), so they are
sealed under the registration's key like everything else about the person: erasing it empties the
notices as well. The subject line names only the event.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, Text, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.events.domain.model import Details, Event, Registration
from services.events.domain.notices import NoticeDue, NoticeKind
from services.events.labels import label, timespan
from shared.contracts.events import RegistrationStatus
from shared.personal import ERASED
from shared.store.uow import UnitOfWork
from shared.vault import Vault

SIGNATURE = "VIA Berlin/Brandenburg e.V. – Kommune interkulturell"
# Where people reach VIA's team about an event (the IQ network's office, as in VIA's own flyers: seed 000)
CONTACT_PHONE = "030 29 00 69 48"
CONTACT_EMAIL = "iq-netz-via@via-in-berlin.de"

metadata = MetaData()

notices = Table(
    "notices",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("event_id", String(36), nullable=False),
    Column("registration_id", String(36), nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("recipient", Text, nullable=False),  # sealed JSON
    Column("body", Text, nullable=False),  # sealed JSON
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),  # pending | sending | sent | stored | failed | dropped
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),  # after a failed attempt
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Index("ix_notices_status_created", "status", "created_at"),
)


class NoticeStatus(StrEnum):
    PENDING = "pending"  # waiting for the dispatcher
    SENDING = "sending"  # claimed by a dispatcher
    SENT = "sent"  # handed to the SMTP server
    STORED = "stored"  # no mail server configured: kept for the page
    FAILED = "failed"  # the SMTP server refused it too often
    DROPPED = "dropped"  # the person was erased before it went out


SUBJECTS = {  # both languages, since a mail client shows the subject before anyone opens the English part
    NoticeKind.CONFIRMATION: "Anmeldebestätigung / Registration confirmed: {title}",
    NoticeKind.WAITLIST: "Warteliste / Waitlist: {title}",
    NoticeKind.PROMOTION: "Ein Platz ist frei – Sie sind dabei / A place for you: {title}",
    NoticeKind.CANCELLATION: "Stornierung bestätigt / Cancellation confirmed: {title}",
    NoticeKind.EVENT_CANCELLED: "Abgesagt / Cancelled: {title}",
    NoticeKind.ALREADY_REGISTERED: "Sie sind schon angemeldet / You are registered already: {title}",
    NoticeKind.DETAILS_CHANGED: "Neue Zeit oder neuer Ort / New time or place: {title}",
}
REMINDER_PAUSE = timedelta(minutes=15)  # at most one "already registered" mail per person in this time

_LEAD_DE = {
    NoticeKind.CONFIRMATION: "vielen Dank für Ihre Anmeldung. Ihr Platz ist bestätigt.",
    NoticeKind.WAITLIST: (
        "vielen Dank für Ihre Anmeldung. Die Veranstaltung ist leider ausgebucht; Sie stehen auf Platz "
        "{position} der Warteliste. Wird ein Platz frei, rücken Sie automatisch nach und bekommen sofort "
        "Nachricht."
    ),
    NoticeKind.PROMOTION: "gute Nachricht: Ein Platz ist frei geworden. Sie sind von der Warteliste "
    "nachgerückt, Ihr Platz ist bestätigt.",
    NoticeKind.CANCELLATION: "Ihre Anmeldung ist storniert. Schade, dass Sie nicht dabei sein können.",
    NoticeKind.EVENT_CANCELLED: "leider müssen wir die folgende Veranstaltung absagen. Ihre Anmeldung "
    "ist damit hinfällig; Sie müssen nichts weiter tun.",
    NoticeKind.ALREADY_REGISTERED: "mit Ihrer E-Mail-Adresse wurde das Anmeldeformular noch einmal "
    "ausgefüllt. Sie sind schon angemeldet und {state_de}; eine zweite Anmeldung braucht es nicht. Waren Sie "
    "das nicht, können Sie diese E-Mail übergehen.",
    NoticeKind.DETAILS_CHANGED: "die Veranstaltung, für die Sie angemeldet sind, findet zu einer anderen "
    "Zeit oder an einem anderen Ort statt. Ihre Anmeldung bleibt bestehen: Sie {state_de}.",
}
_LEAD_EN = {
    NoticeKind.CONFIRMATION: "thank you for registering. Your place is confirmed.",
    NoticeKind.WAITLIST: (
        "thank you for registering. The event is fully booked; you are number {position} on the "
        "waitlist. If a place becomes free, you move up automatically and hear from us at once."
    ),
    NoticeKind.PROMOTION: "good news: a place became free. You moved up from the waitlist; your place "
    "is confirmed.",
    NoticeKind.CANCELLATION: "your registration is cancelled. We are sorry you cannot come.",
    NoticeKind.EVENT_CANCELLED: "unfortunately we have to cancel the following event. Your registration "
    "lapses with it; there is nothing you need to do.",
    NoticeKind.ALREADY_REGISTERED: "the registration form was filled in again with your e-mail address. "
    "You are registered already and {state_en}; there is no need to register twice. If this was not you, "
    "you can ignore this e-mail.",
    NoticeKind.DETAILS_CHANGED: "the event you registered for takes place at another time or in another "
    "place. Your registration stands: you {state_en}.",
}
WITH_LINK = {
    NoticeKind.CONFIRMATION,
    NoticeKind.WAITLIST,
    NoticeKind.PROMOTION,
    NoticeKind.ALREADY_REGISTERED,
    NoticeKind.DETAILS_CHANGED,
}


@dataclass(frozen=True)
class Links:
    """Where the personal links point: the events service's public address."""

    public_url: str

    def cancel(self, token: str) -> str:
        return f"{self.public_url.rstrip('/')}/oeffentlich/anmeldung/{token}"


def when(details: Details, lang: str) -> str:
    return timespan(details.starts_at, details.ends_at, lang)


def where(details: Details, lang: str) -> str:
    place = ", ".join(
        p for p in (details.venue, label(details.district, lang) if details.district else "") if p
    )
    online = "online"
    if details.online and place:
        return f"{place} {'und' if lang == 'de' else 'and'} {online}"
    return place or online


def compose(event: Event, registration: Registration, due: NoticeDue, links: Links) -> tuple[str, str]:
    """(subject, body) of one notice: German first, the same in English below."""
    details = event.details
    assert details is not None
    title = details.title
    subject = SUBJECTS[due.kind].format(title=title)
    position = due.position or 0
    if registration.status == RegistrationStatus.WAITLISTED:
        state_de = f"stehen auf Platz {position} der Warteliste"
        state_en = f"are number {position} on the waitlist"
    else:
        state_de, state_en = "haben einen bestätigten Platz", "have a confirmed place"
    link = links.cancel(registration.cancel_token) if due.kind in WITH_LINK else None
    german = [
        f"Guten Tag {registration.name},",
        "",
        _LEAD_DE[due.kind].format(position=position, state_de=state_de),
        "",
        f"Veranstaltung: {title}",
        *_before_now(details, due.previous, "de"),
    ]
    english = [
        f"Hello {registration.name},",
        "",
        _LEAD_EN[due.kind].format(position=position, state_en=state_en),
        "",
        f"Event: {title}",
        *_before_now(details, due.previous, "en"),
    ]
    if due.kind == NoticeKind.EVENT_CANCELLED and event.cancellation_reason:  # the category: never a note
        german.append(f"Grund: {label(event.cancellation_reason, 'de')}")
        english.append(f"Reason: {label(event.cancellation_reason, 'en')}")
    if link:
        german += [
            "",
            "Falls Sie nicht kommen können, stornieren Sie bitte hier – so rückt jemand nach:",
            link,
        ]
        english += ["", "If you cannot come, please cancel here so that someone else can move up:", link]
    closing = ["", "Mit freundlichen Grüßen", SIGNATURE]
    body = "\n".join([*german, *closing, "", "— English —", "", *english, "", "Kind regards", SIGNATURE])
    return subject, body


_WHEN = {"de": ("Wann", "neu", "bisher"), "en": ("When", "new", "before")}
_WHERE = {"de": ("Wo", "neu", "bisher"), "en": ("Where", "new", "before")}


def _before_now(details: Details, previous: Details | None, lang: str) -> list[str]:
    """When and where; after a change, the new value marked and the old one beneath it, so that nobody
    has to compare two e-mails to see what moved."""
    lines = []
    for words, show in ((_WHEN[lang], when), (_WHERE[lang], where)):
        heading, new, old = words
        now = show(details, lang)
        then = show(previous, lang) if previous is not None else now
        if then == now:
            lines.append(f"{heading}: {now}")
        else:
            lines += [f"{heading} ({new}): {now}", f"    {old}: {then}"]
    return lines


async def write(uow: UnitOfWork, event: Event, due: list[NoticeDue], links: Links) -> list[str]:
    """Put the notices into the outbox, inside the unit of work's transaction; returns their ids."""
    ids = []
    now = datetime.now(UTC)
    rows = []
    for i, item in enumerate(due):
        registration = event.registrations[item.registration_id]
        subject, body = compose(event, registration, item, links)
        # quoted by Address: a name such as "Demir, Aylin" or one holding addresses stays one name
        recipient = str(Address(display_name=registration.name, addr_spec=registration.email))
        notice_id = str(uuid.uuid4())
        ids.append(notice_id)
        rows.append(
            {
                "id": notice_id,
                "event_id": event.id,
                "registration_id": registration.id,
                "kind": str(item.kind),
                "subject": subject,
                "recipient": _json(await uow.vault.seal(uow.conn, registration.id, recipient)),
                "body": _json(await uow.vault.seal(uow.conn, registration.id, body)),
                "created_at": now + timedelta(microseconds=i),  # their order, when read newest first
                "status": NoticeStatus.PENDING,
                "attempts": 0,
            }
        )
    if rows:
        await uow.conn.execute(insert(notices), rows)
    return ids


async def sent_lately(conn: AsyncConnection, registration_id: str, kind: NoticeKind, since: datetime) -> bool:
    """Whether a notice of this kind went to this registration after `since` (a brake on repeats)."""
    query = (
        select(notices.c.id)
        .where(
            notices.c.registration_id == registration_id,
            notices.c.kind == str(kind),
            notices.c.created_at > since,
        )
        .limit(1)
    )
    return (await conn.execute(query)).first() is not None


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _unjson(text: str) -> Any:
    return json.loads(text)


def recipient_address(recipient: str) -> Address:
    """The one address a notice goes to.

    Notices are written with `Address`, so a name with commas or addresses in it is quoted and stays a
    name. Older rows held "name <email>" unquoted: there only the last address, the one in angle
    brackets, is the registrant's; whatever the name made look like more addresses is not mailed.
    """
    parsed = EmailMessage()
    parsed["To"] = recipient
    found = parsed["To"].addresses
    if not found:
        raise ValueError("a notice without a recipient")
    return found[-1]


def name_and_address(recipient: str) -> tuple[str, str]:
    """`"Demir, Aylin" <a@x.example>` as ("Demir, Aylin", "a@x.example"): pages show a name, not a header."""
    if recipient == ERASED:
        return ERASED, ""
    try:
        found = recipient_address(recipient)
    except ValueError:
        return recipient, ""
    return found.display_name or found.addr_spec, found.addr_spec


async def opened(conn: AsyncConnection, rows: list[Any], vault: Vault | None = None) -> list[dict[str, Any]]:
    """Notice rows with recipient and body opened (or "[gelöscht]" once the person was erased), the
    recipient also as name and address apart."""
    vault = vault or Vault()
    sealed = [[_unjson(r.recipient), _unjson(r.body)] for r in rows]
    plain = await vault.open_all(conn, sealed)
    out = []
    for row, (recipient, body) in zip(rows, plain, strict=True):
        name, address = name_and_address(recipient)
        out.append(
            {
                **row._mapping,
                "recipient": recipient,
                "recipient_name": name,
                "recipient_address": address,
                "body": body,
                "erased": recipient == ERASED,
            }
        )
    return out


async def list_notices(
    conn: AsyncConnection, event_id: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    query = select(notices).order_by(notices.c.created_at.desc(), notices.c.id).limit(limit)
    if event_id:
        query = query.where(notices.c.event_id == event_id)
    rows = (await conn.execute(query)).all()
    return await opened(conn, list(rows))


async def events_with_notices(conn: AsyncConnection) -> list[str]:
    """The events some notice is about: what the page's filter offers."""
    return list((await conn.execute(select(notices.c.event_id).distinct())).scalars())
