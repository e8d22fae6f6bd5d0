"""The event aggregate: one event of VIA's calendar together with its registrations and waitlist.

Why one aggregate: the waitlist's rules span every registration of an event. Deciding them inside one
stream, appended with its expected version, means two concurrent registrations for the last place cannot
both win (the second append conflicts and is decided again on the new state), and promotions happen in
the same append as the cancellation that frees the place, in waitlist order, with no job running later.

Rules (German and English messages, since people read them):
- a title of 3 to 200 characters, at least one topic, an end after the start, a registration deadline
  no later than the start; in person needs a venue and a district, online needs neither;
- 1 to 1000 places; never fewer places than confirmed registrations;
- a network meeting belongs to a directory network; an Arbeitsmarktgespräch is hosted by an MO (or
  refugee initiative) and has speakers from labour-market institutions;
- draft → published → completed, or cancelled from draft or published; completed only once it began;
  a cancellation names a category everyone is told (never free text: it is public and kept for good)
  and may carry a note of up to 500 characters for VIA's team, which stays in the service;
- registration only while published and (except for staff) until the deadline; one active registration
  per e-mail address; a place while places are free, else the waitlist;
- a cancelled confirmed registration, or more places, promote the first on the waitlist at once;
- once the event has begun, nobody moves up from the waitlist by itself (a notice "you have a place"
  for something already running helps no one, and the first in line may not be there): a free place,
  or one staff add at the door, goes to who is at the door: a waitlisted person checked in takes it, and
  staff register a walk-in only onto a free place (a waitlist nobody moves up from would be a dead end);
  the personal link no longer cancels;
- attendance: only a confirmed registration of a published or completed event is checked in, from the
  event's day on (Berlin's calendar day); checking in twice changes nothing; a check-in can be undone; who
  was checked in keeps their registration (no cancellation) and an event with people checked in is not
  cancelled any more (it is completed);
- correction: staff put right a registration's name, e-mail, phone or organisation (a typo goes on the
  certificate, a mistyped address gets no notices), checked as a registration is, at any time (the
  certificate is printed afterwards) and for a cancelled registration too, never for someone erased; an
  address another active registration of the event has is refused as a second registration would be;
  the personal details are recorded sealed and private, a new organisation publicly (counts read it);
- feedback: a rating of 1 to 5 and an optional comment, from someone checked in, once the event has
  ended; a later one of the same registration replaces it (a slip on a phone is put right, and reports
  still count one rating per registration); VIA types in paper forms but never overwrites what the
  person gave through their link; a check-in with feedback, or of someone erased, is not undone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from typing import Any
from zoneinfo import ZoneInfo

from services.events.domain.commands import CorrectRegistration, EventPlan, OrganisationRef, Register
from shared.contracts.directory import District, OrganisationKind
from shared.contracts.events import (
    CancellationReason,
    CancelledBy,
    EventCancellationNoted,
    EventCancelled,
    EventCapacityChanged,
    EventCompleted,
    EventDetailsChanged,
    EventDrafted,
    EventFormat,
    EventPublished,
    EventStatus,
    FeedbackBy,
    FundingLine,
    RegistrationAttendanceWithdrawn,
    RegistrationAttended,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationCorrected,
    RegistrationErased,
    RegistrationFeedbackCommented,
    RegistrationFeedbackGiven,
    RegistrationOrganisationCorrected,
    RegistrationPromoted,
    RegistrationRecorded,
    RegistrationStatus,
    RegistrationWaitlisted,
    Topic,
)
from shared.domain import Aggregate, DomainEvent
from shared.errors import DomainRuleViolation, InvalidInput, InvalidInputs, NotFound, StaleRead

TITLE_MIN, TITLE_MAX = 3, 200
TEXT_MAX = 4000
VENUE_MAX = 300
CAPACITY_MIN, CAPACITY_MAX = 1, 1000
NAME_MIN, NAME_MAX = 2, 200
EMAIL_MAX = 254
RATING_MIN, RATING_MAX = 1, 5
COMMENT_MAX = 2000
CANCELLATION_NOTE_MAX = 500
YEAR_MIN, YEAR_MAX = 2000, 2100  # VIA's events (past ones recorded later too); beyond is a typo
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()/-]{5,30}$")

HOST_KINDS = frozenset({OrganisationKind.MO, OrganisationKind.REFUGEE_INITIATIVE})
SPEAKER_KINDS_OF_LABOUR_MARKET_TALK = frozenset({OrganisationKind.LABOUR_MARKET_ACTOR})
LOCAL_TIME = ZoneInfo("Europe/Berlin")  # "the event's day" is a day in Berlin, where VIA's events happen
# What a correction decides on: who registered (a check-in, a promotion or feedback in between does not
# make an open correction form stale).
WHO_REGISTERED = (
    RegistrationRecorded,
    RegistrationConfirmed,
    RegistrationWaitlisted,
    RegistrationCorrected,
    RegistrationOrganisationCorrected,
    RegistrationErased,
)
TOOK_PLACE_OR_TAKES_PLACE = frozenset({EventStatus.PUBLISHED, EventStatus.COMPLETED})


@dataclass(frozen=True)
class Details:
    """An event's description as the aggregate keeps it (ids only, never organisation names)."""

    title: str
    format: EventFormat
    topics: tuple[Topic, ...]
    funding_line: FundingLine
    starts_at: datetime
    ends_at: datetime
    registration_deadline: datetime
    online: bool
    venue: str | None
    district: District | None
    description: str | None
    network_id: str | None
    host_organisation_id: str | None
    speaker_organisation_ids: tuple[str, ...]


