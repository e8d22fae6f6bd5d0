"""Correcting a registration: staff put right a typo in the name (it goes on the certificate), a mistyped
address (it gets the notices, and the confirmation again), the phone or the organisation. Checked as a
registration is; refused for someone erased (409), an unknown registration (404) and an address another
active registration of the event has (409); nothing recorded when nothing changed. The corrected details
are sealed like the registration's (never in plain text at rest, never on the bus), the certificate and the
staff pages show them, and a rebuild of the read model gives the same. A correction made against an
event that changed since it was read (a stale If-Match, a form opened before someone else's save) is a
409 with nothing appended."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.events import handlers
from services.events.domain.commands import CorrectRegistration
from services.events.domain.model import Event, token_hash
from services.events.domain.notices import NoticeKind, notices_for
from services.events.projections import CalendarProjection
from services.events.tests.conftest import Directory, seminar
from services.events.tests.test_api import fields_of, log_size, published, register
from services.events.tests.test_attendance_api import HTML, event_with_people, flash_cookie
from services.events.tests.test_certificate import text_of
from services.events.tests.test_demo_and_rebuild import snapshot
from services.events.tests.test_domain import BEFORE, person
from services.events.tests.test_domain import published as published_event
from services.events.tests.test_public import link_of
from shared.auth.principal import Role
from shared.contracts.events import (
    CancelledBy,
    RegistrationCorrected,
    RegistrationOrganisationCorrected,
)
from shared.domain import DomainEvent
from shared.errors import DomainRuleViolation, InvalidInput, NotFound
from shared.personal import personal_fields
from shared.platform.natsserver import NatsServer
from shared.projections import rebuild
from shared.store import EventStore
from shared.testing import Tokens, eventually, found_at_rest, stream_messages

CORRECTED = "Ləman Qasımova-Həsənli"  # Azerbaijani: printed by the bundled DejaVu
CORRECTED_EMAIL = "leman.qasimova@beispielverein.example"


def with_two() -> Event:
    event = published_event(capacity=2)
    event.register(person(1), BEFORE)
    event.register(person(2), BEFORE)
    event.mark_saved()
    return event


def correct(event: Event, registration_id: str = "r1", **changes: str | None) -> list[str]:
    """As the handler does it: with a fresh secret for the link, taken only if the address changes."""
    fresh = f"neu-{registration_id}-{len(event.pending_events)}"
    return event.correct_registration(CorrectRegistration("e1", registration_id, changes, cancel_token=fresh))


# -- the rules, in the aggregate ----------------------------------------------------------------------------


def test_a_correction_records_the_whole_corrected_details_sealed_and_what_changed() -> None:
    event = with_two()
    assert correct(event, name="  Ləman   Qasımova ", phone="+49 30 1234567") == ["name", "phone"]
    [recorded] = event.pending_events
    assert isinstance(recorded, RegistrationCorrected) and not recorded.public
    assert (recorded.name, recorded.email, recorded.phone) == (
        "Ləman Qasımova",  # cleaned as at registration
        "person1@verein.example",
        "+49 30 1234567",
    )
    assert recorded.changed == ["name", "phone"]
    again = Event.rebuild("e1", _history(event))
    assert again.registrations["r1"].name == "Ləman Qasımova" and again.registrations["r1"].phone


def _history(event: Event) -> list[DomainEvent]:
    """The events an aggregate was made of, as a reload from the log would hand them back."""
    fresh = published_event(capacity=2)
    fresh.register(person(1), BEFORE)
    fresh.register(person(2), BEFORE)
    return [*fresh.pending_events, *event.pending_events]


def test_a_new_address_gets_a_new_link_and_the_old_one_finds_nothing_a_new_name_keeps_it() -> None:
    event = with_two()
    old = event.registrations["r1"].cancel_token
    correct(event, name="Person Eins")
    assert event.registrations["r1"].cancel_token == old  # the address had the link already
    assert event.registration_by_token(old) is event.registrations["r1"]
    correct(event, email=CORRECTED_EMAIL)
    named, moved = event.pending_events
    assert isinstance(named, RegistrationCorrected) and named.cancel_token is None
    assert named.cancel_token_hash is None
    assert isinstance(moved, RegistrationCorrected) and moved.cancel_token
    assert moved.cancel_token_hash == token_hash(moved.cancel_token)
    assert "cancel_token" in personal_fields(RegistrationCorrected)  # sealed like the first token
    assert event.registration_by_token(old) is None  # the mistyped address's link finds nothing
    assert event.registration_by_token(moved.cancel_token) is event.registrations["r1"]
    again = Event.rebuild("e1", _history(event))
    assert again.registration_by_token(old) is None
    assert again.registration_by_token(moved.cancel_token) is again.registrations["r1"]
    with pytest.raises(ValueError, match="new secret"):  # the handler always hands one in
        event.correct_registration(CorrectRegistration("e1", "r2", {"email": "zwei@verein.example"}))


def test_nothing_is_recorded_when_nothing_changed() -> None:
    event = with_two()
    assert correct(event, name="Person 1", email="person1@verein.example", phone=None) == []
    assert event.pending_events == []


@pytest.mark.parametrize(
    ("changes", "field", "german"),
    [
        ({"name": "A"}, "name", "Bitte geben Sie Ihren Namen an (mindestens 2 Zeichen)."),
        ({"name": "x" * 201}, "name", "Bitte höchstens 200 Zeichen."),
        ({"email": "person1 at verein"}, "email", "Bitte eine E-Mail-Adresse wie name@beispiel.de angeben."),
        ({"email": "a@b.example, c@d.example"}, "email", "Bitte eine E-Mail-Adresse wie"),
        ({"phone": "call me"}, "phone", "Bitte eine Telefonnummer aus Ziffern angeben"),
    ],
)
def test_the_corrected_details_are_checked_as_a_registration_is(
    changes: dict[str, str], field: str, german: str
) -> None:
    event = with_two()
    with pytest.raises(InvalidInput) as refused:
        correct(event, **changes)
    assert refused.value.field == field and refused.value.message_de.startswith(german)
    assert event.pending_events == []


def test_an_address_another_active_registration_has_is_refused_as_a_second_registration() -> None:
    event = with_two()
    with pytest.raises(DomainRuleViolation) as refused:
        correct(event, email=" Person2@Verein.example ")
    assert "schon angemeldet und hat einen Platz" in refused.value.message_de
    assert "already registered with this e-mail address" in refused.value.message_en
    # the registration's own address in other letters is no duplicate, and a cancelled one frees it
    assert correct(event, email="PERSON1@verein.example") == ["email"]
    event.cancel_registration("r2", CancelledBy.STAFF, BEFORE)
    assert correct(event, email="person2@verein.example") == ["email"]


def test_someone_erased_or_unknown_is_not_corrected_a_cancelled_registration_is() -> None:
    event = with_two()
    event.erase_registration("r2", BEFORE)
    with pytest.raises(DomainRuleViolation) as refused:
        correct(event, "r2", name="Person Zwei")
    assert refused.value.status_code == 409 and "gelöscht" in refused.value.message_de
    assert "erased" in refused.value.message_en
    with pytest.raises(NotFound):
        correct(event, "r9", name="Person Neun")
    event.cancel_registration("r1", CancelledBy.STAFF, BEFORE)
    assert correct(event, name="Person Eins") == ["name"]


def test_a_new_organisation_is_public_the_personal_details_are_not() -> None:
    event = with_two()
    assert correct(event, organisation_id="o-2") == ["organisation_id"]
    [recorded] = event.pending_events
    assert isinstance(recorded, RegistrationOrganisationCorrected) and recorded.public
    assert (recorded.organisation_id, recorded.previous_organisation_id) == ("o-2", None)
    assert event.registrations["r1"].organisation_id == "o-2"


def test_a_corrected_address_gets_the_confirmation_or_the_waitlist_notice_again() -> None:
    event = published_event(capacity=1)
    event.register(person(1), BEFORE)
    event.register(person(2), BEFORE)
    event.mark_saved()
    correct(event, "r1", email="eins@verein.example")
    correct(event, "r2", email="zwei@verein.example")
    correct(event, "r2", name="Person Zwei")  # a new name alone: no mail
    due = notices_for(event, event.pending_events)
    assert [(d.kind, d.registration_id, d.position) for d in due] == [
        (NoticeKind.CONFIRMATION, "r1", None),
        (NoticeKind.WAITLIST, "r2", 1),
    ]
    assert event.registrations["r1"].email == "eins@verein.example"


# -- through the API ----------------------------------------------------------------------------------------


async def test_the_certificate_shows_the_corrected_name_and_the_list_the_corrected_details(
    client: httpx.AsyncClient, directory: Directory
) -> None:
    yaar = await directory.organisation("Yaar e.V.")
    event_id, (first, _second) = await event_with_people(client, people=2, title="Vereinsrecht kompakt")
    url = f"/events/{event_id}/registrations"
    await client.post(f"{url}/{first}/attendance")
    before = text_of((await client.get(f"{url}/{first}/certificate")).content)
    assert "Person 1" in before

    corrected = await client.patch(
        f"{url}/{first}",
        json={
            "name": CORRECTED,
            "email": CORRECTED_EMAIL,
            "phone": "+49 30 1234567",
            "organisation_id": yaar,
        },
    )
    assert corrected.status_code == 200, corrected.text
    shown = corrected.json()
    assert (shown["name"], shown["email"], shown["phone"], shown["organisation_name"]) == (
        CORRECTED,
        CORRECTED_EMAIL,
        "+49 30 1234567",
        "Yaar e.V.",
    )
    assert shown["attended"] and shown["status"] == "confirmed"  # nothing else moved
    pdf = text_of((await client.get(f"{url}/{first}/certificate")).content)
    assert CORRECTED in pdf and "Yaar e.V." in pdf and "Person 1" not in pdf

    cleared = await client.patch(f"{url}/{first}", json={"phone": None, "organisation_id": None})
    assert (cleared.json()["phone"], cleared.json()["organisation_id"]) == (None, None)
    assert cleared.json()["name"] == CORRECTED  # what was not sent stays


async def test_a_name_no_font_prints_is_corrected_and_then_the_certificate_is_printed(
    client: httpx.AsyncClient,
) -> None:
    event_id, _none = await event_with_people(client, people=0, title="Vereinsrecht kompakt")
    made = await register(client, event_id, 1, name="陈\U0002000b", email="chen@verein.example")
    registration = made.json()["registration_id"]
    url = f"/events/{event_id}/registrations/{registration}"
    await client.post(f"{url}/attendance")
    assert (await client.get(f"{url}/certificate")).status_code == 409
    assert (await client.patch(url, json={"name": "Chen Jing"})).status_code == 200
    printed = await client.get(f"{url}/certificate")
    assert printed.status_code == 200 and "Chen Jing" in text_of(printed.content)


async def test_a_corrected_address_is_sent_the_confirmation_with_the_personal_link(
    client: httpx.AsyncClient,
) -> None:
    event = await published(client)
    first = (await register(client, event["id"], 1)).json()["registration_id"]
    await client.patch(f"/events/{event['id']}/registrations/{first}", json={"email": CORRECTED_EMAIL})
    theirs = [n for n in (await client.get("/notices")).json() if n["registration_id"] == first]
    assert [(n["kind"], n["recipient"]) for n in theirs] == [
        ("confirmation", f"Person 1 <{CORRECTED_EMAIL}>"),
        ("confirmation", "Person 1 <person1@verein.example>"),
    ]  # newest first: the corrected address got the confirmation (and with it the link) again
    assert "/oeffentlich/anmeldung/" in theirs[0]["body"]


async def test_after_a_new_address_only_the_new_link_opens_the_registration_after_a_new_name_the_old(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    event = await published(client)
    first = (await register(client, event["id"], 1)).json()["registration_id"]
    url = f"/events/{event['id']}/registrations/{first}"
    old = await link_of(client, "person1@verein.example")
    assert (await client.patch(url, json={"name": "Person Eins"})).status_code == 200
    kept = await client.get(old)  # the name alone: the address had the link, it stays
    assert kept.status_code == 200 and "Person Eins" in kept.text

    assert (await client.patch(url, json={"name": CORRECTED, "email": CORRECTED_EMAIL})).status_code == 200
    new = await link_of(client, CORRECTED_EMAIL)  # from the confirmation sent again
    assert new != old
    for what in (old, f"{old}/teilnahmebescheinigung.pdf"):
        gone = await client.get(what)  # the mistyped address, maybe a stranger's, sees nothing more
        assert gone.status_code == 404 and "nicht (mehr) gültig" in gone.text
        assert CORRECTED not in gone.text and "Person Eins" not in gone.text
    refused = await client.post(old)  # nor cancels
    assert refused.status_code == 404
    opened = await client.get(new)
    assert opened.status_code == 200 and CORRECTED in opened.text

    before = await snapshot(engine)
    await rebuild(engine, EventStore(), CalendarProjection())
    assert await snapshot(engine) == before
    assert (await client.get(old)).status_code == 404
    assert (await client.get(new)).status_code == 200
    cancelled = await client.post(new)
    assert cancelled.status_code == 303
    people = (await client.get(f"/events/{event['id']}/registrations")).json()
    assert people[0]["status"] == "cancelled"


async def test_bad_input_is_a_422_per_field_and_nothing_is_appended(
    client: httpx.AsyncClient, engine: AsyncEngine, directory: Directory
) -> None:
    event = await published(client)
    first = (await register(client, event["id"], 1)).json()["registration_id"]
    url = f"/events/{event['id']}/registrations/{first}"
    size = await log_size(engine)
    for body, field, german in (
        ({"name": "A"}, "name", "mindestens 2 Zeichen"),
        ({"name": ""}, "name", "Bitte füllen Sie dieses Feld aus."),
        ({"email": "person1 at verein"}, "email", "E-Mail-Adresse wie name@beispiel.de"),
        ({"phone": "call me"}, "phone", "Telefonnummer aus Ziffern"),
        (
            {"organisation_id": "nowhere"},
            "organisation_id",
            "Diese Organisation gibt es im Verzeichnis nicht",
        ),
        ({"registered_at": "yesterday"}, "registered_at", "Dieses Feld ist unbekannt."),
    ):
        response = await client.patch(url, json=body)
        assert response.status_code == 422, (body, response.text)
        assert german in fields_of(response)[field], (body, response.json())
        assert response.json()["fields"][0]["message"]  # and in English
    archived = await directory.organisation("Alter Verein e.V.")
    await directory.archive(archived)
    response = await client.patch(url, json={"organisation_id": archived})
    assert response.status_code == 422 and "archiviert" in fields_of(response)["organisation_id"]
    unchanged = await client.patch(url, json={"name": "Person 1", "email": "person1@verein.example"})
    assert unchanged.status_code == 200
    assert await log_size(engine) == size


async def test_unknown_is_404_erased_and_a_taken_address_are_409(client: httpx.AsyncClient) -> None:
    event = await published(client)
    first = (await register(client, event["id"], 1)).json()["registration_id"]
    second = (await register(client, event["id"], 2)).json()["registration_id"]
    url = f"/events/{event['id']}/registrations"
    unknown = await client.patch(f"{url}/nobody", json={"name": "Niemand"})
    assert unknown.status_code == 404 and "gibt es nicht" in unknown.json()["message_de"]
    no_event = await client.patch(f"/events/nothing/registrations/{first}", json={"name": "Niemand"})
    assert no_event.status_code == 404
    taken = await client.patch(f"{url}/{second}", json={"email": "person1@verein.example"})
    assert taken.status_code == 409
    assert "schon angemeldet und hat einen Platz" in taken.json()["message_de"]
    await client.post(f"{url}/{first}/erase")
    erased = await client.patch(f"{url}/{first}", json={"name": "Person Eins"})
    assert erased.status_code == 409 and "gelöscht" in erased.json()["message_de"]
    assert "erased" in erased.json()["message"]


async def test_only_via_corrects(client: httpx.AsyncClient, tokens: Tokens) -> None:
    event = await published(client)
    first = (await register(client, event["id"], 1)).json()["registration_id"]
    for role in (Role.TBB, Role.CLD, Role.SENATE, Role.ORGANISATION):
        response = await client.patch(
            f"/events/{event['id']}/registrations/{first}", json={"name": "X Y"}, headers=tokens.headers(role)
        )
        assert response.status_code == 403, role


async def test_a_correction_with_a_stale_if_match_is_a_409_and_one_with_the_current_etag_is_saved(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    """If-Match as on the event's other routes (a registration is part of its event): a correction
    read before someone else's is refused and appends nothing; the answer's ETag is the event's new one;
    no header means no check."""
    event = await published(client)
    first = (await register(client, event["id"], 1)).json()["registration_id"]
    url = f"/events/{event['id']}/registrations/{first}"
    seen = (await client.get(f"/events/{event['id']}")).headers["ETag"]
    other = await client.patch(url, json={"name": "Person Eins"}, headers={"If-Match": seen})
    assert other.status_code == 200, other.text
    current = (await client.get(f"/events/{event['id']}")).headers["ETag"]
    assert other.headers["ETag"] == current != seen

    size = await log_size(engine)
    stale = await client.patch(url, json={"name": CORRECTED}, headers={"If-Match": seen})
    assert stale.status_code == 409, stale.text
    assert "inzwischen geändert" in stale.json()["message_de"] and "meanwhile" in stale.json()["message"]
    assert await log_size(engine) == size
    fresh = await client.patch(url, json={"name": CORRECTED}, headers={"If-Match": current})
    assert fresh.status_code == 200 and fresh.json()["name"] == CORRECTED
    assert fresh.headers["ETag"] == (await client.get(f"/events/{event['id']}")).headers["ETag"] != current
    bad = await client.patch(url, json={"phone": None}, headers={"If-Match": "drei"})
    assert bad.status_code == 422 and "If-Match muss die Version" in fields_of(bad)["If-Match"]
    unchecked = await client.patch(url, json={"phone": "+49 30 1234567"})
    assert unchecked.status_code == 200 and unchecked.headers["ETag"]


async def test_the_corrected_details_are_sealed_at_rest_off_the_bus_and_rebuilt_the_same(
    client: httpx.AsyncClient,
    engine: AsyncEngine,
    nats_server: NatsServer,
    directory: Directory,
    tmp_path: Path,
) -> None:
    yaar = await directory.organisation("Yaar e.V.")
    event = await published(client)
    first = (await register(client, event["id"], 1)).json()["registration_id"]
    body = {"name": CORRECTED, "email": CORRECTED_EMAIL, "phone": "+49 30 98765432", "organisation_id": yaar}
    assert (await client.patch(f"/events/{event['id']}/registrations/{first}", json=body)).status_code == 200

    async def relayed() -> list:
        messages = await stream_messages(nats_server.url, "IKMO_EVENTS")
        return messages if any(h["ce-type"].endswith("organisation_corrected") for h, _ in messages) else []

    messages = await eventually(relayed)  # the public part of the same append: the bus has had its share
    types = [h["ce-type"] for h, _ in messages]
    assert "ikmo.events.registration.corrected" not in types
    [(_, payload)] = [(h, p) for h, p in messages if h["ce-type"].endswith("organisation_corrected")]
    assert json.loads(payload) == {
        "event_id": event["id"],
        "registration_id": first,
        "organisation_id": yaar,
        "previous_organisation_id": None,
    }
    new_link = await link_of(client, CORRECTED_EMAIL)
    new_token = new_link.rsplit("/", 1)[-1]
    assert all(new_token.encode() not in p and new_token not in str(h) for h, p in messages)
    for secret in (CORRECTED, CORRECTED_EMAIL, "98765432", "Qasımova", new_token):
        assert await found_at_rest(secret, tmp_path, engine) == [], secret

    before = await snapshot(engine)
    await rebuild(engine, EventStore(), CalendarProjection())
    assert await snapshot(engine) == before
    people = (await client.get(f"/events/{event['id']}/registrations")).json()
    assert (people[0]["name"], people[0]["organisation_name"]) == (CORRECTED, "Yaar e.V.")


# -- the staff page -----------------------------------------------------------------------------------------


def error_beside(page: str, field: str) -> str:
    """The text of the error shown beside a field of the form."""
    start = page.index(f'id="f-{field}-error"')
    return page[start : page.index("</p>", start)]


async def test_staff_correct_a_registration_on_its_form_and_get_back_to_the_event(
    client: httpx.AsyncClient, engine: AsyncEngine, directory: Directory
) -> None:
    yaar = await directory.organisation("Yaar e.V.")
    event = await published(client)
    first = (await register(client, event["id"], 1, organisation_id=yaar)).json()["registration_id"]
    await register(client, event["id"], 2)
    german = {**HTML, "Cookie": "ikmo_lang=de"}
    page = await client.get(f"/veranstaltungen/{event['id']}", headers=german)
    form_url = f"/veranstaltungen/{event['id']}/anmeldungen/{first}/korrigieren"
    assert f'href="{form_url}"' in page.text and "Angaben korrigieren" in page.text
    assert page.text.count("Angaben korrigieren") == 2  # beside each of the two people

    form = await client.get(form_url, headers=german)
    assert form.status_code == 200 and "<h1>Angaben korrigieren</h1>" in form.text
    for current in ('value="Person 1"', 'value="person1@verein.example"', f'value="{yaar}" selected'):
        assert current in form.text, current

    size = await log_size(engine)
    typed = {"name": CORRECTED, "email": "leman at verein", "phone": "", "organisation_id": yaar}
    refused = await client.post(form_url, data=typed, headers=german)
    assert refused.status_code == 422
    assert "E-Mail-Adresse wie name@beispiel.de" in error_beside(refused.text, "email")
    assert f'value="{CORRECTED}"' in refused.text and 'value="leman at verein"' in refused.text  # kept
    taken = await client.post(form_url, data={**typed, "email": "person2@verein.example"}, headers=german)
    assert taken.status_code == 409 and "schon angemeldet" in error_beside(taken.text, "email")
    assert await log_size(engine) == size

    saved = await client.post(form_url, data={**typed, "email": CORRECTED_EMAIL}, headers=german)
    assert saved.status_code == 303 and saved.headers["location"] == f"/veranstaltungen/{event['id']}"
    assert "an die neue E-Mail-Adresse geht die Bestätigung noch einmal" in flash_cookie(saved)
    assert CORRECTED not in flash_cookie(saved)  # the flash cookie carries no personal data
    page = await client.get(f"/veranstaltungen/{event['id']}", headers=german)
    assert CORRECTED in page.text and CORRECTED_EMAIL in page.text and "Person 1" not in page.text

    again = await client.post(form_url, data={**typed, "email": CORRECTED_EMAIL}, headers=german)
    assert again.status_code == 303 and "Es wurde nichts geändert" in flash_cookie(again)
    cleared = await client.post(form_url, data={**typed, "email": CORRECTED_EMAIL, "organisation_id": ""})
    assert cleared.status_code == 303 and "Die Angaben sind korrigiert." in flash_cookie(cleared)
    people = (await client.get(f"/events/{event['id']}/registrations")).json()
    assert next(p for p in people if p["id"] == first)["organisation_id"] is None

    english = await client.get(form_url, headers={**HTML, "Cookie": "ikmo_lang=en"})
    assert "<h1>Correct details</h1>" in english.text and "Save corrections" in english.text


async def test_the_form_keeps_an_archived_organisation_and_refuses_someone_erased(
    client: httpx.AsyncClient, directory: Directory
) -> None:
    old = await directory.organisation("Alter Verein e.V.")
    event = await published(client)
    first = (await register(client, event["id"], 1, organisation_id=old)).json()["registration_id"]
    await directory.archive(old)
    form_url = f"/veranstaltungen/{event['id']}/anmeldungen/{first}/korrigieren"
    form = await client.get(form_url, headers=HTML)
    assert f'value="{old}" selected' in form.text  # not silently emptied by saving a typo in the name
    saved = await client.post(
        form_url, data={"name": "Person Eins", "email": "person1@verein.example", "organisation_id": old}
    )
    assert saved.status_code == 303
    people = (await client.get(f"/events/{event['id']}/registrations")).json()
    assert (people[0]["name"], people[0]["organisation_id"]) == ("Person Eins", old)

    await client.post(f"/events/{event['id']}/registrations/{first}/erase")
    gone = await client.get(form_url, headers=HTML)
    assert gone.status_code == 303 and "gelöscht" in flash_cookie(gone)
    unknown = await client.get(f"/veranstaltungen/{event['id']}/anmeldungen/nobody/korrigieren", headers=HTML)
    assert unknown.status_code == 404


async def test_of_two_corrections_opened_at_once_the_later_save_is_refused_and_keeps_what_was_typed(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    """Two people open the same registration's form; the first saves. The second's save would silently
    undo it, so it is a 409 with the form again: their typing kept, the reason in German or English,
    nothing appended. Opened anew (the current version), it is saved."""
    event = await published(client)
    first = (await register(client, event["id"], 1)).json()["registration_id"]
    form_url = f"/veranstaltungen/{event['id']}/anmeldungen/{first}/korrigieren"
    german = {**HTML, "Cookie": "ikmo_lang=de"}
    opened_at = (await client.get(f"/events/{event['id']}")).json()["version"]
    hidden = f'name="version" value="{opened_at}"'
    mine = await client.get(form_url, headers=german)
    theirs = await client.get(form_url, headers=german)
    assert hidden in mine.text and hidden in theirs.text

    earlier = {"name": "Person Eins", "email": "person1@verein.example", "phone": "", "organisation_id": ""}
    saved = await client.post(form_url, data={**earlier, "version": str(opened_at)}, headers=german)
    assert saved.status_code == 303 and "Die Angaben sind korrigiert." in flash_cookie(saved)

    size = await log_size(engine)
    typed = {"name": CORRECTED, "email": CORRECTED_EMAIL, "phone": "+49 30 1234567", "organisation_id": ""}
    refused = await client.post(form_url, data={**typed, "version": str(opened_at)}, headers=german)
    assert refused.status_code == 409
    assert "Jemand anderes hat den Eintrag inzwischen geändert" in refused.text
    for kept in (CORRECTED, CORRECTED_EMAIL, "+49 30 1234567"):
        assert f'value="{kept}"' in refused.text, kept
    english = await client.post(
        form_url, data={**typed, "version": str(opened_at)}, headers={**HTML, "Cookie": "ikmo_lang=en"}
    )
    assert english.status_code == 409 and "Someone else changed this meanwhile" in english.text
    assert await log_size(engine) == size
    people = (await client.get(f"/events/{event['id']}/registrations")).json()
    assert (people[0]["name"], people[0]["email"]) == ("Person Eins", "person1@verein.example")

    reopened = await client.get(form_url, headers=german)
    now_at = (await client.get(f"/events/{event['id']}")).json()["version"]
    assert now_at > opened_at and f'name="version" value="{now_at}"' in reopened.text
    again = await client.post(form_url, data={**typed, "version": str(now_at)}, headers=german)
    assert again.status_code == 303
    people = (await client.get(f"/events/{event['id']}/registrations")).json()
    assert (people[0]["name"], people[0]["phone"]) == (CORRECTED, "+49 30 1234567")


async def test_others_registering_meanwhile_do_not_make_a_correction_or_an_edit_stale(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    """Only a change to what the form decides on refuses it: the same registration (a correction), or the
    event's own description and state (the edit form). On a busy event people register all the time."""
    event = await published(client, capacity=10)
    first = (await register(client, event["id"], 1)).json()["registration_id"]
    second = (await register(client, event["id"], 2)).json()["registration_id"]
    seen = (await client.get(f"/events/{event['id']}")).headers["ETag"]
    await register(client, event["id"], 3)  # someone registers meanwhile
    theirs = await client.patch(f"/events/{event['id']}/registrations/{second}", json={"name": "Person Zwei"})
    assert theirs.status_code == 200  # and someone corrects another person
    mine = await client.patch(
        f"/events/{event['id']}/registrations/{first}", json={"name": CORRECTED}, headers={"If-Match": seen}
    )
    assert mine.status_code == 200, mine.text
    edit = await client.patch(
        f"/events/{event['id']}", json={"title": "Neuer Titel"}, headers={"If-Match": seen}
    )
    assert edit.status_code == 200, edit.text
    size = await log_size(engine)
    late = await client.patch(
        f"/events/{event['id']}", json={"venue": "Anderswo"}, headers={"If-Match": seen}
    )
    assert late.status_code == 409  # the description itself changed since it was read
    again = await client.patch(
        f"/events/{event['id']}/registrations/{first}", json={"phone": "+49 30 1"}, headers={"If-Match": seen}
    )
    assert again.status_code == 409 and await log_size(engine) == size  # and so did this registration


