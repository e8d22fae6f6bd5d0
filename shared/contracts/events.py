"""Events of VIA's events service (Veranstaltungen): the calendar, registrations and the waitlist.

An event (a seminar, workshop, Fachtag, …) and its registrations form one aggregate, so the waitlist's
rules (never more confirmed than places, promotions in waitlist order) hold within one stream. People
appear on the bus only as pseudonymous registration ids, with the organisation they registered for; their
names, e-mail addresses and personal links are sealed in a private event that never leaves the service.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import Field

from shared.contracts.directory import District
from shared.domain import DomainEvent
from shared.personal import personal
from shared.store.upcasting import Data, Upcasters


class EventFormat(StrEnum):
    """VIA's formats (seeds 000 and 001)."""

    QUALIFICATION_SEMINAR = "qualification_seminar"  # Qualifizierungsseminar
    WORKSHOP = "workshop"  # Workshop
    CONFERENCE = "conference"  # Fachtag
    WORKSHOP_TALK = "workshop_talk"  # Werkstattgespräch
    NETWORK_MEETING = "network_meeting"  # Thematische Fachrunde / Netzwerktreffen: of a directory network
    LABOUR_MARKET_TALK = "labour_market_talk"  # Arbeitsmarktgespräch: hosted by an MO, speakers from
    # labour-market institutions
    ROLE_MODEL_TALK = "role_model_talk"  # Fachgespräch „Vorbilder zeigen“


class Topic(StrEnum):
    """The topic catalogue: the workshop and advice topics of the seeds."""

    RECOGNITION_OF_QUALIFICATIONS = "recognition_of_qualifications"  # Anerkennung ausländischer Abschlüsse
    LABOUR_MARKET_ACCESS_REFUGEES = "labour_market_access_refugees"  # Arbeitsmarktzugang für Geflüchtete
    QUALIFICATION_OPPORTUNITIES = "qualification_opportunities"  # Qualifizierungsmöglichkeiten
    VOLUNTEERS = "volunteers"  # Arbeit mit Ehrenamtlichen
    PROJECT_MANAGEMENT = "project_management"  # Projektmanagement
    PROJECT_FUNDING = "project_funding"  # Finanzierungsmöglichkeiten von Projekten
    CONCEPT_DEVELOPMENT = "concept_development"  # Konzeptentwicklung
    PROJECT_ADMINISTRATION = "project_administration"  # Projektverwaltung
    NEEDS_ASSESSMENT = "needs_assessment"  # Bedarfsanalyse
    FOUNDING_AN_ASSOCIATION = "founding_an_association"  # Vereinsgründung und -führung
    ASSOCIATION_AND_LABOUR_LAW = "association_and_labour_law"  # Vereins- und Arbeitsrecht
    ASSOCIATION_AS_EMPLOYER = "association_as_employer"  # Der Verein als Arbeitgeber
    BOOKKEEPING = "bookkeeping"  # Buchhaltung
    POLITICAL_PARTICIPATION = "political_participation"  # Politische Partizipation, Gremienarbeit
    INTERCULTURAL_OPENING = "intercultural_opening"  # Interkulturelle Öffnung der Verwaltung
    WELCOME_STRUCTURES = "welcome_structures"  # Kommunale Willkommensstrukturen
    VOLUNTARY_SERVICES = "voluntary_services"  # Freiwilligendienste (FSJ, BFD): an advice topic of seed 004


class FundingLine(StrEnum):
    SENATE_IKMO = "senate_ikmo"  # Senatsverwaltung (IKMO)
    AMIF = "amif"  # Asyl-, Migrations- und Integrationsfonds
    IQ = "iq"  # Förderprogramm „Integration durch Qualifizierung“


class EventStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class RegistrationStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


class CancellationReason(StrEnum):
    """Why an event was cancelled, as the public and everyone registered are told: a category, never free
    text (the cancellation is public and kept in the log for good; free text there said who fell ill)."""

    SPEAKER_UNAVAILABLE = "speaker_unavailable"  # Referent*in verhindert
    TOO_FEW_REGISTRATIONS = "too_few_registrations"  # Zu wenige Anmeldungen
    VENUE_UNAVAILABLE = "venue_unavailable"  # Veranstaltungsort nicht verfügbar
    ORGANISATIONAL = "organisational"  # Organisatorische Gründe
    FORCE_MAJEURE = "force_majeure"  # Höhere Gewalt
    OTHER = "other"  # Sonstiges


class CancelledBy(StrEnum):
    PARTICIPANT = "participant"  # through the personal link
    STAFF = "staff"


