"""The organisation aggregate, pure: given events, when a command, then events or a clear refusal."""

from __future__ import annotations

import pytest

from services.directory.domain.commands import RegisterOrganisation, UpdateOrganisationProfile
from services.directory.domain.model import Organisation
from shared.contracts.directory import (
    District,
    FieldOfWork,
    LegalForm,
    OrganisationArchived,
    OrganisationKind,
    OrganisationLegalFormChanged,
    OrganisationProfileUpdated,
    OrganisationRegistered,
)
from shared.errors import DomainRuleViolation, InvalidInput

YAAR = RegisterOrganisation(
    name="  Yaar   e.V. ",
    kind=OrganisationKind.MO,
    legal_form=LegalForm.E_V,
    districts=(District.FRIEDRICHSHAIN_KREUZBERG, District.FRIEDRICHSHAIN_KREUZBERG),
    fields_of_work=(FieldOfWork.LABOUR_MARKET, FieldOfWork.COUNSELLING),
    languages=("FA", "ps", "de"),
    website="www.yaar-ev.de",
    public_profile=True,
)


def registered() -> Organisation:
    organisation = Organisation.register("org-1", YAAR)
    return Organisation.rebuild("org-1", organisation.pending_events)


def test_registering_records_a_cleaned_profile() -> None:
    [event] = Organisation.register("org-1", YAAR).pending_events
    assert event == OrganisationRegistered(
        organisation_id="org-1",
        name="Yaar e.V.",
        kind=OrganisationKind.MO,
        legal_form=LegalForm.E_V,
        districts=[District.FRIEDRICHSHAIN_KREUZBERG],
        fields_of_work=[FieldOfWork.LABOUR_MARKET, FieldOfWork.COUNSELLING],
        languages=["fa", "ps", "de"],
        website="https://www.yaar-ev.de",
        public_profile=True,
    )


@pytest.mark.parametrize(
    ("change", "field", "german"),
    [
        ({"name": " x "}, "name", "Der Name muss 2 bis 200 Zeichen haben."),
        ({"name": "y" * 201}, "name", "Der Name muss 2 bis 200 Zeichen haben."),
        ({"districts": ()}, "districts", "Bitte mindestens einen Bezirk auswählen."),
        ({"languages": ("de", "Deutsch")}, "languages", "Kein Sprachcode: deutsch"),
        ({"website": "not a website"}, "website", "Bitte eine Webadresse"),
        ({"website": "ftp://files.example.org"}, "website", "Bitte eine Webadresse"),
    ],
)
def test_bad_input_is_refused_with_a_message_per_field(change: dict, field: str, german: str) -> None:
    from dataclasses import replace

    with pytest.raises(InvalidInput) as info:
        Organisation.register("org-1", replace(YAAR, **change))
    assert info.value.field == field
    assert info.value.message_de.startswith(german)
    assert info.value.message_en


def test_updating_records_the_whole_new_profile_and_what_changed() -> None:
    organisation = registered()
    organisation.update_profile(
        UpdateOrganisationProfile("org-1", districts=(District.NEUKOELLN,), public_profile=False)
    )
    [event] = organisation.pending_events
    assert isinstance(event, OrganisationProfileUpdated)
    assert event.changed == ["districts", "public_profile"]
    assert event.districts == [District.NEUKOELLN] and event.name == "Yaar e.V."
    assert organisation.version == 2


def test_a_change_that_changes_nothing_records_nothing() -> None:
    organisation = registered()
    organisation.update_profile(
        UpdateOrganisationProfile("org-1", name="Yaar e.V.", languages=("fa", "ps", "de"))
    )
    organisation.change_legal_form(LegalForm.E_V)
    organisation.archive("a")
    organisation.archive("again")
    assert [type(e) for e in organisation.pending_events] == [OrganisationArchived]


def test_the_website_can_be_removed() -> None:
    organisation = registered()
    organisation.update_profile(UpdateOrganisationProfile("org-1", clear_website=True))
    [event] = organisation.pending_events
    assert event.website is None and event.changed == ["website"]  # type: ignore[attr-defined]


def test_an_initiative_becomes_a_registered_association() -> None:
    from dataclasses import replace

    organisation = Organisation.register("org-2", replace(YAAR, legal_form=LegalForm.IN_GRUENDUNG))
    organisation = Organisation.rebuild("org-2", organisation.pending_events)
    organisation.change_legal_form(LegalForm.E_V)
    assert organisation.pending_events == [
        OrganisationLegalFormChanged(
            organisation_id="org-2", legal_form=LegalForm.E_V, previous_legal_form=LegalForm.IN_GRUENDUNG
        )
    ]


def test_an_archived_organisation_cannot_be_changed() -> None:
    organisation = registered()
    organisation.archive("Verein aufgelöst")
    with pytest.raises(DomainRuleViolation) as info:
        organisation.update_profile(UpdateOrganisationProfile("org-1", name="Neu"))
    assert "archiviert" in info.value.message_de
    with pytest.raises(DomainRuleViolation):
        organisation.change_legal_form(LegalForm.GGMBH)
