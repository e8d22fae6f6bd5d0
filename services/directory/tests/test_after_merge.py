"""What a survivor can do with what it took over from a merged duplicate: its contact persons are its own
(its account removes them, a committee seat names them), on the pages and over the API."""

from __future__ import annotations

import httpx

from shared.auth.principal import Role
from shared.testing import Tokens

HTML = {"Accept": "text/html"}


async def org(client: httpx.AsyncClient, name: str) -> str:
    body = {"name": name, "kind": "mo", "legal_form": "e_v", "districts": ["neukoelln"]}
    response = await client.post("/organisations", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def merged_pair(client: httpx.AsyncClient) -> tuple[str, str, list[str]]:
    """A survivor and a duplicate merged into it; the duplicate had two contact persons."""
    survivor = await org(client, "Afghanischer Kulturverein e.V.")
    duplicate = await org(client, "AKV Neukölln")
    contacts = []
    for name in ("Nadia Rahimi", "Omid Karimi"):
        added = await client.post(
            f"/organisations/{duplicate}/contacts", json={"name": name, "role": "board", "consent": True}
        )
        assert added.status_code == 201, added.text
        contacts.append(added.json()["id"])
    merged = await client.post(f"/organisations/{survivor}/merge", json={"absorbed_id": duplicate})
    assert merged.status_code == 200, merged.text
    return survivor, duplicate, contacts


async def test_the_survivors_account_removes_the_contacts_it_took_over(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    survivor, _, (by_api, by_page) = await merged_pair(client)
    stranger = await org(client, "Yaar e.V.")
    account = tokens.headers(Role.ORGANISATION, organisation_id=survivor)
    shown = (await client.get(f"/organisations/{survivor}/contacts", headers=account)).json()
    assert {c["id"] for c in shown} == {by_api, by_page}  # shown to it ...

    someone_else = tokens.headers(Role.ORGANISATION, organisation_id=stranger)
    assert (await client.post(f"/contacts/{by_api}/remove", headers=someone_else)).status_code == 403
    removed = await client.post(f"/contacts/{by_api}/remove", headers=account)
    assert removed.status_code == 204  # ... and its own to remove
    page_url = f"/verzeichnis/ansprechpersonen/{by_page}/entfernen"
    page = await client.post(page_url, headers={**HTML, **account})
    assert page.status_code == 303 and page.headers["location"] == f"/verzeichnis/{survivor}#contacts-title"
    assert (await client.get(f"/organisations/{survivor}/contacts", headers=account)).json() == []


async def test_a_contact_taken_over_represents_the_survivor_in_a_committee(client: httpx.AsyncClient) -> None:
    survivor, _, (person, _) = await merged_pair(client)
    body = {"name": "Integrationsbeirat Neukölln", "kind": "advisory_board"}
    committee = (await client.post("/committees", json=body)).json()
    url = f"/committees/{committee['id']}"

    page = (await client.get(f"/verzeichnis/gremien/{committee['id']}", headers=HTML)).text
    assert "Nadia Rahimi (Afghanischer Kulturverein e.V.)" in page  # offered under the survivor's name
    assert "AKV Neukölln" not in page
    seat = await client.post(f"{url}/seats", json={"organisation_id": survivor, "representative_id": person})
    assert seat.status_code == 200, seat.text
    [held] = seat.json()["seats"]
    assert held["organisation_id"] == survivor and held["representative_name"] == "Nadia Rahimi"

    stranger = await org(client, "Yaar e.V.")
    wrong = await client.post(f"{url}/seats", json={"organisation_id": stranger, "representative_id": person})
    assert wrong.status_code == 422 and wrong.json()["fields"][0]["field"] == "representative_id"