class EventDetails(DomainEvent):
    """The fields every description of an event carries (drafted, details changed)."""

    event_id: str
    title: str
    format: EventFormat
    topics: list[Topic]
    funding_line: FundingLine
    starts_at: datetime
    ends_at: datetime
    online: bool
    venue: str | None = Field(description="Address or name of the place; None when online only")
    district: District | None
    registration_deadline: datetime
    description: str | None
    network_id: str | None = Field(description="The directory network a network meeting belongs to")
    host_organisation_id: str | None = Field(
        description="The organisation hosting it (an MO for an Arbeitsmarktgespräch)"
    )
    speaker_organisation_ids: list[str] = Field(description="Organisations whose people speak")


class EventDrafted(EventDetails):
    """An event was planned; not yet visible in the public calendar. A draft may still change or never be
    published: a subscriber that shows events to the public (a website, a newsletter) waits for
    `ikmo.events.event.published` and shows nothing of a draft before it."""

    event_type = "ikmo.events.event.drafted"
    capacity: int = Field(description="Places that can be confirmed")


class EventDetailsChanged(EventDetails):
    """The description changed; carries the whole new description and which fields changed. Before the
    event is published this is a draft's change: not for the public (see `event.drafted`)."""

    event_type = "ikmo.events.event.details_changed"
    changed: list[str]


class EventCapacityChanged(DomainEvent):
    """The number of places changed; a raise promotes from the waitlist in the same step."""

    event_type = "ikmo.events.event.capacity_changed"
    event_id: str
    capacity: int
    previous_capacity: int


class EventPublished(DomainEvent):
    """The event is in the public calendar and open for registration until its deadline."""

    event_type = "ikmo.events.event.published"
    event_id: str


class EventCancelled(DomainEvent):
    """The event will not take place; everyone registered or waiting is told. The reason is a category;
    a note for VIA's team, if any, stays in the service. Version 1 had a free-text reason: read as
    version 2 with reason `other`, its text dropped."""

    event_type = "ikmo.events.event.cancelled"
    schema_version = 2
    event_id: str
    reason: CancellationReason


class EventCancellationNoted(DomainEvent):
    """Private: VIA's note for its own team on why the event was cancelled; never published. Not sealed
    (it is about the event, not a person); the form asks for no personal details."""

    event_type = "ikmo.events.event.cancellation_noted"
    public = False
    event_id: str
    note: str


class EventCompleted(DomainEvent):
    """The event took place."""

    event_type = "ikmo.events.event.completed"
    event_id: str


class RegistrantDetails(DomainEvent):
    """Private: who registered, as every record of it carries it (recorded, corrected), sealed under the
    registration's own key; never published."""

    public = False
    personal_subject = "registration_id"
    event_id: str
    registration_id: str
    name: str = personal()
    email: str = personal()
    phone: str | None = personal(default=None)


class RegistrationRecorded(RegistrantDetails):
    """Private: who registered, sealed under the registration's own key; never published."""

    event_type = "ikmo.events.registration.recorded"
    cancel_token: str = personal(description="The secret of the personal cancellation link")
    cancel_token_hash: str = Field(description="SHA-256 of the token: how a link finds its registration")
    consent: str | None = Field(
        default=None,
        description="The consent to the processing of the data, word for word as the public form showed it "
        "(in its language), agreed at the time of this event; None when staff registered the person",
    )


class RegistrationConfirmed(DomainEvent):
    """A registration got a place."""

    event_type = "ikmo.events.registration.confirmed"
    event_id: str
    registration_id: str = Field(description="Pseudonymous id of the registration (not of a person)")
    organisation_id: str | None = Field(description="The directory organisation the person came for")


class RegistrationWaitlisted(DomainEvent):
    """The event was full: the registration waits; `position` is its place on the waitlist."""

    event_type = "ikmo.events.registration.waitlisted"
    event_id: str
    registration_id: str
    organisation_id: str | None
    position: int


class RegistrationPromoted(DomainEvent):
    """A place became free (a cancellation, more places): the first on the waitlist got it."""

    event_type = "ikmo.events.registration.promoted"
    event_id: str
    registration_id: str
    organisation_id: str | None


class RegistrationCancelled(DomainEvent):
    """A registration was withdrawn (by the person through their link, or by staff)."""

    event_type = "ikmo.events.registration.cancelled"
    event_id: str
    registration_id: str
    organisation_id: str | None
    was: RegistrationStatus = Field(description="confirmed or waitlisted before the cancellation")
    by: CancelledBy


