"""Events of the directory (Verzeichnis): organisations and how they are connected.

Organisations are not people: their data is public to the platform. People (contact persons) appear in
public events only as pseudonymous references.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from shared.domain import DomainEvent
from shared.personal import personal


class OrganisationKind(StrEnum):
    MO = "mo"  # Migrant*innenorganisation
    REFUGEE_INITIATIVE = "refugee_initiative"  # Geflüchteteninitiative
    DISTRICT_OFFICE = "district_office"  # Bezirksamt
    SPECIALIST_SERVICE = "specialist_service"  # Fachdienst / Regeldienst
    LABOUR_MARKET_ACTOR = "labour_market_actor"  # Jobcenter, Agentur für Arbeit, Kammer, Bildungsträger
    BUSINESS_ALLIANCE = "business_alliance"  # Wirtschaftsbündnis / Wirtschaftskreis
    WELFARE_ASSOCIATION = "welfare_association"  # Wohlfahrtsverband
    PARTNER = "partner"  # VIA, TBB, Club Dialog and other partners


class LegalForm(StrEnum):
    E_V = "e_v"  # eingetragener Verein
    IN_GRUENDUNG = "in_gruendung"  # initiative still being founded
    GGMBH = "ggmbh"
    GMBH = "gmbh"
    EG = "eg"  # Genossenschaft
    STIFTUNG = "stiftung"
    PUBLIC_BODY = "public_body"  # Behörde / Körperschaft des öffentlichen Rechts
    GBR = "gbr"
    NONE = "none"  # informal group without a legal form
    OTHER = "other"


class District(StrEnum):
    """Berlin's twelve districts (Bezirke)."""

    MITTE = "mitte"
    FRIEDRICHSHAIN_KREUZBERG = "friedrichshain_kreuzberg"
    PANKOW = "pankow"
    CHARLOTTENBURG_WILMERSDORF = "charlottenburg_wilmersdorf"
    SPANDAU = "spandau"
    STEGLITZ_ZEHLENDORF = "steglitz_zehlendorf"
    TEMPELHOF_SCHOENEBERG = "tempelhof_schoeneberg"
    NEUKOELLN = "neukoelln"
    TREPTOW_KOEPENICK = "treptow_koepenick"
    MARZAHN_HELLERSDORF = "marzahn_hellersdorf"
    LICHTENBERG = "lichtenberg"
    REINICKENDORF = "reinickendorf"


class FieldOfWork(StrEnum):
    LABOUR_MARKET = "labour_market"  # Arbeitsmarkt
    EDUCATION = "education"  # Bildung
    HEALTH = "health"  # Gesundheit
    UPBRINGING = "upbringing"  # Erziehung / Familie
    ECOLOGY = "ecology"  # Ökologie
    CULTURE = "culture"
    SPORT = "sport"
    YOUTH = "youth"
    WOMEN = "women"
    ELDERLY = "elderly"
    HOUSING = "housing"
    POLITICAL_PARTICIPATION = "political_participation"
    COUNSELLING = "counselling"  # Beratung
    LANGUAGE = "language"  # Sprachförderung
    ANTI_DISCRIMINATION = "anti_discrimination"
    VOLUNTEERING = "volunteering"  # Engagement / Freiwilligendienste


LANGUAGE_CODE = r"^[a-z]{2,3}$"  # ISO 639-1 (or 639-3 where there is no two-letter code)


class OrganisationRegistered(DomainEvent):
    """An organisation was entered into the directory."""

    event_type = "ikmo.directory.organisation.registered"
    organisation_id: str
    name: str
    kind: OrganisationKind
    legal_form: LegalForm
    districts: list[District]
    fields_of_work: list[FieldOfWork]
    languages: list[str] = Field(description="ISO 639 language codes")
    website: str | None
    public_profile: bool = Field(description="The organisation consented to a public profile")


class OrganisationProfileUpdated(DomainEvent):
    """The profile changed; carries the whole new profile and which fields changed."""

    event_type = "ikmo.directory.organisation.profile_updated"
    organisation_id: str
    name: str
    districts: list[District]
    fields_of_work: list[FieldOfWork]
    languages: list[str]
    website: str | None
    public_profile: bool
    changed: list[str]


class OrganisationLegalFormChanged(DomainEvent):
    """E.g. an initiative in founding became a registered association (e.V.)."""

    event_type = "ikmo.directory.organisation.legal_form_changed"
    organisation_id: str
    legal_form: LegalForm
    previous_legal_form: LegalForm


class OrganisationArchived(DomainEvent):
    """The organisation no longer takes part; it stays in history and counts, but joins nothing new."""

    event_type = "ikmo.directory.organisation.archived"
    organisation_id: str
    reason: str | None


class OrganisationMerged(DomainEvent):
    """This record was a duplicate and was merged into `merged_into`, which carries on. It changes and joins
    nothing any more; its history stays readable, and its id now stands for the survivor (follow
    `merged_into`, possibly more than once)."""

    event_type = "ikmo.directory.organisation.merged"
    organisation_id: str = Field(description="The absorbed duplicate")
    merged_into: str = Field(description="The organisation that carries on (the survivor)")
    survivor_name: str
    reason: str | None


