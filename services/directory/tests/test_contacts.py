"""Contact persons: personal data sealed per person, pseudonymous on the bus, erasable everywhere."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.directory.domain.contact import ContactPerson
from shared.auth.principal import Role
from shared.contracts.directory import ContactRole
from shared.errors import DomainRuleViolation, InvalidInput
from shared.platform.natsserver import NatsServer
from shared.testing import Tokens, eventually, plaintext_in_database, stream_messages

YAAR = {"name": "Yaar e.V.", "kind": "mo", "legal_form": "e_v", "districts": ["friedrichshain_kreuzberg"]}
PERSON = {
    "name": "Kava Spartak",
    "role": "board",
    "consent": True,
    "email": "kava.spartak@yaar.example",
    "phone": "+49 30 1234567",
}


def test_the_rules_of_a_contact_person() -> None:
    with pytest.raises(InvalidInput) as email:
        ContactPerson.record("c-1", "o-1", "Kava Spartak", ContactRole.BOARD, True, email="kein-at")
    assert email.value.field == "email"
    with pytest.raises(InvalidInput) as phone:
        ContactPerson.record("c-1", "o-1", "Kava Spartak", ContactRole.BOARD, True, phone="anrufen!")
    assert phone.value.field == "phone"
    contact = ContactPerson.record("c-1", "o-1", "Kava Spartak", ContactRole.STAFF, False)
    contact = ContactPerson.rebuild("c-1", contact.pending_events)
    contact.remove()
    with pytest.raises(DomainRuleViolation):
        contact.remove()


TABLES = ("events", "outbox", "contacts", "person_keys", "organisations")


async def test_a_contact_person_is_recorded_published_pseudonymously_and_erased(
    client: httpx.AsyncClient, nats_server: NatsServer, engine: AsyncEngine
) -> None:
    organisation = (await client.post("/organisations", json=YAAR)).json()["id"]
    added = await client.post(f"/organisations/{organisation}/contacts", json=PERSON)
    assert added.status_code == 201, added.text
    contact = added.json()
    assert contact["name"] == "Kava Spartak" and contact["email"] == PERSON["email"]
    # sealed from the first write
    assert await plaintext_in_database(engine, "yaar.example", TABLES) is False
    assert await plaintext_in_database(engine, "Yaar e.V.", TABLES)  # the search does find plain text

    async def published() -> list[tuple[dict[str, str], bytes]]:
        return [
            m
            for m in await stream_messages(nats_server.url, "IKMO_DIRECTORY")
            if m[0]["ce-subject"] == contact["id"]
        ]

    await eventually(lambda: _nonempty(published))
    [(headers, payload)] = await published()
    assert headers["ce-type"] == "ikmo.directory.contact.assigned"
    assert b"Spartak" not in payload and b"yaar.example" not in payload

    assert (await client.post(f"/contacts/{contact['id']}/erase")).status_code == 204
    [erased] = (await client.get(f"/organisations/{organisation}/contacts")).json()
    assert erased["erased"] and erased["name"] == "[gelöscht]" and erased["email"] == "[gelöscht]"
    assert erased["role"] == "board"  # counts and roles stay
    assert (await client.post(f"/contacts/{contact['id']}/erase")).status_code == 204  # harmless twice
    assert not await plaintext_in_database(engine, "Spartak", TABLES)


async def _nonempty(probe) -> bool:
    return bool(await probe())


async def test_bad_input_unknown_ids_and_who_may(client: httpx.AsyncClient, tokens: Tokens) -> None:
    organisation = (await client.post("/organisations", json=YAAR)).json()["id"]
    other = (await client.post("/organisations", json={**YAAR, "name": "Anderer Verein"})).json()["id"]
    url = f"/organisations/{organisation}/contacts"
    bad = await client.post(url, json={**PERSON, "email": "kein-at", "role": "chef"})
    assert bad.status_code == 422
    assert {f["field"] for f in bad.json()["fields"]} == {"role"}  # the type is checked first
    bad_email = await client.post(url, json={**PERSON, "email": "kein-at"})
    assert bad_email.status_code == 422 and bad_email.json()["fields"][0]["field"] == "email"
    assert (await client.post("/organisations/no-such-org/contacts", json=PERSON)).status_code == 404
    assert (await client.post("/contacts/no-such-contact/remove")).status_code == 404
    assert (await client.get(url)).json() == []  # nothing half-saved

    own = tokens.headers(Role.ORGANISATION, organisation_id=organisation)
    mine = await client.post(url, json=PERSON, headers=own)
    assert mine.status_code == 201
    assert (
        await client.post(f"/organisations/{other}/contacts", json=PERSON, headers=own)
    ).status_code == 403
    assert (await client.post(f"/contacts/{mine.json()['id']}/erase", headers=own)).status_code == 403
    assert (await client.post(f"/contacts/{mine.json()['id']}/remove", headers=own)).status_code == 204
    assert (await client.get(url)).json() == []
    again = await client.post(f"/contacts/{mine.json()['id']}/remove")
    assert again.status_code == 409
    assert (await client.post(f"/organisations/{other}/archive", json={})).status_code == 200
    archived = await client.post(f"/organisations/{other}/contacts", json=PERSON)
    assert archived.status_code == 409  # said as what it is about, not as "joins nothing new"
    assert archived.json()["message_de"] == (
        "Anderer Verein ist archiviert: Es werden keine neuen Ansprechpersonen eingetragen."
    )


# -- pages ------------------------------------------------------------------------------------------------

HTML = {"Accept": "text/html"}


async def test_contact_persons_on_the_organisation_page(client: httpx.AsyncClient) -> None:
    organisation = (await client.post("/organisations", json=YAAR)).json()["id"]
    page_url = f"/verzeichnis/{organisation}"
    url = f"{page_url}/ansprechpersonen"
    wrong = await client.post(url, data={"name": "Kava Spartak", "email": "kein-at"}, headers=HTML)
    assert wrong.status_code == 422
    assert 'id="f-role-error"' in wrong.text and 'value="Kava Spartak"' in wrong.text
    assert '<details class="add-contact" open>' in wrong.text  # the form stays open with its errors
    added = await client.post(
        url, data={"name": "Kava Spartak", "role": "board", "email": "kava@yaar.example", "consent": "true"}
    )
    assert added.status_code == 303
    html = (await client.get(page_url, headers=HTML)).text
    assert "Die Ansprechperson wurde eingetragen." in html
    assert "Kava Spartak" in html and "Vorstand" in html and "mailto:kava@yaar.example" in html

    [contact] = (await client.get(f"/organisations/{organisation}/contacts")).json()
    erased = await client.post(f"/verzeichnis/ansprechpersonen/{contact['id']}/loeschen")
    assert erased.status_code == 303
    html = (await client.get(page_url, headers=HTML)).text
    assert "Kava Spartak" not in html and "[gelöscht]" in html and "überall gelöscht" in html