class RegistrationErased(DomainEvent):
    """The person's data was erased (their key deleted): name, address and link now read as erased
    everywhere. The registration stays counted as it was."""

    event_type = "ikmo.events.registration.erased"
    event_id: str
    registration_id: str


class RegistrationCorrected(RegistrantDetails):
    """Private: VIA corrected who registered (a typo in the name, a mistyped address), sealed under the
    registration's key like the registration itself; never published. Carries the whole corrected
    details and which of them changed; later notices and the certificate use them."""

    event_type = "ikmo.events.registration.corrected"
    changed: list[str] = Field(description="Which of name, email, phone changed")
    cancel_token: str | None = personal(
        default=None,
        description="A new secret of the personal link, when the address changed: the mistyped address "
        "(maybe a stranger's) had the old one; None when the link stays (and in events before this field)",
    )
    cancel_token_hash: str | None = Field(
        default=None, description="SHA-256 of the new token, when there is one: the old link finds nothing"
    )


class RegistrationOrganisationCorrected(DomainEvent):
    """VIA corrected the organisation a registration was made for (the wrong one was chosen): counts by
    organisation read this one from now on, for the confirmation and a check-in before it alike."""

    event_type = "ikmo.events.registration.organisation_corrected"
    event_id: str
    registration_id: str = Field(description="Pseudonymous id of the registration (not of a person)")
    organisation_id: str | None = Field(description="The directory organisation the person came for")
    previous_organisation_id: str | None


EVENT_EVENTS: tuple[type[DomainEvent], ...] = (
    EventDrafted,
    EventDetailsChanged,
    EventCapacityChanged,
    EventPublished,
    EventCancelled,
    EventCancellationNoted,
    EventCompleted,
)

# How old versions of these contracts read today: on load from the log and on the way out of the outbox.
UPCASTERS = Upcasters()


@UPCASTERS.register(EventCancelled.event_type, 1)
def _cancelled_with_a_category(data: Data) -> Data:
    """v1's free-text reason may name a person and their illness: dropped, never shown again."""
    return {"event_id": data["event_id"], "reason": CancellationReason.OTHER.value}


REGISTRATION_EVENTS: tuple[type[DomainEvent], ...] = (
    RegistrationRecorded,
    RegistrationConfirmed,
    RegistrationWaitlisted,
    RegistrationPromoted,
    RegistrationCancelled,
    RegistrationErased,
    RegistrationCorrected,
    RegistrationOrganisationCorrected,
)


# -- attendance and feedback (issue 5): what reports and the grants' qualification bonus read ------------


class FeedbackBy(StrEnum):
    PARTICIPANT = "participant"  # through the personal link
    STAFF = "staff"  # typed in by VIA from a paper form


class RegistrationAttended(DomainEvent):
    """A person with a confirmed place was checked in at the event: they took part."""

    event_type = "ikmo.events.registration.attended"
    event_id: str
    registration_id: str = Field(description="Pseudonymous id of the registration (not of a person)")
    organisation_id: str | None = Field(description="The directory organisation the person came for")


class RegistrationAttendanceWithdrawn(DomainEvent):
    """A check-in was undone (tapped by mistake): the registration counts as not attended again."""

    event_type = "ikmo.events.registration.attendance_withdrawn"
    event_id: str
    registration_id: str
    organisation_id: str | None


class RegistrationFeedbackGiven(DomainEvent):
    """Someone who attended rated the event (1 to 5). A later rating of the same registration replaces the
    earlier one (`previous_rating`), so a report counts one rating per registration. The comment, if any,
    is personal and stays in the service (sealed under the registration's key)."""

    event_type = "ikmo.events.registration.feedback_given"
    event_id: str
    registration_id: str
    rating: int = Field(ge=1, le=5, description="1 (poor) to 5 (very good)")
    previous_rating: int | None = Field(description="The rating it replaces; None for the first")
    by: FeedbackBy
    with_comment: bool = Field(description="Whether a comment was given (its text is not published)")


class RegistrationFeedbackCommented(DomainEvent):
    """Private: the free-text comment of a feedback, sealed under the registration's key (it may name
    people), so erasing the registration shreds it. None: the feedback has no comment (any more)."""

    event_type = "ikmo.events.registration.feedback_commented"
    public = False
    personal_subject = "registration_id"
    event_id: str
    registration_id: str
    comment: str | None = personal(default=None)


PARTICIPATION_EVENTS: tuple[type[DomainEvent], ...] = (
    RegistrationAttended,
    RegistrationAttendanceWithdrawn,
    RegistrationFeedbackGiven,
    RegistrationFeedbackCommented,
)


