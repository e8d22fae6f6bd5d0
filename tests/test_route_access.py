"""Every route of every service is declared public or allowed for named roles, and matches this table.

A new route without a declaration, or with roles other than the table says, fails here: no route can be
left open by accident, and widening access is a visible change to this file.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from shared.auth.access import access_of, iter_routes
from shared.service import create_app
from shared.settings import SERVICE_PORTS, Settings

PUBLIC = "public"
HEALTH = {("GET", "/healthz"): PUBLIC, ("GET", "/readyz"): PUBLIC, ("GET", "/metrics"): PUBLIC}

STAFF = frozenset({"via", "tbb", "cld", "admin"})
STAFF_OR_OWN = STAFF | {"organisation"}
TBB_WRITES = frozenset({"tbb", "admin"})  # the Teilhabecheck is TBB's
VIA_WRITES = frozenset({"via", "admin"})  # the events are VIA's
EVERYONE = frozenset({"via", "tbb", "cld", "senate", "admin", "organisation", "integrator"})

# (method, path) -> allowed roles, or PUBLIC. One table per service.
EXPECTED: dict[str, dict[tuple[str, str], str | frozenset[str]]] = {
    "kernel": {
        **HEALTH,
        ("POST", "/counters/{counter_id}"): frozenset({"via", "tbb"}),
        ("GET", "/counters/{counter_id}"): frozenset({"via", "tbb", "senate"}),
    },
    "directory": {
        **HEALTH,
        ("POST", "/organisations"): STAFF,
        ("GET", "/organisations"): STAFF,
        ("GET", "/organisations/{organisation_id}"): STAFF_OR_OWN,  # own: checked per organisation
        ("PATCH", "/organisations/{organisation_id}"): STAFF_OR_OWN,
        ("POST", "/organisations/{organisation_id}/legal-form"): STAFF_OR_OWN,
        ("POST", "/organisations/{organisation_id}/archive"): STAFF,
        ("GET", "/organisations/{organisation_id}/history"): STAFF_OR_OWN,
        ("GET", "/organisations/{organisation_id}/merge-preview"): STAFF,  # duplicates: partner staff only
        ("POST", "/organisations/{organisation_id}/merge"): STAFF,
        ("GET", "/vocabulary"): EVERYONE,
        ("POST", "/networks"): STAFF,
        ("GET", "/networks"): STAFF,
        ("GET", "/networks/{network_id}"): STAFF,
        ("POST", "/networks/{network_id}/members"): STAFF,
        ("POST", "/networks/{network_id}/members/{organisation_id}/leave"): STAFF,
        ("POST", "/organisations/{organisation_id}/contacts"): STAFF_OR_OWN,
        ("GET", "/organisations/{organisation_id}/contacts"): STAFF_OR_OWN,
        ("PATCH", "/contacts/{contact_id}"): STAFF_OR_OWN,
        ("POST", "/contacts/{contact_id}/remove"): STAFF_OR_OWN,
        ("POST", "/contacts/{contact_id}/erase"): STAFF,
        ("POST", "/mentorings"): STAFF,
        ("GET", "/mentorings"): STAFF,
        ("GET", "/mentorings/{mentoring_id}"): STAFF,
        ("POST", "/mentorings/{mentoring_id}/start"): STAFF,
        ("POST", "/mentorings/{mentoring_id}/complete"): STAFF,
        ("POST", "/mentorings/{mentoring_id}/end-early"): STAFF,
        ("POST", "/cooperations"): STAFF,
        ("GET", "/organisations/{organisation_id}/cooperations"): STAFF_OR_OWN,
        ("POST", "/cooperations/{cooperation_id}/end"): STAFF,
        ("GET", "/organisations/{organisation_id}/partner-suggestions"): STAFF_OR_OWN,
        ("POST", "/committees"): STAFF,
        ("GET", "/committees"): STAFF,
        ("GET", "/committees/{committee_id}"): STAFF,
        ("POST", "/committees/{committee_id}/seats"): STAFF,
        ("POST", "/committees/{committee_id}/seats/{organisation_id}/vacate"): STAFF,
        ("POST", "/committees/{committee_id}/dissolve"): STAFF,
        ("GET", "/organisations/{organisation_id}/committee-seats"): STAFF_OR_OWN,
        ("POST", "/teilhabechecks"): TBB_WRITES,
        ("GET", "/teilhabechecks"): STAFF,
        ("GET", "/teilhabechecks/{check_id}"): STAFF,
        ("POST", "/teilhabechecks/{check_id}/findings"): TBB_WRITES,
        ("POST", "/teilhabechecks/{check_id}/phases/{phase}/complete"): TBB_WRITES,
        ("POST", "/teilhabechecks/{check_id}/recommendations"): TBB_WRITES,
        ("POST", "/teilhabechecks/{check_id}/recommendations/{recommendation_id}/follow-up"): TBB_WRITES,
        # Pages: the same roles as the API they stand beside.
        ("GET", "/"): PUBLIC,  # only a redirect to the list, which asks to sign in
        ("GET", "/verzeichnis"): STAFF_OR_OWN,  # an organisation account: on to its own page
        ("GET", "/verzeichnis/neu"): STAFF,
        ("POST", "/verzeichnis/neu"): STAFF,
        ("GET", "/verzeichnis/{organisation_id}"): STAFF_OR_OWN,
        ("GET", "/verzeichnis/{organisation_id}/bearbeiten"): STAFF_OR_OWN,
        ("POST", "/verzeichnis/{organisation_id}/bearbeiten"): STAFF_OR_OWN,
        ("POST", "/verzeichnis/{organisation_id}/rechtsform"): STAFF_OR_OWN,
        ("GET", "/verzeichnis/{organisation_id}/archivieren"): STAFF,
        ("POST", "/verzeichnis/{organisation_id}/archivieren"): STAFF,
        ("POST", "/verzeichnis/{organisation_id}/ansprechpersonen"): STAFF_OR_OWN,
        ("POST", "/verzeichnis/ansprechpersonen/{contact_id}/aendern"): STAFF_OR_OWN,
        ("POST", "/verzeichnis/ansprechpersonen/{contact_id}/entfernen"): STAFF_OR_OWN,
        ("POST", "/verzeichnis/ansprechpersonen/{contact_id}/loeschen"): STAFF,
        ("POST", "/verzeichnis/{organisation_id}/kooperationen"): STAFF,
        ("POST", "/verzeichnis/kooperationen/{cooperation_id}/beenden"): STAFF,
        ("GET", "/verzeichnis/{organisation_id}/zusammenfuehren"): STAFF,  # merging duplicates
        ("POST", "/verzeichnis/{organisation_id}/zusammenfuehren"): STAFF,
        ("GET", "/oeffentlich/organisationen"): PUBLIC,  # rate limited; only consenting organisations
        ("GET", "/oeffentlich/organisationen.csv"): PUBLIC,
        ("GET", "/oeffentlich/organisationen/{organisation_id}"): PUBLIC,
        ("GET", "/verzeichnis/teilhabechecks"): STAFF,
        ("POST", "/verzeichnis/teilhabechecks"): TBB_WRITES,
        ("GET", "/verzeichnis/teilhabechecks/{check_id}"): STAFF,
        ("POST", "/verzeichnis/teilhabechecks/{check_id}/befund"): TBB_WRITES,
        ("POST", "/verzeichnis/teilhabechecks/{check_id}/phase/{phase}/abschliessen"): TBB_WRITES,
        ("POST", "/verzeichnis/teilhabechecks/{check_id}/empfehlung"): TBB_WRITES,
        ("POST", "/verzeichnis/teilhabechecks/{check_id}/empfehlung/{recommendation_id}/stand"): TBB_WRITES,
        ("GET", "/verzeichnis/begleitungen"): STAFF,
        ("POST", "/verzeichnis/begleitungen"): STAFF,
        ("POST", "/verzeichnis/begleitungen/{mentoring_id}/{step}"): STAFF,
        ("GET", "/verzeichnis/netzwerke"): STAFF,
        ("GET", "/verzeichnis/netzwerke/neu"): STAFF,
        ("POST", "/verzeichnis/netzwerke/neu"): STAFF,
        ("GET", "/verzeichnis/netzwerke/{network_id}"): STAFF,
        ("POST", "/verzeichnis/netzwerke/{network_id}/beitritt"): STAFF,
        ("POST", "/verzeichnis/netzwerke/{network_id}/austritt/{organisation_id}"): STAFF,
        ("GET", "/verzeichnis/gremien"): STAFF,
        ("POST", "/verzeichnis/gremien"): STAFF,
        ("GET", "/verzeichnis/gremien/{committee_id}"): STAFF,
        ("POST", "/verzeichnis/gremien/{committee_id}/sitze"): STAFF,
        ("POST", "/verzeichnis/gremien/{committee_id}/sitze/{organisation_id}/aufgabe"): STAFF,
        ("POST", "/verzeichnis/gremien/{committee_id}/aufloesen"): STAFF,
    },
    "events": {
        **HEALTH,
        ("POST", "/events"): VIA_WRITES,
        ("GET", "/events"): STAFF,
        ("GET", "/events/{event_id}"): STAFF,
        ("PATCH", "/events/{event_id}"): VIA_WRITES,
        ("POST", "/events/{event_id}/capacity"): VIA_WRITES,
        ("POST", "/events/{event_id}/publish"): VIA_WRITES,
        ("POST", "/events/{event_id}/cancel"): VIA_WRITES,
        ("POST", "/events/{event_id}/complete"): VIA_WRITES,
        ("GET", "/events/{event_id}/registrations"): VIA_WRITES,  # personal data: VIA's only
        ("POST", "/events/{event_id}/registrations"): VIA_WRITES,
        ("PATCH", "/events/{event_id}/registrations/{registration_id}"): VIA_WRITES,
        ("POST", "/events/{event_id}/registrations/{registration_id}/cancel"): VIA_WRITES,
        ("POST", "/events/{event_id}/registrations/{registration_id}/erase"): VIA_WRITES,
        ("POST", "/events/{event_id}/registrations/{registration_id}/attendance"): VIA_WRITES,
        ("DELETE", "/events/{event_id}/registrations/{registration_id}/attendance"): VIA_WRITES,
        ("GET", "/events/{event_id}/registrations/{registration_id}/certificate"): VIA_WRITES,
        ("PUT", "/events/{event_id}/registrations/{registration_id}/feedback"): VIA_WRITES,
        ("GET", "/events/{event_id}/feedback"): VIA_WRITES,  # comments may name people: VIA's only
        ("GET", "/notices"): VIA_WRITES,
        ("GET", "/organisations"): STAFF,
        ("GET", "/networks"): STAFF,
        ("GET", "/vocabulary"): EVERYONE,
        # Pages: staff read the calendar; only VIA changes it and sees who registered.
        ("GET", "/"): PUBLIC,  # only a redirect to the list, which asks to sign in
        ("GET", "/veranstaltungen"): STAFF,
        ("GET", "/veranstaltungen/neu"): VIA_WRITES,
        ("POST", "/veranstaltungen/neu"): VIA_WRITES,
        ("GET", "/veranstaltungen/benachrichtigungen"): VIA_WRITES,
        ("GET", "/veranstaltungen/{event_id}"): STAFF,  # registrations shown to VIA only
        ("GET", "/veranstaltungen/{event_id}/bearbeiten"): VIA_WRITES,
        ("POST", "/veranstaltungen/{event_id}/bearbeiten"): VIA_WRITES,
        ("POST", "/veranstaltungen/{event_id}/veroeffentlichen"): VIA_WRITES,
        ("POST", "/veranstaltungen/{event_id}/absagen"): VIA_WRITES,
        ("POST", "/veranstaltungen/{event_id}/abschliessen"): VIA_WRITES,
        ("POST", "/veranstaltungen/{event_id}/plaetze"): VIA_WRITES,
        ("POST", "/veranstaltungen/{event_id}/anmeldungen"): VIA_WRITES,
        ("POST", "/veranstaltungen/{event_id}/anmeldungen/{registration_id}/stornieren"): VIA_WRITES,
        ("POST", "/veranstaltungen/{event_id}/anmeldungen/{registration_id}/loeschen"): VIA_WRITES,
        ("GET", "/veranstaltungen/{event_id}/anmeldungen/{registration_id}/korrigieren"): VIA_WRITES,
        ("POST", "/veranstaltungen/{event_id}/anmeldungen/{registration_id}/korrigieren"): VIA_WRITES,
        ("GET", "/veranstaltungen/{event_id}/einlass"): VIA_WRITES,  # names at the door: VIA's
        ("POST", "/veranstaltungen/{event_id}/einlass"): VIA_WRITES,  # the search without JavaScript
        ("POST", "/veranstaltungen/{event_id}/einlass/{registration_id}"): VIA_WRITES,
        ("POST", "/veranstaltungen/{event_id}/einlass/{registration_id}/zuruecknehmen"): VIA_WRITES,
        ("POST", "/veranstaltungen/{event_id}/rueckmeldungen"): VIA_WRITES,
        # The public calendar, its feed, registration and the personal link: rate limited, no sign-in.
        ("GET", "/oeffentlich/veranstaltungen"): PUBLIC,
        ("GET", "/oeffentlich/veranstaltungen.ics"): PUBLIC,
        ("GET", "/oeffentlich/veranstaltungen/{event_id}"): PUBLIC,
        ("POST", "/oeffentlich/veranstaltungen/{event_id}"): PUBLIC,
        ("GET", "/oeffentlich/anmeldung/{token}"): PUBLIC,
        ("POST", "/oeffentlich/anmeldung/{token}"): PUBLIC,
        ("GET", "/oeffentlich/anmeldung/{token}/teilnahmebescheinigung.pdf"): PUBLIC,  # the link's holder
        ("POST", "/oeffentlich/anmeldung/{token}/rueckmeldung"): PUBLIC,
        # Advice and process accompaniment: staff read the sessions, VIA records them and alone reads
        # who was advised and the minutes.
        ("POST", "/consultations"): VIA_WRITES,
        ("GET", "/consultations"): STAFF,
        ("GET", "/consultations/{consultation_id}"): STAFF,
        ("PATCH", "/consultations/{consultation_id}"): VIA_WRITES,
        ("GET", "/consultations/{consultation_id}/notes"): VIA_WRITES,  # personal data: VIA's only
        ("POST", "/consultations/{consultation_id}/erase"): VIA_WRITES,
        ("POST", "/accompaniments"): VIA_WRITES,
        ("GET", "/accompaniments"): STAFF,
        ("GET", "/accompaniments/{accompaniment_id}"): STAFF,
        ("POST", "/accompaniments/{accompaniment_id}/close"): VIA_WRITES,
        ("GET", "/veranstaltungen/beratungen"): STAFF,
        ("GET", "/veranstaltungen/beratungen/neu"): VIA_WRITES,
        ("POST", "/veranstaltungen/beratungen/neu"): VIA_WRITES,
        ("GET", "/veranstaltungen/beratungen/{consultation_id}"): STAFF,  # person and minutes: VIA only
        ("GET", "/veranstaltungen/beratungen/{consultation_id}/bearbeiten"): VIA_WRITES,
        ("POST", "/veranstaltungen/beratungen/{consultation_id}/bearbeiten"): VIA_WRITES,
        ("POST", "/veranstaltungen/beratungen/{consultation_id}/loeschen"): VIA_WRITES,
        ("GET", "/veranstaltungen/prozessbegleitungen"): STAFF,
        ("POST", "/veranstaltungen/prozessbegleitungen"): VIA_WRITES,
        ("GET", "/veranstaltungen/prozessbegleitungen/{accompaniment_id}"): STAFF,
        ("POST", "/veranstaltungen/prozessbegleitungen/{accompaniment_id}/abschliessen"): VIA_WRITES,
    },
}

# Framework routes that carry no data: the API description and the shared look's static files.
FRAMEWORK_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/static/ikmo"}


def existing_services() -> list[str]:
    root = Path(__file__).resolve().parents[1] / "services"
    return [name for name in SERVICE_PORTS if (root / name / "app.py").exists()]


def build(service: str, tmp_path: Path) -> FastAPI:
    settings = Settings(data_dir=tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / f'{service}.sqlite3'}"
    if service == "kernel":
        from tests.kernel.test_service import definition
    else:
        definition = importlib.import_module(f"services.{service}.app").definition
    return create_app(definition, settings, database_url=url)


def declared(app: FastAPI) -> dict[tuple[str, str], str | frozenset[str]]:
    table: dict[tuple[str, str], str | frozenset[str]] = {}
    for route in iter_routes(app.routes):
        if isinstance(route, APIRoute):
            access, methods = access_of(route), route.methods
            assert methods is not None, f"{route.path} has no methods"  # FastAPI types them Optional
            assert access is not None, f"{sorted(methods)} {route.path} declares no access"
            for method in methods:
                table[(method, route.path)] = (
                    PUBLIC if access.public else frozenset(str(r) for r in access.roles)
                )
        else:
            assert isinstance(route, Route | Mount) and route.path in FRAMEWORK_PATHS, (
                f"unexpected route {route}"
            )
    return table


@pytest.mark.parametrize("service", ["kernel", *existing_services()])
def test_every_route_is_declared_and_matches_the_table(service: str, tmp_path: Path) -> None:
    assert service in EXPECTED, f"add the routes of {service} to EXPECTED"
    assert declared(build(service, tmp_path)) == EXPECTED[service]