class OrganisationDuplicateAbsorbed(DomainEvent):
    """The survivor of a merge took over a duplicate: its districts, fields of work and languages were added
    (and its website, if the survivor had none). Carries the survivor's whole new profile, as
    `profile_updated` does."""

    event_type = "ikmo.directory.organisation.duplicate_absorbed"
    organisation_id: str = Field(description="The survivor")
    absorbed_id: str
    absorbed_name: str
    name: str
    districts: list[District]
    fields_of_work: list[FieldOfWork]
    languages: list[str]
    website: str | None
    public_profile: bool
    changed: list[str]


ORGANISATION_EVENTS: tuple[type[DomainEvent], ...] = (
    OrganisationRegistered,
    OrganisationProfileUpdated,
    OrganisationLegalFormChanged,
    OrganisationArchived,
    OrganisationMerged,
    OrganisationDuplicateAbsorbed,
)


# -- networks (Netzwerke) ----------------------------------------------------------------------------------


class NetworkFounded(DomainEvent):
    """A network of organisations was entered, with the organisations that coordinate it (they are its first
    members)."""

    event_type = "ikmo.directory.network.founded"
    network_id: str
    name: str
    topic: str | None
    coordinators: list[str] = Field(description="Ids of the coordinating organisations")
    founded_on: date


class NetworkMemberJoined(DomainEvent):
    """An organisation joined a network (again, if it had left before)."""

    event_type = "ikmo.directory.network.member_joined"
    network_id: str
    organisation_id: str
    joined_on: date


class NetworkMemberLeft(DomainEvent):
    """An organisation left a network; its membership period ends on `left_on`."""

    event_type = "ikmo.directory.network.member_left"
    network_id: str
    organisation_id: str
    left_on: date


NETWORK_EVENTS: tuple[type[DomainEvent], ...] = (NetworkFounded, NetworkMemberJoined, NetworkMemberLeft)


# -- contact persons (Ansprechpersonen): personal data, sealed per person ----------------------------------


class ContactRole(StrEnum):
    BOARD = "board"  # Vorstand
    STAFF = "staff"  # Hauptamt
    VOLUNTEER = "volunteer"  # Ehrenamt


class ContactPersonRecorded(DomainEvent):
    """Private: a contact person's details, sealed under their own key; never published."""

    event_type = "ikmo.directory.contact.recorded"
    public = False
    personal_subject = "contact_id"
    contact_id: str
    organisation_id: str
    name: str = personal()
    email: str | None = personal(default=None)
    phone: str | None = personal(default=None)


class ContactPersonAssigned(DomainEvent):
    """An organisation has a contact person in this role (pseudonymous: the person appears only by id)."""

    event_type = "ikmo.directory.contact.assigned"
    contact_id: str
    organisation_id: str
    role: ContactRole
    consent: bool = Field(description="The person agreed to be named as the organisation's contact")


class ContactPersonChanged(DomainEvent):
    """A contact person's role or consent changed (pseudonymous: the person appears only by id)."""

    event_type = "ikmo.directory.contact.changed"
    contact_id: str
    organisation_id: str
    role: ContactRole
    consent: bool = Field(description="The person agrees to be named as the organisation's contact")
    changed: list[str] = Field(description="What changed: role, consent")


class ContactPersonRemoved(DomainEvent):
    """The person is no longer a contact of the organisation."""

    event_type = "ikmo.directory.contact.removed"
    contact_id: str
    organisation_id: str


class ContactPersonErased(DomainEvent):
    """The person's data was erased (their key deleted): every copy now reads as erased."""

    event_type = "ikmo.directory.contact.erased"
    contact_id: str
    organisation_id: str


CONTACT_EVENTS: tuple[type[DomainEvent], ...] = (
    ContactPersonRecorded,
    ContactPersonAssigned,
    ContactPersonChanged,
    ContactPersonRemoved,
    ContactPersonErased,
)


# -- mentoring: an established MO accompanies a starting one ------------------------------------------------


class MentoringProposed(DomainEvent):
    """An established organisation was proposed as mentor of a starting one, with focus areas."""

    event_type = "ikmo.directory.mentoring.proposed"
    mentoring_id: str
    mentor_id: str
    mentee_id: str
    focus_areas: list[str]


class MentoringStarted(DomainEvent):
    """Both sides agreed: the mentoring is active."""

    event_type = "ikmo.directory.mentoring.started"
    mentoring_id: str
    started_on: date


class MentoringCompleted(DomainEvent):
    """The mentoring reached its end as planned."""

    event_type = "ikmo.directory.mentoring.completed"
    mentoring_id: str
    ended_on: date


class MentoringEndedEarly(DomainEvent):
    """The mentoring ended before its goal (or never started), with a reason."""

    event_type = "ikmo.directory.mentoring.ended_early"
    mentoring_id: str
    ended_on: date
    reason: str | None


MENTORING_EVENTS: tuple[type[DomainEvent], ...] = (
    MentoringProposed,
    MentoringStarted,
    MentoringCompleted,
    MentoringEndedEarly,
)