@dataclass
class Registration:
    id: str
    name: str
    email: str
    phone: str | None
    organisation_id: str | None
    cancel_token: str = field(repr=False)
    cancel_token_hash: str
    status: RegistrationStatus | None = None  # None between recorded and confirmed/waitlisted
    erased: bool = False
    attended: bool = False
    rating: int | None = None
    comment: str | None = None
    feedback_by: FeedbackBy | None = None
    version: int = 0  # the event's version at the last change of who registered (Event.unchanged_since)

    @property
    def active(self) -> bool:
        return self.status in (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)


class AlreadyRegistered(DomainRuleViolation):
    """The same person (by e-mail address) holds an active registration already. Staff see the 409; the
    public form answers as for any registration and reminds the person by e-mail instead, so the form
    never tells a stranger who is registered."""

    def __init__(self, registration_id: str, message_en: str, message_de: str) -> None:
        super().__init__(message_en, message_de)
        self.registration_id = registration_id


def _already_registered(existing: Registration) -> AlreadyRegistered:
    """Said to staff: the public form reminds the person by e-mail instead."""
    where_en, where_de = (
        ("has a place", "hat einen Platz")
        if existing.status == RegistrationStatus.CONFIRMED
        else ("is on the waitlist", "steht auf der Warteliste")
    )
    return AlreadyRegistered(
        existing.id,
        f"This person is already registered with this e-mail address and {where_en}. "
        "Their confirmation e-mail has the link to cancel.",
        f"Diese Person ist mit dieser E-Mail-Adresse schon angemeldet und {where_de}. "
        "Den Link zum Stornieren hat sie mit ihrer Bestätigungs-E-Mail bekommen.",
    )


def erased_not_corrected() -> DomainRuleViolation:
    return DomainRuleViolation(
        "This person's data was erased; there is nothing left to correct.",
        "Die Daten dieser Person wurden gelöscht; es gibt nichts mehr zu korrigieren.",
    )


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TIME).date()


def token_hash(token: str) -> str:
    """How a personal link finds its registration without the log holding the link in the clear."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalised_email(email: str) -> str:
    return email.strip().casefold()


def _clean(text: str | None) -> str | None:
    cleaned = " ".join(text.split()) if text else ""
    return cleaned or None


def _too_long(field: str, limit: int) -> InvalidInput:
    return InvalidInput(
        f"At most {limit} characters, please.", f"Bitte höchstens {limit} Zeichen.", field=field
    )


def valid_cancellation(
    reason: CancellationReason | str, note: str | None
) -> tuple[CancellationReason, str | None]:
    """The category (one of the list: what is published) and the team's note, trimmed, or None."""
    try:
        category = CancellationReason(reason)
    except ValueError:
        raise InvalidInput(
            "Choose why the event is cancelled.", "Bitte den Grund der Absage wählen.", field="reason"
        ) from None
    text = (note or "").replace("\r\n", "\n").strip() or None  # a form's line break is one character
    if text and len(text) > CANCELLATION_NOTE_MAX:
        raise InvalidInput(
            f"The note is too long: at most {CANCELLATION_NOTE_MAX} characters, please (it has {len(text)}).",
            f"Die Notiz ist zu lang: bitte höchstens {CANCELLATION_NOTE_MAX} Zeichen (sie hat {len(text)}).",
            field="note",
        )
    return category, text


