"""German and English labels for every value people choose from (the API's /vocabulary, the pages)."""

from __future__ import annotations

from enum import StrEnum

from shared.contracts.directory import (
    CommitteeKind,
    ContactRole,
    FieldOfWork,
    LegalForm,
    OrganisationKind,
)
from shared.web.vocabulary import DISTRICTS, Labels, label_in

KINDS = {
    OrganisationKind.MO: ("Migrant*innenorganisation (MO)", "Migrant organisation (MO)"),
    OrganisationKind.REFUGEE_INITIATIVE: ("Geflüchteteninitiative", "Refugee initiative"),
    OrganisationKind.DISTRICT_OFFICE: ("Bezirksamt", "District office"),
    OrganisationKind.SPECIALIST_SERVICE: ("Fachdienst / Regeldienst", "Specialist service"),
    OrganisationKind.LABOUR_MARKET_ACTOR: ("Arbeitsmarktakteur", "Labour-market actor"),
    OrganisationKind.BUSINESS_ALLIANCE: ("Wirtschaftsbündnis", "Business alliance"),
    OrganisationKind.WELFARE_ASSOCIATION: ("Wohlfahrtsverband", "Welfare association"),
    OrganisationKind.PARTNER: ("Partner", "Partner"),
}

LEGAL_FORMS = {
    LegalForm.E_V: ("eingetragener Verein (e.V.)", "Registered association (e.V.)"),
    LegalForm.IN_GRUENDUNG: ("in Gründung", "Being founded"),
    LegalForm.GGMBH: ("gGmbH", "Non-profit limited company (gGmbH)"),
    LegalForm.GMBH: ("GmbH", "Limited company (GmbH)"),
    LegalForm.EG: ("Genossenschaft (eG)", "Cooperative (eG)"),
    LegalForm.STIFTUNG: ("Stiftung", "Foundation"),
    LegalForm.PUBLIC_BODY: ("Behörde / Körperschaft des öffentlichen Rechts", "Public body"),
    LegalForm.GBR: ("GbR", "Civil-law partnership (GbR)"),
    LegalForm.NONE: ("ohne Rechtsform", "No legal form"),
    LegalForm.OTHER: ("andere", "Other"),
}

FIELDS_OF_WORK = {
    FieldOfWork.LABOUR_MARKET: ("Arbeitsmarkt", "Labour market"),
    FieldOfWork.EDUCATION: ("Bildung", "Education"),
    FieldOfWork.HEALTH: ("Gesundheit", "Health"),
    FieldOfWork.UPBRINGING: ("Erziehung und Familie", "Upbringing and family"),
    FieldOfWork.ECOLOGY: ("Ökologie", "Ecology"),
    FieldOfWork.CULTURE: ("Kultur", "Culture"),
    FieldOfWork.SPORT: ("Sport", "Sport"),
    FieldOfWork.YOUTH: ("Jugend", "Youth"),
    FieldOfWork.WOMEN: ("Frauen", "Women"),
    FieldOfWork.ELDERLY: ("Ältere Menschen", "Older people"),
    FieldOfWork.HOUSING: ("Wohnen", "Housing"),
    FieldOfWork.POLITICAL_PARTICIPATION: ("Politische Teilhabe", "Political participation"),
    FieldOfWork.COUNSELLING: ("Beratung", "Counselling"),
    FieldOfWork.LANGUAGE: ("Sprachförderung", "Language learning"),
    FieldOfWork.ANTI_DISCRIMINATION: ("Antidiskriminierung", "Anti-discrimination"),
    FieldOfWork.VOLUNTEERING: ("Engagement und Freiwilligendienste", "Volunteering"),
}

# The languages people in Berlin's MO landscape ask for most; any ISO 639 code is accepted.
LANGUAGES = {
    "de": ("Deutsch", "German"),
    "en": ("Englisch", "English"),
    "tr": ("Türkisch", "Turkish"),
    "ar": ("Arabisch", "Arabic"),
    "fa": ("Persisch (Farsi/Dari)", "Persian (Farsi/Dari)"),
    "ps": ("Paschtu", "Pashto"),
    "ku": ("Kurdisch", "Kurdish"),
    "ru": ("Russisch", "Russian"),
    "uk": ("Ukrainisch", "Ukrainian"),
    "pl": ("Polnisch", "Polish"),
    "vi": ("Vietnamesisch", "Vietnamese"),
    "fr": ("Französisch", "French"),
    "es": ("Spanisch", "Spanish"),
    "ti": ("Tigrinya", "Tigrinya"),
    "so": ("Somali", "Somali"),
    "bs": ("Bosnisch", "Bosnian"),
    "sr": ("Serbisch", "Serbian"),
    "ro": ("Rumänisch", "Romanian"),
}

CONTACT_ROLES = {
    ContactRole.BOARD: ("Vorstand", "Board"),
    ContactRole.STAFF: ("Hauptamt", "Staff"),
    ContactRole.VOLUNTEER: ("Ehrenamt", "Volunteer"),
}

COMMITTEE_KINDS = {
    CommitteeKind.ADVISORY_BOARD: ("Beirat", "Advisory board"),
    CommitteeKind.COMMITTEE: ("Gremium", "Committee"),
    CommitteeKind.WORKING_GROUP: ("Arbeitsgruppe", "Working group"),
}

VOCABULARY: dict[str, Labels] = {
    "kind": KINDS,
    "legal_form": LEGAL_FORMS,
    "district": DISTRICTS,
    "field_of_work": FIELDS_OF_WORK,
    "language": LANGUAGES,
    "contact_role": CONTACT_ROLES,
    "committee_kind": COMMITTEE_KINDS,
}


def label(value: StrEnum | str | None, lang: str = "de") -> str:
    """The label of any directory vocabulary value in German (default) or English."""
    return label_in(VOCABULARY, value, lang)
