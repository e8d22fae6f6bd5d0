"""A contact person's role and consent change: on the pure domain, over HTTP with If-Match (a stale one is
a 409 that changes nothing), pseudonymously on the bus, and from the form on the organisation's page."""

from __future__ import annotations

import json

import httpx
import pytest

from services.directory.domain.contact import ContactPerson
from shared.auth.principal import Role
from shared.contracts.directory import ContactPersonChanged, ContactRole
from shared.errors import DomainRuleViolation
from shared.platform.natsserver import NatsServer
from shared.testing import Tokens, eventually, stream_messages

YAAR = {"name": "Yaar e.V.", "kind": "mo", "legal_form": "e_v", "districts": ["friedrichshain_kreuzberg"]}
PERSON = {"name": "Kava Spartak", "role": "volunteer", "consent": False, "email": "kava@yaar.example"}
HTML = {"Accept": "text/html"}


def recorded() -> ContactPerson:
    made = ContactPerson.record("c-1", "o-1", "Kava Spartak", ContactRole.VOLUNTEER, False)
    return ContactPerson.rebuild("c-1", made.pending_events)


def test_role_and_consent_change_and_the_same_again_records_nothing() -> None:
    contact = recorded()
    contact.change(ContactRole.BOARD, None)
    [event] = contact.pending_events
    assert event == ContactPersonChanged(
        contact_id="c-1", organisation_id="o-1", role=ContactRole.BOARD, consent=False, changed=["role"]
    )
    made = ContactPerson.record("c-1", "o-1", "Kava Spartak", ContactRole.VOLUNTEER, False)
    contact = ContactPerson.rebuild("c-1", [*made.pending_events, event])
    assert (contact.role, contact.consent) == (ContactRole.BOARD, False)
    contact.change(ContactRole.BOARD, False)  # what already holds
    assert contact.pending_events == []
    contact.change(None, True)
    consent_changed = contact.pending_events[-1]
    assert isinstance(consent_changed, ContactPersonChanged) and consent_changed.changed == ["consent"]
    contact.remove()
    with pytest.raises(DomainRuleViolation):
        contact.change(ContactRole.STAFF, None)


async def test_a_change_over_http_with_if_match_reaches_the_bus_without_the_person(
    client: httpx.AsyncClient, tokens: Tokens, nats_server: NatsServer
) -> None:
    organisation = (await client.post("/organisations", json=YAAR)).json()["id"]
    other = (await client.post("/organisations", json={**YAAR, "name": "Anderer Verein"})).json()["id"]
    added = (await client.post(f"/organisations/{organisation}/contacts", json=PERSON)).json()
    assert added["version"] == 2  # recorded and assigned
    url = f"/contacts/{added['id']}"

    own = tokens.headers(Role.ORGANISATION, organisation_id=organisation)
    changed = await client.patch(
        url, json={"role": "board", "consent": True}, headers={**own, "If-Match": '"2"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"3"' and changed.json()["version"] == 3
    assert changed.json()["role"] == "board" and changed.json()["consent"] is True
    stale = await client.patch(url, json={"consent": False}, headers={"If-Match": '"2"'})
    assert stale.status_code == 409
    bad = await client.patch(url, json={"role": "chef"})
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "role"
    assert (await client.patch(url, json={"name": "Jemand"})).status_code == 422  # not changed here
    assert (await client.patch("/contacts/nobody", json={"consent": True})).status_code == 404
    stranger = tokens.headers(Role.ORGANISATION, organisation_id=other)
    assert (await client.patch(url, json={"consent": False}, headers=stranger)).status_code == 403
    [now] = (await client.get(f"/organisations/{organisation}/contacts")).json()
    assert (now["role"], now["consent"], now["version"]) == ("board", True, 3)  # nothing else applied

    async def changes() -> list[bytes]:
        return [
            payload
            for headers, payload in await stream_messages(nats_server.url, "IKMO_DIRECTORY")
            if headers["ce-subject"] == added["id"] and headers["ce-type"] == "ikmo.directory.contact.changed"
        ]

    async def published() -> bool:
        return len(await changes()) == 1

    await eventually(published)
    [payload] = await changes()
    assert json.loads(payload) == {
        "contact_id": added["id"],
        "organisation_id": organisation,
        "role": "board",
        "consent": True,
        "changed": ["role", "consent"],
    }
    assert b"Spartak" not in payload and b"yaar.example" not in payload

    # Consent can be withdrawn also once the organisation is archived.
    assert (await client.post(f"/organisations/{organisation}/archive", json={})).status_code == 200
    withdrawn = await client.patch(url, json={"consent": False})
    assert withdrawn.status_code == 200 and withdrawn.json()["consent"] is False


async def test_the_form_beside_the_person_changes_role_and_consent(client: httpx.AsyncClient) -> None:
    organisation = (await client.post("/organisations", json=YAAR)).json()["id"]
    added = (await client.post(f"/organisations/{organisation}/contacts", json=PERSON)).json()
    page = (await client.get(f"/verzeichnis/{organisation}", headers=HTML)).text
    assert "Rolle oder Einverständnis ändern" in page
    assert f'action="/verzeichnis/ansprechpersonen/{added["id"]}/aendern"' in page
    url = f"/verzeichnis/ansprechpersonen/{added['id']}/aendern"

    done = await client.post(url, data={"role": "staff", "consent": "true", "version": "2"}, headers=HTML)
    assert (
        done.status_code == 303 and done.headers["location"] == f"/verzeichnis/{organisation}#contacts-title"
    )
    page = (await client.get(done.headers["location"], headers=HTML)).text
    assert "Die Ansprechperson wurde geändert." in page and "Hauptamt" in page
    assert "nicht weitergeben" not in page.split('id="contacts-title"')[1].split("</table>")[0]
    stale = await client.post(url, data={"role": "board", "version": "2"}, headers=HTML)
    assert stale.status_code == 303
    page = (await client.get(stale.headers["location"], headers=HTML)).text
    assert "Hauptamt" in page and "inzwischen" in page  # said at the top, nothing changed