def valid_details(plan: EventPlan) -> Details:
    """The plan checked field by field; every field at fault is named at once, so a form is put right in
    one round (a rule comparing two times only once both can be read)."""
    problems: list[InvalidInput] = []
    title = _clean(plan.title) or ""
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        problems.append(
            InvalidInput(
                f"The title must have {TITLE_MIN} to {TITLE_MAX} characters.",
                f"Der Titel muss {TITLE_MIN} bis {TITLE_MAX} Zeichen haben.",
                field="title",
            )
        )
    topics = tuple(dict.fromkeys(plan.topics))
    if not topics:
        problems.append(
            InvalidInput("Choose at least one topic.", "Bitte mindestens ein Thema wählen.", "topics")
        )
    times_read = True
    for name in ("starts_at", "ends_at", "registration_deadline"):
        moment = getattr(plan, name)
        if moment.tzinfo is None:
            times_read = False
            problems.append(
                InvalidInput(
                    "Give the time with its time zone.", "Bitte die Uhrzeit mit Zeitzone angeben.", name
                )
            )
        elif not YEAR_MIN <= moment.year <= YEAR_MAX:
            times_read = False
            problems.append(
                InvalidInput(
                    f"Give a year between {YEAR_MIN} and {YEAR_MAX} (this says {moment.year}).",
                    f"Bitte ein Jahr zwischen {YEAR_MIN} und {YEAR_MAX} angeben (hier steht {moment.year}).",
                    field=name,
                )
            )
    if times_read and plan.ends_at <= plan.starts_at:
        problems.append(
            InvalidInput(
                "The end must be after the start.", "Das Ende muss nach dem Beginn liegen.", "ends_at"
            )
        )
    if times_read and plan.registration_deadline > plan.starts_at:
        problems.append(
            InvalidInput(
                "The registration deadline must not be after the start.",
                "Die Anmeldefrist darf nicht nach dem Beginn liegen.",
                field="registration_deadline",
            )
        )
    venue = _clean(plan.venue)
    if venue and len(venue) > VENUE_MAX:
        problems.append(_too_long("venue", VENUE_MAX))
    if not plan.online and venue is None:
        problems.append(
            InvalidInput(
                "Give the venue, or mark the event as online.",
                "Bitte den Ort angeben oder die Veranstaltung als online kennzeichnen.",
                field="venue",
            )
        )
    if not plan.online and plan.district is None:
        problems.append(
            InvalidInput(
                "Choose the district of the venue.",
                "Bitte den Bezirk des Veranstaltungsorts wählen.",
                "district",
            )
        )
    description = (plan.description or "").strip() or None
    if description and len(description) > TEXT_MAX:
        problems.append(_too_long("description", TEXT_MAX))
    if plan.format == EventFormat.NETWORK_MEETING and not plan.network_id:
        problems.append(
            InvalidInput(
                "A network meeting belongs to a network: choose it.",
                "Ein Netzwerktreffen gehört zu einem Netzwerk: bitte das Netzwerk wählen.",
                field="network_id",
            )
        )
    speakers = tuple(dict.fromkeys(plan.speakers))
    if plan.format == EventFormat.LABOUR_MARKET_TALK:
        problems += _labour_market_talk_problems(plan.host, speakers)
    if plan.host is not None and any(s.id == plan.host.id for s in speakers):
        problems.append(
            InvalidInput(
                "The host is not also one of the speaking organisations.",
                "Die gastgebende Organisation ist nicht zugleich referierende Organisation.",
                field="speaker_organisation_ids",
            )
        )
    InvalidInputs.raise_any(problems)
    return Details(
        title=title,
        format=plan.format,
        topics=topics,
        funding_line=plan.funding_line,
        starts_at=plan.starts_at,
        ends_at=plan.ends_at,
        registration_deadline=plan.registration_deadline,
        online=plan.online,
        venue=venue,
        district=plan.district,
        description=description,
        network_id=plan.network_id or None,
        host_organisation_id=plan.host.id if plan.host else None,
        speaker_organisation_ids=tuple(s.id for s in speakers),
    )


def _labour_market_talk_problems(
    host: OrganisationRef | None, speakers: tuple[OrganisationRef, ...]
) -> list[InvalidInput]:
    problems = []
    if host is None or host.kind not in HOST_KINDS:
        problems.append(
            InvalidInput(
                "An Arbeitsmarktgespräch is hosted by a migrant organisation or refugee initiative.",
                "Ein Arbeitsmarktgespräch findet bei einer Migrant*innenorganisation oder "
                "Geflüchteteninitiative statt: bitte sie als Gastgeberin wählen.",
                field="host_organisation_id",
            )
        )
    if not speakers:
        problems.append(
            InvalidInput(
                "Name at least one labour-market institution whose people speak.",
                "Bitte mindestens eine Arbeitsmarktinstitution nennen, deren Referent*innen kommen.",
                field="speaker_organisation_ids",
            )
        )
    wrong = [s.name or s.id for s in speakers if s.kind not in SPEAKER_KINDS_OF_LABOUR_MARKET_TALK]
    if wrong:
        problems.append(
            InvalidInput(
                f"Not a labour-market institution: {', '.join(wrong)}.",
                f"Keine Arbeitsmarktinstitution: {', '.join(wrong)}.",
                field="speaker_organisation_ids",
            )
        )
    return problems


def valid_capacity(capacity: int) -> int:
    if not CAPACITY_MIN <= capacity <= CAPACITY_MAX:
        raise InvalidInput(
            f"Places: {CAPACITY_MIN} to {CAPACITY_MAX}.",
            f"Plätze: {CAPACITY_MIN} bis {CAPACITY_MAX}.",
            field="capacity",
        )
    return capacity


def mailable(email: str) -> bool:
    """One plain address the notices can be sent to (no commas, brackets or quotes that a mail header
    would read as something else)."""
    if len(email) > EMAIL_MAX or not _EMAIL.match(email):
        return False
    try:
        return Address(addr_spec=email).addr_spec == email
    except (ValueError, IndexError, HeaderParseError):
        return False