# -- advice and process accompaniment (Beratung, Prozessbegleitung) ------------------------------------------
#
# One advice session for an organisation is a consultation; a series of them with a goal is an accompaniment.
# On the bus: the organisation, topics, day, duration, format and partner. The advised person's name and the
# minutes (Protokoll) stay in the service, sealed under the consultation's key; the goal and the outcome of an
# accompaniment (free text) stay in the service too.

ADVISING_PARTNER = "via"  # the partner whose staff record advice in this service


class ConsultationFormat(StrEnum):
    IN_PERSON = "in_person"  # vor Ort
    PHONE = "phone"  # telefonisch
    ONLINE = "online"


class AccompanimentOutcome(StrEnum):
    ACHIEVED = "achieved"  # Ziel erreicht
    PARTLY_ACHIEVED = "partly_achieved"  # Ziel teilweise erreicht
    ENDED_EARLY = "ended_early"  # vorzeitig beendet


class ConsultationFacts(DomainEvent):
    """What every public record of an advice session carries (recorded, corrected)."""

    consultation_id: str
    organisation_id: str = Field(description="The directory organisation advised")
    accompaniment_id: str | None = Field(description="The process accompaniment it belongs to, if any")
    topics: list[Topic]
    held_on: date
    duration_minutes: int = Field(description="5 to 600")
    format: ConsultationFormat
    funding_line: FundingLine
    partner: str = Field(description="The partner who advised (VIA)")


class ConsultationRecorded(ConsultationFacts):
    """An advice session (Beratung) took place and was recorded."""

    event_type = "ikmo.events.consultation.recorded"


class ConsultationCorrected(ConsultationFacts):
    """A recorded advice session was corrected; carries the whole corrected record and what changed."""

    event_type = "ikmo.events.consultation.corrected"
    changed: list[str]


class ConsultationNoted(DomainEvent):
    """Private: who was advised and the minutes, sealed under the consultation's key; never published.
    Recorded with the session and again whenever either changes."""

    event_type = "ikmo.events.consultation.noted"
    public = False
    personal_subject = "consultation_id"
    consultation_id: str
    adviser_id: str = Field(description="The staff member's subject id (who advised)")
    person_advised: str | None = personal(default=None)
    minutes: str | None = personal(default=None, description="Protokoll: internal notes")


class ConsultationErased(DomainEvent):
    """The advised person's data and the minutes were erased (the key deleted); the session still counts."""

    event_type = "ikmo.events.consultation.erased"
    consultation_id: str


class AccompanimentOpened(DomainEvent):
    """A process accompaniment (Prozessbegleitung) of an organisation began."""

    event_type = "ikmo.events.accompaniment.opened"
    accompaniment_id: str
    organisation_id: str
    topics: list[Topic]
    opened_on: date
    partner: str


class AccompanimentGoalNoted(DomainEvent):
    """Private: the goal of the accompaniment in the staff's words; stays in the service."""

    event_type = "ikmo.events.accompaniment.goal_noted"
    public = False
    accompaniment_id: str
    goal: str


class AccompanimentSessionAdded(DomainEvent):
    """An advice session became part of the accompaniment."""

    event_type = "ikmo.events.accompaniment.session_added"
    accompaniment_id: str
    consultation_id: str
    held_on: date
    duration_minutes: int


class AccompanimentSessionChanged(DomainEvent):
    """A session's day or duration was corrected."""

    event_type = "ikmo.events.accompaniment.session_changed"
    accompaniment_id: str
    consultation_id: str
    held_on: date
    duration_minutes: int


class AccompanimentClosed(DomainEvent):
    """The accompaniment ended: its goal achieved, partly achieved, or ended early."""

    event_type = "ikmo.events.accompaniment.closed"
    accompaniment_id: str
    organisation_id: str
    closed_on: date
    outcome: AccompanimentOutcome
    sessions: int
    total_minutes: int


class AccompanimentOutcomeNoted(DomainEvent):
    """Private: what came of it (or why it ended early), in the staff's words; stays in the service."""

    event_type = "ikmo.events.accompaniment.outcome_noted"
    public = False
    accompaniment_id: str
    note: str


CONSULTATION_EVENTS: tuple[type[DomainEvent], ...] = (
    ConsultationRecorded,
    ConsultationCorrected,
    ConsultationNoted,
    ConsultationErased,
)

ACCOMPANIMENT_EVENTS: tuple[type[DomainEvent], ...] = (
    AccompanimentOpened,
    AccompanimentGoalNoted,
    AccompanimentSessionAdded,
    AccompanimentSessionChanged,
    AccompanimentClosed,
    AccompanimentOutcomeNoted,
)
