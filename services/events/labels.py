"""German and English labels for every value people choose from (the API's /vocabulary, pages, mails)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from babel.dates import format_date, format_datetime, format_time

from shared.contracts.events import (
    AccompanimentOutcome,
    CancellationReason,
    ConsultationFormat,
    EventFormat,
    EventStatus,
    FundingLine,
    RegistrationStatus,
    Topic,
)
from shared.web.vocabulary import DISTRICTS, Labels, label_in, local

FORMATS = {
    EventFormat.QUALIFICATION_SEMINAR: ("Qualifizierungsseminar", "Qualification seminar"),
    EventFormat.WORKSHOP: ("Workshop", "Workshop"),
    EventFormat.CONFERENCE: ("Fachtag", "Conference (Fachtag)"),
    EventFormat.WORKSHOP_TALK: ("Werkstattgespräch", "Workshop talk (Werkstattgespräch)"),
    EventFormat.NETWORK_MEETING: (
        "Thematische Fachrunde / Netzwerktreffen",
        "Thematic round / network meeting",
    ),
    EventFormat.LABOUR_MARKET_TALK: ("Arbeitsmarktgespräch", "Labour-market talk (Arbeitsmarktgespräch)"),
    EventFormat.ROLE_MODEL_TALK: ("Fachgespräch „Vorbilder zeigen“", "Expert talk “Showing role models”"),
}

TOPICS = {
    Topic.RECOGNITION_OF_QUALIFICATIONS: (
        "Anerkennung von beruflichen Qualifikationen aus dem Ausland",
        "Recognition of foreign professional qualifications",
    ),
    Topic.LABOUR_MARKET_ACCESS_REFUGEES: (
        "Zugang zum Arbeitsmarkt und Arbeitsförderung für Geflüchtete",
        "Labour-market access and support for refugees",
    ),
    Topic.QUALIFICATION_OPPORTUNITIES: ("Qualifizierungsmöglichkeiten", "Qualification opportunities"),
    Topic.VOLUNTEERS: ("Arbeit mit Ehrenamtlichen", "Working with volunteers"),
    Topic.PROJECT_MANAGEMENT: ("Projektmanagement", "Project management"),
    Topic.PROJECT_FUNDING: ("Finanzierungsmöglichkeiten von Projekten", "Funding for projects"),
    Topic.CONCEPT_DEVELOPMENT: ("Konzeptentwicklung", "Concept development"),
    Topic.PROJECT_ADMINISTRATION: ("Projektverwaltung", "Project administration"),
    Topic.NEEDS_ASSESSMENT: ("Bedarfsanalyse", "Needs assessment"),
    Topic.FOUNDING_AN_ASSOCIATION: (
        "Vereinsgründung und Vereinsführung",
        "Founding and running an association",
    ),
    Topic.ASSOCIATION_AND_LABOUR_LAW: ("Vereins- und Arbeitsrecht", "Association and labour law"),
    Topic.ASSOCIATION_AS_EMPLOYER: ("Der Verein als Arbeitgeber", "The association as employer"),
    Topic.BOOKKEEPING: ("Buchhaltung", "Bookkeeping"),
    Topic.POLITICAL_PARTICIPATION: (
        "Politische Partizipation und Gremienarbeit",
        "Political participation and committee work",
    ),
    Topic.INTERCULTURAL_OPENING: (
        "Interkulturelle Öffnung der Verwaltung",
        "Intercultural opening of the administration",
    ),
    Topic.WELCOME_STRUCTURES: ("Kommunale Willkommensstrukturen", "Local welcome structures"),
}

FUNDING_LINES = {
    FundingLine.SENATE_IKMO: ("Senatsverwaltung (IKMO)", "Senate administration (IKMO)"),
    FundingLine.AMIF: ("AMIF", "AMIF"),
    FundingLine.IQ: ("IQ – Integration durch Qualifizierung", "IQ – Integration through Qualification"),
}

STATUSES = {
    EventStatus.DRAFT: ("Entwurf", "Draft"),
    EventStatus.PUBLISHED: ("veröffentlicht", "published"),
    EventStatus.COMPLETED: ("abgeschlossen", "completed"),
    EventStatus.CANCELLED: ("abgesagt", "cancelled"),
}

REGISTRATION_STATUSES = {
    RegistrationStatus.CONFIRMED: ("bestätigt", "confirmed"),
    RegistrationStatus.WAITLISTED: ("Warteliste", "waitlist"),
    RegistrationStatus.CANCELLED: ("storniert", "cancelled"),
}

# What the public and everyone registered are told about why an event will not take place.
CANCELLATION_REASONS = {
    CancellationReason.SPEAKER_UNAVAILABLE: ("Referent*in verhindert", "Speaker unavailable"),
    CancellationReason.TOO_FEW_REGISTRATIONS: ("Zu wenige Anmeldungen", "Too few registrations"),
    CancellationReason.VENUE_UNAVAILABLE: ("Veranstaltungsort nicht verfügbar", "Venue unavailable"),
    CancellationReason.ORGANISATIONAL: ("Organisatorische Gründe", "Organisational reasons"),
    CancellationReason.FORCE_MAJEURE: ("Höhere Gewalt", "Force majeure"),
    CancellationReason.OTHER: ("Sonstiges", "Other"),
}

VOCABULARY: dict[str, Labels] = {
    "format": FORMATS,
    "topic": TOPICS,
    "funding_line": FUNDING_LINES,
    "status": STATUSES,
    "registration_status": REGISTRATION_STATUSES,
    "cancellation_reason": CANCELLATION_REASONS,
    "district": DISTRICTS,
}


def label(value: StrEnum | str | None, lang: str = "de") -> str:
    """The label of any events vocabulary value in German (default) or English."""
    return label_in(VOCABULARY, value, lang)


def timespan(starts_at: datetime, ends_at: datetime, lang: str = "de") -> str:
    """ "Donnerstag, 12. März 2026, 10:00–16:00 Uhr" (or its English), across days when it lasts longer."""
    start, end = local(starts_at), local(ends_at)
    day = "EEEE, d. MMMM y, HH:mm" if lang == "de" else "EEEE, d MMMM y, HH:mm"
    suffix = " Uhr" if lang == "de" else ""
    first = format_datetime(start, day, locale=lang)
    if end.date() == start.date():
        return f"{first}–{format_time(end, 'HH:mm', locale=lang)}{suffix}"
    return (
        f"{first}{suffix} {'bis' if lang == 'de' else 'to'} {format_datetime(end, day, locale=lang)}{suffix}"
    )


def moment(when: datetime, lang: str = "de") -> str:
    """ "12.03.2026, 10:00 Uhr": a deadline, a time something happened."""
    pattern = "dd.MM.y, HH:mm" if lang == "de" else "d MMM y, HH:mm"
    return format_datetime(local(when), pattern, locale=lang) + (" Uhr" if lang == "de" else "")


def month(when: datetime, lang: str = "de") -> str:
    return format_date(local(when), "LLLL y", locale=lang)


# -- advice and process accompaniment (Beratung, Prozessbegleitung) ------------------------------------------

TOPICS[Topic.VOLUNTARY_SERVICES] = ("Freiwilligendienste (FSJ, BFD)", "Voluntary services (FSJ, BFD)")

CONSULTATION_FORMATS = {
    ConsultationFormat.IN_PERSON: ("vor Ort", "in person"),
    ConsultationFormat.PHONE: ("telefonisch", "by phone"),
    ConsultationFormat.ONLINE: ("online", "online"),
}

ACCOMPANIMENT_OUTCOMES = {
    AccompanimentOutcome.ACHIEVED: ("Ziel erreicht", "goal achieved"),
    AccompanimentOutcome.PARTLY_ACHIEVED: ("Ziel teilweise erreicht", "goal partly achieved"),
    AccompanimentOutcome.ENDED_EARLY: ("vorzeitig beendet", "ended early"),
}

VOCABULARY["consultation_format"] = CONSULTATION_FORMATS
VOCABULARY["accompaniment_outcome"] = ACCOMPANIMENT_OUTCOMES