def valid_person(cmd: Register) -> tuple[str, str, str | None]:
    """Name, address and phone as recorded; every field at fault is named at once."""
    problems: list[InvalidInput] = []
    name = _clean(cmd.name) or ""
    if len(name) < NAME_MIN:
        problems.append(
            InvalidInput(
                f"Please give your name (at least {NAME_MIN} characters).",
                f"Bitte geben Sie Ihren Namen an (mindestens {NAME_MIN} Zeichen).",
                field="name",
            )
        )
    elif len(name) > NAME_MAX:
        problems.append(_too_long("name", NAME_MAX))
    email = cmd.email.strip()
    if not mailable(email):
        problems.append(
            InvalidInput(
                "Please give an e-mail address such as name@example.org.",
                "Bitte eine E-Mail-Adresse wie name@beispiel.de angeben.",
                field="email",
            )
        )
    phone = _clean(cmd.phone)
    if phone and not _PHONE.match(phone):
        problems.append(
            InvalidInput(
                "Please give a phone number of digits, such as +49 30 1234567.",
                "Bitte eine Telefonnummer aus Ziffern angeben, z. B. +49 30 1234567.",
                field="phone",
            )
        )
    InvalidInputs.raise_any(problems)
    return name, email, phone


def _details_event(cls: type, event_id: str, details: Details, **extra: object) -> DomainEvent:
    return cls(
        event_id=event_id,
        title=details.title,
        format=details.format,
        topics=list(details.topics),
        funding_line=details.funding_line,
        starts_at=details.starts_at,
        ends_at=details.ends_at,
        online=details.online,
        venue=details.venue,
        district=details.district,
        registration_deadline=details.registration_deadline,
        description=details.description,
        network_id=details.network_id,
        host_organisation_id=details.host_organisation_id,
        speaker_organisation_ids=list(details.speaker_organisation_ids),
        **extra,
    )