async def test_a_check_in_meanwhile_leaves_a_correction_open_a_made_up_version_or_null_does_not(
    client: httpx.AsyncClient, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = await published(client)
    first = (await register(client, event["id"], 1)).json()["registration_id"]
    url = f"/events/{event['id']}/registrations/{first}"
    seen = (await client.get(f"/events/{event['id']}")).headers["ETag"]
    on_the_day = datetime.fromisoformat(str(seminar()["starts_at"])) + timedelta(hours=1)
    monkeypatch.setattr(handlers, "utc_now", lambda: on_the_day)
    assert (await client.post(f"{url}/attendance")).status_code == 200  # checked in at the door meanwhile
    saved = await client.patch(url, json={"name": CORRECTED}, headers={"If-Match": seen})
    assert saved.status_code == 200, saved.text  # a check-in does not change who registered
    size = await log_size(engine)
    made_up = await client.patch(url, json={"name": "Person Eins"}, headers={"If-Match": '"999"'})
    assert made_up.status_code == 409  # a version this event never had
    nulled = await client.patch(url, json={"email": None, "name": None})
    assert nulled.status_code == 422 and set(fields_of(nulled)) == {"name", "email"}
    assert "behält ihre E-Mail-Adresse" in fields_of(nulled)["email"]
    assert await log_size(engine) == size
