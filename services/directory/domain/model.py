"""The organisation aggregate: its profile, legal form and whether it still takes part.

Rules (with German and English messages, since people read them):
- a name has 2 to 200 characters after trimming; at least one Berlin district;
- languages are ISO 639 codes; a website is an http(s) address (`www.…` is completed to `https://www.…`);
- an archived organisation cannot be changed; neither can one merged into another (domain/merge.py);
- a change that changes nothing records nothing (a form sent twice is harmless).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from services.directory.domain.commands import RegisterOrganisation, UpdateOrganisationProfile
from shared.contracts.directory import (
    LANGUAGE_CODE,
    District,
    FieldOfWork,
    LegalForm,
    OrganisationArchived,
    OrganisationDuplicateAbsorbed,
    OrganisationKind,
    OrganisationLegalFormChanged,
    OrganisationMerged,
    OrganisationProfileUpdated,
    OrganisationRegistered,
)
from shared.domain import Aggregate, DomainEvent
from shared.errors import DomainRuleViolation, InvalidInput

NAME_MIN, NAME_MAX = 2, 200
_WEBSITE = re.compile(r"^https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?$", re.IGNORECASE)
_LANGUAGE = re.compile(LANGUAGE_CODE)


@dataclass(frozen=True)
class Profile:
    name: str
    districts: tuple[District, ...]
    fields_of_work: tuple[FieldOfWork, ...]
    languages: tuple[str, ...]
    website: str | None
    public_profile: bool


def _unique(values: tuple[str, ...] | list[str]) -> tuple:
    return tuple(dict.fromkeys(values))


def valid_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not NAME_MIN <= len(cleaned) <= NAME_MAX:
        raise InvalidInput(
            f"The name must have {NAME_MIN} to {NAME_MAX} characters.",
            f"Der Name muss {NAME_MIN} bis {NAME_MAX} Zeichen haben.",
            field="name",
        )
    return cleaned


def valid_districts(districts: tuple[District, ...]) -> tuple[District, ...]:
    if not districts:
        raise InvalidInput(
            "Choose at least one district.", "Bitte mindestens einen Bezirk auswählen.", field="districts"
        )
    return _unique(districts)


def valid_languages(languages: tuple[str, ...]) -> tuple[str, ...]:
    cleaned = _unique(tuple(code.strip().lower() for code in languages if code.strip()))
    wrong = [code for code in cleaned if not _LANGUAGE.match(code)]
    if wrong:
        raise InvalidInput(
            f"Not a language code: {', '.join(wrong)} (use ISO codes such as de, tr, ar, fa).",
            f"Kein Sprachcode: {', '.join(wrong)} (bitte ISO-Codes wie de, tr, ar, fa verwenden).",
            field="languages",
        )
    return cleaned


def valid_website(website: str | None) -> str | None:
    if website is None or not website.strip():
        return None
    url = website.strip()
    if not re.match(r"^[a-z][a-z0-9+.-]*://", url, re.IGNORECASE):
        url = "https://" + url
    if not _WEBSITE.match(url):
        raise InvalidInput(
            "Enter a web address such as https://www.example.org.",
            "Bitte eine Webadresse wie https://www.beispiel.de angeben.",
            field="website",
        )
    return url


class Organisation(Aggregate):
    stream_prefix = "organisation"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.kind: OrganisationKind | None = None
        self.legal_form: LegalForm | None = None
        self.profile: Profile | None = None
        self.archived = False
        self.merged_into: str | None = None  # set once this record was merged away as a duplicate
        self.merged_into_name = ""
        self.absorbed: tuple[str, ...] = ()  # the duplicates merged into this one

    # -- decisions ---------------------------------------------------------------------------------------

    @classmethod
    def register(cls, organisation_id: str, cmd: RegisterOrganisation) -> Organisation:
        organisation = cls(organisation_id)
        organisation._record(
            OrganisationRegistered(
                organisation_id=organisation_id,
                name=valid_name(cmd.name),
                kind=cmd.kind,
                legal_form=cmd.legal_form,
                districts=list(valid_districts(cmd.districts)),
                fields_of_work=list(_unique(cmd.fields_of_work)),
                languages=list(valid_languages(cmd.languages)),
                website=valid_website(cmd.website),
                public_profile=cmd.public_profile,
            )
        )
        return organisation

    def update_profile(self, cmd: UpdateOrganisationProfile) -> None:
        self._ensure_active()
        assert self.profile is not None
        current = self.profile
        website = (
            None if cmd.clear_website else valid_website(cmd.website) if cmd.website else current.website
        )
        new = replace(
            current,
            name=valid_name(cmd.name) if cmd.name is not None else current.name,
            districts=valid_districts(cmd.districts) if cmd.districts is not None else current.districts,
            fields_of_work=_unique(cmd.fields_of_work)
            if cmd.fields_of_work is not None
            else current.fields_of_work,
            languages=valid_languages(cmd.languages) if cmd.languages is not None else current.languages,
            website=website,
            public_profile=cmd.public_profile if cmd.public_profile is not None else current.public_profile,
        )
        changed = [
            name for name in Profile.__dataclass_fields__ if getattr(new, name) != getattr(current, name)
        ]
        if not changed:
            return
        self._record(
            OrganisationProfileUpdated(
                organisation_id=self.id,
                name=new.name,
                districts=list(new.districts),
                fields_of_work=list(new.fields_of_work),
                languages=list(new.languages),
                website=new.website,
                public_profile=new.public_profile,
                changed=changed,
            )
        )

    def change_legal_form(self, legal_form: LegalForm) -> None:
        self._ensure_active()
        assert self.legal_form is not None
        if legal_form == self.legal_form:
            return
        self._record(
            OrganisationLegalFormChanged(
                organisation_id=self.id, legal_form=legal_form, previous_legal_form=self.legal_form
            )
        )

    def archive(self, reason: str | None) -> None:
        self._ensure_not_merged()
        if self.archived:
            return
        cleaned = " ".join(reason.split()) if reason else None
        self._record(OrganisationArchived(organisation_id=self.id, reason=cleaned or None))

    def merge_into(self, survivor_id: str, survivor_name: str, reason: str | None) -> None:
        """End this record as a duplicate of `survivor_id` (the rules across both are in domain/merge.py)."""
        self._ensure_not_merged()
        cleaned = " ".join(reason.split()) if reason else None
        self._record(
            OrganisationMerged(
                organisation_id=self.id,
                merged_into=survivor_id,
                survivor_name=survivor_name,
                reason=cleaned or None,
            )
        )

    def absorb_duplicate(self, absorbed_id: str, absorbed_name: str, profile: Profile) -> None:
        """Take over a duplicate record with the profile the two make together."""
        self._ensure_active()
        assert self.profile is not None
        changed = [
            name
            for name in Profile.__dataclass_fields__
            if getattr(profile, name) != getattr(self.profile, name)
        ]
        self._record(
            OrganisationDuplicateAbsorbed(
                organisation_id=self.id,
                absorbed_id=absorbed_id,
                absorbed_name=absorbed_name,
                name=profile.name,
                districts=list(profile.districts),
                fields_of_work=list(profile.fields_of_work),
                languages=list(profile.languages),
                website=profile.website,
                public_profile=profile.public_profile,
                changed=changed,
            )
        )

    def _ensure_not_merged(self) -> None:
        if self.merged_into is not None:
            raise DomainRuleViolation(
                f"This record was merged into {self.merged_into_name}; change that one instead.",
                f"Dieser Eintrag wurde mit {self.merged_into_name} zusammengeführt; bitte dort ändern.",
            )

    def _ensure_active(self) -> None:
        self._ensure_not_merged()
        if self.archived:
            raise DomainRuleViolation(
                "This organisation is archived and can no longer be changed.",
                "Diese Organisation ist archiviert und kann nicht mehr geändert werden.",
            )

    # -- state -------------------------------------------------------------------------------------------

    def apply(self, event: DomainEvent) -> None:
        match event:
            case OrganisationRegistered():
                self.kind = event.kind
                self.legal_form = event.legal_form
                self.profile = Profile(
                    name=event.name,
                    districts=tuple(event.districts),
                    fields_of_work=tuple(event.fields_of_work),
                    languages=tuple(event.languages),
                    website=event.website,
                    public_profile=event.public_profile,
                )
            case OrganisationProfileUpdated() | OrganisationDuplicateAbsorbed():
                if isinstance(event, OrganisationDuplicateAbsorbed):
                    self.absorbed = (*self.absorbed, event.absorbed_id)
                self.profile = Profile(
                    name=event.name,
                    districts=tuple(event.districts),
                    fields_of_work=tuple(event.fields_of_work),
                    languages=tuple(event.languages),
                    website=event.website,
                    public_profile=event.public_profile,
                )
            case OrganisationLegalFormChanged():
                self.legal_form = event.legal_form
            case OrganisationArchived():
                self.archived = True
            case OrganisationMerged():
                self.merged_into, self.merged_into_name = event.merged_into, event.survivor_name