class Event(Aggregate):
    stream_prefix = "event"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.details: Details | None = None
        self.capacity = 0
        self.status = EventStatus.DRAFT
        self.registrations: dict[str, Registration] = {}
        self.waitlist: list[str] = []  # registration ids, first in line first
        self.own_version = 0  # the version of the last change to the event itself (not its registrations)
        self.cancellation_reason: CancellationReason | None = None
        self.cancellation_note: str | None = None  # VIA's team only

    # -- reading the state --------------------------------------------------------------------------------

    @property
    def confirmed(self) -> list[Registration]:
        return [r for r in self.registrations.values() if r.status == RegistrationStatus.CONFIRMED]

    @property
    def attendees(self) -> list[Registration]:
        return [r for r in self.registrations.values() if r.attended]

    @property
    def free_places(self) -> int:
        return max(0, self.capacity - len(self.confirmed))

    def active_registration_of(self, email: str) -> Registration | None:
        wanted = normalised_email(email)
        for registration in self.registrations.values():
            if registration.active and normalised_email(registration.email) == wanted:
                return registration
        return None

    def begun(self, now: datetime) -> bool:
        assert self.details is not None
        return now >= self.details.starts_at

    def waitlist_position(self, registration_id: str) -> int | None:
        """1 for the first in line; None for who is not waiting."""
        return self.waitlist.index(registration_id) + 1 if registration_id in self.waitlist else None

    def registration(self, registration_id: str) -> Registration:
        found = self.registrations.get(registration_id)
        if found is None:
            raise NotFound(
                f"Registration {registration_id} does not exist",
                f"Die Anmeldung {registration_id} gibt es nicht",
            )
        return found

    def registration_by_token(self, token: str) -> Registration | None:
        wanted = token_hash(token)
        return next((r for r in self.registrations.values() if r.cancel_token_hash == wanted), None)

    # -- decisions: the event -----------------------------------------------------------------------------

    @classmethod
    def draft(cls, event_id: str, plan: EventPlan, capacity: int) -> Event:
        details = valid_details(plan)
        event = cls(event_id)
        event._record(_details_event(EventDrafted, event_id, details, capacity=valid_capacity(capacity)))
        return event

    def change_details(self, plan: EventPlan, now: datetime | None = None) -> None:
        """`now` guards a published event against a new start in the past (a mistyped year would drop it
        from the calendar and mail everyone a date gone by); a draft may be dated back, to record an
        event held before it was entered."""
        self._ensure_open("changed")
        assert self.details is not None
        new = valid_details(plan)
        changed = [f.name for f in fields(Details) if getattr(new, f.name) != getattr(self.details, f.name)]
        if (
            now is not None
            and self.status == EventStatus.PUBLISHED
            and "starts_at" in changed
            and new.starts_at < now
        ):
            raise InvalidInput(
                "The event is published: its new beginning cannot lie in the past.",
                "Die Veranstaltung ist veröffentlicht: Der neue Beginn darf nicht in der Vergangenheit "
                "liegen.",
                field="starts_at",
            )
        if changed:
            self._record(_details_event(EventDetailsChanged, self.id, new, changed=changed))

    def change_capacity(self, capacity: int, now: datetime) -> None:
        self._ensure_open("changed")
        valid_capacity(capacity)
        confirmed = len(self.confirmed)
        if capacity < confirmed:
            raise DomainRuleViolation(
                f"{confirmed} places are confirmed; the event cannot have fewer places than that.",
                f"{confirmed} Plätze sind bestätigt; weniger Plätze als das sind nicht möglich.",
            )
        if capacity == self.capacity:
            return
        self._record(
            EventCapacityChanged(event_id=self.id, capacity=capacity, previous_capacity=self.capacity)
        )
        if not self.begun(now):
            self._promote_while_free()

    def publish(self) -> None:
        if self.status == EventStatus.PUBLISHED:
            return
        if self.status != EventStatus.DRAFT:
            raise self._not_in(self.status, "published")
        self._record(EventPublished(event_id=self.id))

    def cancel(self, reason: CancellationReason | str, note: str | None = None) -> None:
        """Everyone is told the category; the note, if any, is recorded apart and never published."""
        category, text = valid_cancellation(reason, note)
        if self.status == EventStatus.CANCELLED:
            return
        self._ensure_open("cancelled")
        if self.attendees:
            raise DomainRuleViolation(
                f"{len(self.attendees)} people were checked in: the event took place. Mark it as taken "
                "place instead of cancelling it.",
                f"{len(self.attendees)} Personen sind eingelassen: Die Veranstaltung hat stattgefunden. "
                "Bitte abschließen statt absagen.",
            )
        self._record(EventCancelled(event_id=self.id, reason=category))
        if text:
            self._record(EventCancellationNoted(event_id=self.id, note=text))

    def complete(self, now: datetime) -> None:
        if self.status == EventStatus.COMPLETED:
            return
        if self.status != EventStatus.PUBLISHED:
            raise self._not_in(self.status, "completed")
        assert self.details is not None
        if now < self.details.starts_at:
            raise DomainRuleViolation(
                "The event has not begun yet; it can be completed once it has taken place.",
                "Die Veranstaltung hat noch nicht begonnen; abschließen lässt sie sich, wenn sie "
                "stattgefunden hat.",
            )
        self._record(EventCompleted(event_id=self.id))

    # -- decisions: registrations -------------------------------------------------------------------------

    def register(self, cmd: Register, now: datetime) -> Registration:
        """A place while places are free (and nobody waits), else the waitlist."""
        name, email, phone = valid_person(cmd)
        assert self.details is not None
        if self.status != EventStatus.PUBLISHED:
            raise {
                EventStatus.DRAFT: DomainRuleViolation(
                    "Registration is not open yet.", "Die Anmeldung ist noch nicht geöffnet."
                ),
                EventStatus.CANCELLED: DomainRuleViolation(
                    "This event was cancelled.", "Diese Veranstaltung wurde abgesagt."
                ),
                EventStatus.COMPLETED: DomainRuleViolation(
                    "This event has already taken place.", "Diese Veranstaltung hat bereits stattgefunden."
                ),
            }[self.status]
        if not cmd.late and now > self.details.registration_deadline:
            raise DomainRuleViolation(
                "The registration deadline has passed.", "Die Anmeldefrist ist leider abgelaufen."
            )
        existing = self.active_registration_of(email)
        if existing is not None:
            raise _already_registered(existing)
        if self.begun(now) and self.free_places == 0:
            raise DomainRuleViolation(
                "The event has begun and every place is taken. Raise the number of places first.",
                "Die Veranstaltung hat begonnen und alle Plätze sind vergeben. Bitte zuerst die Zahl der "
                "Plätze erhöhen.",
            )
        if not cmd.registration_id or not cmd.cancel_token:
            raise ValueError("a registration needs its id and the secret of its link")
        self._record(
            RegistrationRecorded(
                event_id=self.id,
                registration_id=cmd.registration_id,
                name=name,
                email=email,
                phone=phone,
                cancel_token=cmd.cancel_token,
                cancel_token_hash=token_hash(cmd.cancel_token),
                consent=cmd.consent,
            )
        )
        ids = {"event_id": self.id, "registration_id": cmd.registration_id}
        # at the door (begun, so a place is free) the walk-in takes it: who waited did not come to it
        if self.begun(now) or (self.free_places > 0 and not self.waitlist):
            self._record(RegistrationConfirmed(**ids, organisation_id=cmd.organisation_id))
        else:
            position = len(self.waitlist) + 1
            self._record(
                RegistrationWaitlisted(**ids, organisation_id=cmd.organisation_id, position=position)
            )
        return self.registrations[cmd.registration_id]

    def cancel_registration(self, registration_id: str, by: CancelledBy, now: datetime) -> bool:
        """Withdraw one registration; before the event begins a freed place goes to the first in line.
        False if nothing changed."""
        registration = self.registration(registration_id)
        if not registration.active or self.status == EventStatus.CANCELLED:
            return False  # a link clicked twice, or the whole event is off anyway
        if by == CancelledBy.PARTICIPANT and self.begun(now) and self.status == EventStatus.PUBLISHED:
            raise DomainRuleViolation(
                "The event has already begun, so the registration can no longer be cancelled here. "
                "If something is wrong, please tell VIA.",
                "Die Veranstaltung hat schon begonnen; hier lässt sich die Anmeldung nicht mehr "
                "stornieren. Stimmt etwas nicht, sagen Sie bitte VIA Bescheid.",
            )
        if self.status == EventStatus.COMPLETED:
            raise DomainRuleViolation(
                "The event has taken place; its registrations stay as they are.",
                "Die Veranstaltung hat stattgefunden; ihre Anmeldungen bleiben, wie sie sind.",
            )
        if registration.attended:
            raise DomainRuleViolation(
                "This person was checked in, so the registration stays. If the check-in was a mistake, "
                "undo it first.",
                "Diese Person ist eingelassen, die Anmeldung bleibt deshalb bestehen. War der Einlass ein "
                "Versehen, bitte ihn zuerst zurücknehmen.",
            )
        assert registration.status is not None
        self._record(
            RegistrationCancelled(
                event_id=self.id,
                registration_id=registration_id,
                organisation_id=registration.organisation_id,
                was=registration.status,
                by=by,
            )
        )
        if not self.begun(now):
            self._promote_while_free()
        return True

    def correct_registration(self, cmd: CorrectRegistration) -> list[str]:
        """Put right what was typed wrong (the name goes on the certificate, the address gets the
        notices), checked as a registration is. Allowed after the event (certificates are printed then)
        and for a cancelled registration (its record should be right too); never for someone erased.
        Returns what changed; nothing is recorded when nothing did."""
        registration = self.registration(cmd.registration_id)
        if registration.erased:
            raise erased_not_corrected()
        wanted = {
            "name": registration.name,
            "email": registration.email,
            "phone": registration.phone,
            "organisation_id": registration.organisation_id,
            **cmd.changes,
        }
        name, email, phone = valid_person(
            Register(
                event_id=self.id,
                name=wanted["name"] or "",
                email=wanted["email"] or "",
                phone=wanted["phone"],
            )
        )
        organisation_id = wanted["organisation_id"] or None
        if registration.active and normalised_email(email) != normalised_email(registration.email):
            existing = self.active_registration_of(email)
            if existing is not None and existing.id != registration.id:
                raise _already_registered(existing)
        corrected = {"name": name, "email": email, "phone": phone}
        changed = [key for key, value in corrected.items() if getattr(registration, key) != value]
        ids = {"event_id": self.id, "registration_id": registration.id}
        if changed:
            # the old address (mistyped, maybe a stranger's) got the link: a new address gets a new one
            link: dict[str, str] = {}
            if "email" in changed:
                if not cmd.cancel_token:
                    raise ValueError("a new address needs a new secret for the personal link")
                link = {"cancel_token": cmd.cancel_token, "cancel_token_hash": token_hash(cmd.cancel_token)}
            self._record(
                RegistrationCorrected(**ids, name=name, email=email, phone=phone, changed=changed, **link)
            )
        if organisation_id != registration.organisation_id:
            self._record(
                RegistrationOrganisationCorrected(
                    **ids,
                    organisation_id=organisation_id,
                    previous_organisation_id=registration.organisation_id,
                )
            )
            changed.append("organisation_id")
        return changed

    def erase_registration(self, registration_id: str, now: datetime) -> None:
        """Erase a person's data (the handler deletes their key in the same transaction). Someone still
        registered is cancelled first, so their place goes on; whoever is erased is told nothing more."""
        registration = self.registration(registration_id)
        if registration.erased:
            return
        if registration.active and self.status == EventStatus.PUBLISHED and not registration.attended:
            self.cancel_registration(registration_id, CancelledBy.STAFF, now)  # who came stays counted
        self._record(RegistrationErased(event_id=self.id, registration_id=registration_id))

    def _promote_while_free(self) -> None:
        if self.status != EventStatus.PUBLISHED:
            return
        while self.waitlist and self.free_places > 0:
            first = self.registrations[self.waitlist[0]]
            self._record(
                RegistrationPromoted(
                    event_id=self.id, registration_id=first.id, organisation_id=first.organisation_id
                )
            )

    # -- decisions: attendance ---------------------------------------------------------------------------

    def check_in(self, registration_id: str, now: datetime) -> bool:
        """The person is here. False if they were checked in already (two people at the door tapping the
        same name is no error: the list shows them present either way)."""
        registration = self.registration(registration_id)
        if registration.erased:
            raise DomainRuleViolation(
                "This person's data was erased; they cannot be checked in.",
                "Die Daten dieser Person wurden gelöscht; sie kann nicht eingelassen werden.",
            )
        if registration.attended:
            return False
        if self.status not in TOOK_PLACE_OR_TAKES_PLACE:
            raise DomainRuleViolation(
                "Only people of a published or completed event are checked in.",
                "Einlass gibt es nur bei veröffentlichten oder abgeschlossenen Veranstaltungen.",
            )
        promote = registration.status == RegistrationStatus.WAITLISTED
        if promote and (self.free_places == 0 or not self.begun(now)):
            raise DomainRuleViolation(
                "This person is on the waitlist and no place is free. Once the event has begun, raise "
                "the number of places, then check them in: the new place is theirs.",
                "Diese Person steht auf der Warteliste und es ist kein Platz frei. Sobald die "
                "Veranstaltung begonnen hat: bitte die Zahl der Plätze erhöhen und sie dann einlassen, "
                "der neue Platz ist ihrer.",
            )
        if registration.status != RegistrationStatus.CONFIRMED and not promote:
            raise DomainRuleViolation(
                "This registration is cancelled; only confirmed people are checked in.",
                "Diese Anmeldung ist storniert; eingelassen werden nur bestätigte Personen.",
            )
        assert self.details is not None
        day = local_day(self.details.starts_at)
        if local_day(now) < day:
            shown = day.strftime("%d.%m.%Y")
            raise DomainRuleViolation(
                f"Check-in opens on the day of the event ({day.isoformat()}).",
                f"Der Einlass beginnt am Tag der Veranstaltung ({shown}).",
            )
        if promote:  # at the door, the free place goes to who is here (no notice: they are standing here)
            self._record(
                RegistrationPromoted(
                    event_id=self.id,
                    registration_id=registration_id,
                    organisation_id=registration.organisation_id,
                )
            )
        self._record(
            RegistrationAttended(
                event_id=self.id,
                registration_id=registration_id,
                organisation_id=registration.organisation_id,
            )
        )
        return True

    def undo_check_in(self, registration_id: str) -> bool:
        """A check-in tapped by mistake. False if the person was not checked in."""
        registration = self.registration(registration_id)
        if not registration.attended:
            return False
        if registration.erased:  # undone, they would hold a place no notice can reach and none can free
            raise DomainRuleViolation(
                "This person's data was erased; their check-in stays as it is.",
                "Die Daten dieser Person wurden gelöscht; ihr Einlass bleibt, wie er ist.",
            )
        if registration.rating is not None:
            raise DomainRuleViolation(
                "This person gave feedback on the event, so they were there; the check-in stays.",
                "Diese Person hat eine Rückmeldung zur Veranstaltung gegeben, war also da; der Einlass "
                "bleibt.",
            )
        self._record(
            RegistrationAttendanceWithdrawn(
                event_id=self.id,
                registration_id=registration_id,
                organisation_id=registration.organisation_id,
            )
        )
        return True

    # -- decisions: feedback -----------------------------------------------------------------------------

    def give_feedback(
        self, registration_id: str, rating: int, comment: str | None, by: FeedbackBy, now: datetime
    ) -> bool:
        """A rating (and comment) after the event. False if it says what was said already."""
        registration = self.registration(registration_id)
        if not RATING_MIN <= rating <= RATING_MAX:
            raise InvalidInput(
                f"Choose a rating from {RATING_MIN} to {RATING_MAX}.",
                f"Bitte eine Bewertung von {RATING_MIN} bis {RATING_MAX} wählen.",
                field="rating",
            )
        text = (comment or "").strip() or None
        if text and len(text) > COMMENT_MAX:
            raise _too_long("comment", COMMENT_MAX)
        if registration.erased:
            raise DomainRuleViolation(
                "This person's data was erased; no feedback can be recorded for them.",
                "Die Daten dieser Person wurden gelöscht; eine Rückmeldung kann nicht erfasst werden.",
            )
        if not registration.attended:
            raise DomainRuleViolation(
                "Feedback comes from people who took part (were checked in).",
                "Eine Rückmeldung geben Personen, die teilgenommen haben (eingelassen wurden).",
            )
        assert self.details is not None
        if now < self.details.ends_at:
            raise DomainRuleViolation(
                "Feedback opens when the event has ended.",
                "Eine Rückmeldung ist möglich, sobald die Veranstaltung zu Ende ist.",
            )
        if by == FeedbackBy.STAFF and registration.feedback_by == FeedbackBy.PARTICIPANT:
            raise DomainRuleViolation(
                "This person gave their feedback themselves; a paper form does not replace it.",
                "Diese Person hat ihre Rückmeldung selbst gegeben; ein Papierbogen ersetzt sie nicht.",
            )
        if (registration.rating, registration.comment, registration.feedback_by) == (rating, text, by):
            return False
        ids = {"event_id": self.id, "registration_id": registration_id}
        self._record(
            RegistrationFeedbackGiven(
                **ids,
                rating=rating,
                previous_rating=registration.rating,
                by=by,
                with_comment=text is not None,
            )
        )
        if text != registration.comment:
            self._record(RegistrationFeedbackCommented(**ids, comment=text))
        return True

    # -- guards -------------------------------------------------------------------------------------------

    def _ensure_open(self, what: str) -> None:
        if self.status not in (EventStatus.DRAFT, EventStatus.PUBLISHED):
            raise self._not_in(self.status, what)

    @staticmethod
    def _not_in(status: EventStatus, what: str) -> DomainRuleViolation:
        de_status = {
            EventStatus.DRAFT: "ein Entwurf",
            EventStatus.PUBLISHED: "veröffentlicht",
            EventStatus.COMPLETED: "abgeschlossen",
            EventStatus.CANCELLED: "abgesagt",
        }[status]
        de_what = {"published": "veröffentlicht", "completed": "abgeschlossen", "cancelled": "abgesagt"}
        return DomainRuleViolation(
            f"The event is {status.value} and cannot be {what}.",
            f"Die Veranstaltung ist {de_status} und kann nicht {de_what.get(what, 'geändert')} werden.",
        )

    # -- state --------------------------------------------------------------------------------------------

    def apply(self, event: DomainEvent) -> None:
        self._apply(event)
        landing = self.version + 1  # the version this event is (or was) appended at
        registration_id = getattr(event, "registration_id", None)
        if registration_id is None:
            self.own_version = landing
        elif isinstance(event, WHO_REGISTERED):
            self.registrations[registration_id].version = landing

    def unchanged_since(self, seen: int | None, registration_id: str | None = None) -> None:
        """Refuse a decision taken on a page read at version `seen` when what it decides on changed since:
        the event's own description and state, or the one registration it names. Others registering or
        checking in meanwhile do not count: on a busy event every form would otherwise be stale at once."""
        if seen is None:
            return
        changed_at = self.registration(registration_id).version if registration_id else self.own_version
        if changed_at > seen or seen > self.version:  # changed since, or a version this event never had
            raise StaleRead(self.stream_id, seen, changed_at)

    def _apply(self, event: DomainEvent) -> None:
        match event:
            case EventDrafted():
                self.details = _details_of(event)
                self.capacity = event.capacity
            case EventDetailsChanged():
                self.details = _details_of(event)
            case EventCapacityChanged():
                self.capacity = event.capacity
            case EventPublished():
                self.status = EventStatus.PUBLISHED
            case EventCancelled():
                self.status = EventStatus.CANCELLED
                self.cancellation_reason = event.reason
            case EventCancellationNoted():
                self.cancellation_note = event.note
            case EventCompleted():
                self.status = EventStatus.COMPLETED
            case RegistrationRecorded():
                self.registrations[event.registration_id] = Registration(
                    id=event.registration_id,
                    name=event.name,
                    email=event.email,
                    phone=event.phone,
                    organisation_id=None,
                    cancel_token=event.cancel_token,
                    cancel_token_hash=event.cancel_token_hash,
                )
            case RegistrationConfirmed():
                registration = self.registrations[event.registration_id]
                registration.status = RegistrationStatus.CONFIRMED
                registration.organisation_id = event.organisation_id
            case RegistrationWaitlisted():
                registration = self.registrations[event.registration_id]
                registration.status = RegistrationStatus.WAITLISTED
                registration.organisation_id = event.organisation_id
                self.waitlist.append(event.registration_id)
            case RegistrationPromoted():
                self.registrations[event.registration_id].status = RegistrationStatus.CONFIRMED
                self.waitlist.remove(event.registration_id)
            case RegistrationCancelled():
                self.registrations[event.registration_id].status = RegistrationStatus.CANCELLED
                if event.registration_id in self.waitlist:
                    self.waitlist.remove(event.registration_id)
            case RegistrationErased():
                self.registrations[event.registration_id].erased = True
            case RegistrationCorrected():
                registration = self.registrations[event.registration_id]
                registration.name, registration.email = event.name, event.email
                registration.phone = event.phone
                if event.cancel_token is not None and event.cancel_token_hash is not None:
                    registration.cancel_token = event.cancel_token
                    registration.cancel_token_hash = event.cancel_token_hash
            case RegistrationOrganisationCorrected():
                self.registrations[event.registration_id].organisation_id = event.organisation_id
            case RegistrationAttended():
                self.registrations[event.registration_id].attended = True
            case RegistrationAttendanceWithdrawn():
                self.registrations[event.registration_id].attended = False
            case RegistrationFeedbackGiven():
                registration = self.registrations[event.registration_id]
                registration.rating = event.rating
                registration.feedback_by = event.by
            case RegistrationFeedbackCommented():
                self.registrations[event.registration_id].comment = event.comment