# -- cooperations: an MO works with a district office, a specialist service or a labour-market actor ---------

COOPERATION_PARTNER_KINDS = frozenset(
    {
        OrganisationKind.DISTRICT_OFFICE,
        OrganisationKind.SPECIALIST_SERVICE,
        OrganisationKind.LABOUR_MARKET_ACTOR,
    }
)
COOPERATING_KINDS = frozenset({OrganisationKind.MO, OrganisationKind.REFUGEE_INITIATIVE})


class CooperationStarted(DomainEvent):
    """An MO (or refugee initiative) began to cooperate with an administration or service in a field."""

    event_type = "ikmo.directory.cooperation.started"
    cooperation_id: str
    organisation_id: str
    partner_id: str
    field_of_work: FieldOfWork
    started_on: date


class CooperationEnded(DomainEvent):
    """The cooperation ended."""

    event_type = "ikmo.directory.cooperation.ended"
    cooperation_id: str
    ended_on: date


COOPERATION_EVENTS: tuple[type[DomainEvent], ...] = (CooperationStarted, CooperationEnded)


# -- committee seats: MOs represented in district committees (Beiräte, Gremien, Arbeitsgruppen) -------------


class CommitteeKind(StrEnum):
    ADVISORY_BOARD = "advisory_board"  # Beirat (e.g. Integrationsbeirat, Migrationsbeirat)
    COMMITTEE = "committee"  # Gremium / Ausschuss
    WORKING_GROUP = "working_group"  # Arbeitsgruppe / Arbeitskreis


class CommitteeRecorded(DomainEvent):
    """A committee was entered into the directory; without a district it works for all of Berlin."""

    event_type = "ikmo.directory.committee.recorded"
    committee_id: str
    name: str
    kind: CommitteeKind
    district: District | None
    topic: str | None


class CommitteeSeatTaken(DomainEvent):
    """An MO (or refugee initiative) holds a seat in the committee from `taken_on`; its representative
    appears only as the pseudonymous id of one of its contact persons."""

    event_type = "ikmo.directory.committee.seat_taken"
    committee_id: str
    organisation_id: str
    representative_id: str | None = Field(description="Contact person id (pseudonymous), if named")
    taken_on: date


class CommitteeSeatVacated(DomainEvent):
    """The organisation no longer holds its seat; its period ends on `vacated_on`."""

    event_type = "ikmo.directory.committee.seat_vacated"
    committee_id: str
    organisation_id: str
    vacated_on: date


class CommitteeDissolved(DomainEvent):
    """The committee no longer meets; every seat still held ends on `dissolved_on`."""

    event_type = "ikmo.directory.committee.dissolved"
    committee_id: str
    dissolved_on: date


COMMITTEE_EVENTS: tuple[type[DomainEvent], ...] = (
    CommitteeRecorded,
    CommitteeSeatTaken,
    CommitteeSeatVacated,
    CommitteeDissolved,
)


# -- Teilhabecheck (TBB): a participation analysis of one social space, in phases ---------------------------


class TeilhabePhase(StrEnum):
    INVENTORY = "inventory"  # Bestandsaufnahme der Teilhabestrukturen
    MO_TALKS = "mo_talks"  # Gespräche mit MO
    ADMINISTRATION = "administration"  # Austausch mit der Verwaltung
    RECOMMENDATIONS = "recommendations"  # schriftliche Empfehlungen


class Adoption(StrEnum):
    OPEN = "open"
    ADOPTED = "adopted"
    PARTLY = "partly"
    REJECTED = "rejected"


class TeilhabecheckStarted(DomainEvent):
    """TBB began the analysis of one social space in a district."""

    event_type = "ikmo.directory.teilhabecheck.started"
    check_id: str
    district: District
    social_space: str
    started_on: date


class TeilhabeFindingRecorded(DomainEvent):
    """A finding of the phase the analysis is in."""

    event_type = "ikmo.directory.teilhabecheck.finding_recorded"
    check_id: str
    phase: TeilhabePhase
    text: str


class TeilhabePhaseCompleted(DomainEvent):
    """A phase was completed; the next one begins (after the last, the analysis is finished)."""

    event_type = "ikmo.directory.teilhabecheck.phase_completed"
    check_id: str
    phase: TeilhabePhase
    completed_on: date


class TeilhabeRecommendationMade(DomainEvent):
    """A written recommendation, addressed to someone (e.g. the district office)."""

    event_type = "ikmo.directory.teilhabecheck.recommendation_made"
    check_id: str
    recommendation_id: str
    text: str
    addressee: str | None


class TeilhabeRecommendationFollowedUp(DomainEvent):
    """What became of a recommendation: adopted, partly, rejected, or still open."""

    event_type = "ikmo.directory.teilhabecheck.recommendation_followed_up"
    check_id: str
    recommendation_id: str
    adoption: Adoption
    on: date
    note: str | None


TEILHABECHECK_EVENTS: tuple[type[DomainEvent], ...] = (
    TeilhabecheckStarted,
    TeilhabeFindingRecorded,
    TeilhabePhaseCompleted,
    TeilhabeRecommendationMade,
    TeilhabeRecommendationFollowedUp,
)
