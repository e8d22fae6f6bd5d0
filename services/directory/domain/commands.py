"""Commands: what a person or program asks the directory to do (imperative names)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.contracts.directory import (
    CommitteeKind,
    ContactRole,
    District,
    FieldOfWork,
    LegalForm,
    OrganisationKind,
)


@dataclass(frozen=True)
class RegisterOrganisation:
    name: str
    kind: OrganisationKind
    legal_form: LegalForm
    districts: tuple[District, ...]
    fields_of_work: tuple[FieldOfWork, ...] = ()
    languages: tuple[str, ...] = ()
    website: str | None = None
    public_profile: bool = False
    organisation_id: str | None = None  # chosen by the client (an import, the demo); else a new one


@dataclass(frozen=True)
class UpdateOrganisationProfile:
    """Fields left as None stay as they are."""

    organisation_id: str
    expected_version: int | None = None
    name: str | None = None
    districts: tuple[District, ...] | None = None
    fields_of_work: tuple[FieldOfWork, ...] | None = None
    languages: tuple[str, ...] | None = None
    website: str | None = None
    clear_website: bool = False
    public_profile: bool | None = None


@dataclass(frozen=True)
class ChangeLegalForm:
    organisation_id: str
    legal_form: LegalForm
    expected_version: int | None = None


@dataclass(frozen=True)
class ArchiveOrganisation:
    organisation_id: str
    reason: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class FoundNetwork:
    name: str
    coordinators: tuple[str, ...]
    topic: str | None = None
    founded_on: date | None = None  # today when not given


@dataclass(frozen=True)
class JoinNetwork:
    network_id: str
    organisation_id: str
    joined_on: date | None = None
    expected_version: int | None = None  # the network's version the caller read (If-Match)


@dataclass(frozen=True)
class LeaveNetwork:
    network_id: str
    organisation_id: str
    left_on: date | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class AddContactPerson:
    organisation_id: str
    name: str
    role: ContactRole
    consent: bool
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class RecordCommittee:
    name: str
    kind: CommitteeKind
    district: District | None = None  # None: a committee for all of Berlin
    topic: str | None = None


@dataclass(frozen=True)
class TakeSeat:
    committee_id: str
    organisation_id: str
    representative_id: str | None = None  # one of the organisation's contact persons
    taken_on: date | None = None  # today when not given
    expected_version: int | None = None


@dataclass(frozen=True)
class VacateSeat:
    committee_id: str
    organisation_id: str
    vacated_on: date | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class DissolveCommittee:
    committee_id: str
    dissolved_on: date | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class ChangeContact:
    """A contact person's new role or consent; None stays as it is."""

    contact_id: str
    role: ContactRole | None = None
    consent: bool | None = None
    expected_version: int | None = None