def _details_of(event: EventDrafted | EventDetailsChanged) -> Details:
    return Details(
        title=event.title,
        format=event.format,
        topics=tuple(event.topics),
        funding_line=event.funding_line,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        registration_deadline=event.registration_deadline,
        online=event.online,
        venue=event.venue,
        district=event.district,
        description=event.description,
        network_id=event.network_id,
        host_organisation_id=event.host_organisation_id,
        speaker_organisation_ids=tuple(event.speaker_organisation_ids),
    )


def plan_of(details: Details, changes: Mapping[str, Any] | None = None) -> EventPlan:
    """The current description as a plan, with the given fields replaced (organisations by id only)."""
    unknown = set(changes or {}) - {f.name for f in fields(EventPlan)}
    if unknown:
        raise ValueError(f"not fields of a plan: {sorted(unknown)}")
    plan = EventPlan(
        title=details.title,
        format=details.format,
        topics=details.topics,
        funding_line=details.funding_line,
        starts_at=details.starts_at,
        ends_at=details.ends_at,
        registration_deadline=details.registration_deadline,
        online=details.online,
        venue=details.venue,
        district=details.district,
        description=details.description,
        network_id=details.network_id,
        host=OrganisationRef(details.host_organisation_id) if details.host_organisation_id else None,
        speakers=tuple(OrganisationRef(i) for i in details.speaker_organisation_ids),
    )
    return replace(plan, **(changes or {}))
