"""docs/events.md lists every published event with its current schema, and no public event is personal."""

from __future__ import annotations

from shared.contracts.catalogue import CATALOGUE, public_events, render, service_definitions
from shared.domain import json_schema_of
from shared.personal import personal_paths


def test_the_catalogue_is_complete_and_current() -> None:
    documented = CATALOGUE.read_text(encoding="utf-8")
    for definition in service_definitions():
        for cls in public_events(definition):
            assert f"### `{cls.event_type}`" in documented, f"{cls.event_type} is missing from docs/events.md"
    assert documented == render(), "docs/events.md is not current: run python -m shared.contracts.catalogue"


def test_no_public_event_schema_has_a_personal_field() -> None:
    for definition in service_definitions():
        for cls in public_events(definition):
            assert personal_paths(json_schema_of(cls)) == [], f"{cls.event_type} carries personal data"


def test_the_directory_publishes_its_organisation_events() -> None:
    types = {cls.event_type for d in service_definitions() for cls in public_events(d)}
    assert {
        "ikmo.directory.organisation.registered",
        "ikmo.directory.organisation.profile_updated",
        "ikmo.directory.organisation.legal_form_changed",
        "ikmo.directory.organisation.archived",
    } <= types
