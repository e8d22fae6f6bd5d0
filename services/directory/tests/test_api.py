"""The organisation lifecycle over HTTP with real parts, including 401/403/404/409/422, and the bus."""

from __future__ import annotations

import json

import httpx

from shared.auth.principal import Role
from shared.platform.natsserver import NatsServer
from shared.testing import Tokens, eventually, stream_messages

YAAR = {
    "name": "Yaar e.V.",
    "kind": "mo",
    "legal_form": "e_v",
    "districts": ["friedrichshain_kreuzberg"],
    "fields_of_work": ["labour_market", "counselling"],
    "languages": ["fa", "ps", "de"],
    "website": "www.yaar-ev.de",
    "public_profile": True,
}
PARITAETISCHER = {
    "name": "Der Paritätische Wohlfahrtsverband Berlin",
    "kind": "welfare_association",
    "legal_form": "e_v",
    "districts": ["charlottenburg_wilmersdorf", "mitte"],
    "fields_of_work": ["counselling", "health"],
    "languages": ["de"],
}
INITIATIVE = {
    "name": "Frauen­initiative Sonnenallee",
    "kind": "refugee_initiative",
    "legal_form": "in_gruendung",
    "districts": ["neukoelln"],
    "languages": ["ar", "ku"],
}


async def register(client: httpx.AsyncClient, body: dict) -> dict:
    response = await client.post("/organisations", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def names(client: httpx.AsyncClient, **params: str | bool) -> list[str]:
    response = await client.get("/organisations", params=params)
    assert response.status_code == 200, response.text
    return [o["name"] for o in response.json()["items"]]


async def test_the_lifecycle_of_an_organisation(client: httpx.AsyncClient, nats_server: NatsServer) -> None:
    created = await client.post("/organisations", json=YAAR)
    assert created.status_code == 201
    yaar = created.json()
    assert created.headers["Location"].endswith(f"/organisations/{yaar['id']}")
    assert created.headers["ETag"] == '"1"'
    assert yaar["website"] == "https://www.yaar-ev.de" and yaar["version"] == 1 and not yaar["archived"]

    fetched = await client.get(f"/organisations/{yaar['id']}")
    assert fetched.json() == yaar and fetched.headers["ETag"] == '"1"'

    updated = await client.patch(
        f"/organisations/{yaar['id']}", json={"districts": ["neukoelln"]}, headers={"If-Match": '"1"'}
    )
    assert updated.status_code == 200 and updated.json()["districts"] == ["neukoelln"]
    assert updated.json()["name"] == "Yaar e.V." and updated.json()["version"] == 2

    removed = await client.patch(f"/organisations/{yaar['id']}", json={"website": None})
    assert removed.json()["website"] is None and removed.json()["version"] == 3

    legal = await client.post(f"/organisations/{yaar['id']}/legal-form", json={"legal_form": "ggmbh"})
    assert legal.json()["legal_form"] == "ggmbh" and legal.json()["version"] == 4

    archived = await client.post(f"/organisations/{yaar['id']}/archive", json={"reason": "Verein aufgelöst"})
    assert archived.json()["archived"] is True

    refused = await client.patch(f"/organisations/{yaar['id']}", json={"name": "Neu"})
    assert refused.status_code == 409
    assert (
        refused.json()["message_de"]
        == "Diese Organisation ist archiviert und kann nicht mehr geändert werden."
    )

    history = (await client.get(f"/organisations/{yaar['id']}/history")).json()
    assert [h["change"] for h in history] == [
        "registered",
        "profile_updated",
        "profile_updated",
        "legal_form_changed",
        "archived",
    ]
    assert {h["actor"] for h in history} == {"test-via"}

    # Every change reached the bus as a CloudEvent, in order.
    async def published() -> list:
        return await stream_messages(nats_server.url, "IKMO_DIRECTORY")

    await eventually(lambda: _length(published(), 5))
    messages = await published()
    assert [h["ce-type"] for h, _ in messages] == [
        "ikmo.directory.organisation.registered",
        "ikmo.directory.organisation.profile_updated",
        "ikmo.directory.organisation.profile_updated",
        "ikmo.directory.organisation.legal_form_changed",
        "ikmo.directory.organisation.archived",
    ]
    assert all(h["ce-subject"] == yaar["id"] and h["ce-source"] == "/ikmo/directory" for h, _ in messages)
    assert [h["ce-sequence"] for h, _ in messages] == ["1", "2", "3", "4", "5"]
    assert json.loads(messages[0][1])["name"] == "Yaar e.V."
    assert json.loads(messages[4][1]) == {"organisation_id": yaar["id"], "reason": "Verein aufgelöst"}


async def test_list_filters_and_search(client: httpx.AsyncClient) -> None:
    yaar = await register(client, YAAR)
    await register(client, PARITAETISCHER)
    initiative = await register(client, INITIATIVE)
    await client.post(f"/organisations/{initiative['id']}/archive", json={})

    assert await names(client) == ["Der Paritätische Wohlfahrtsverband Berlin", "Yaar e.V."]
    assert await names(client, include_archived=True) == [
        "Der Paritätische Wohlfahrtsverband Berlin",
        "Frauen­initiative Sonnenallee",
        "Yaar e.V.",
    ]
    assert await names(client, kind="mo") == ["Yaar e.V."]
    assert await names(client, district="mitte") == ["Der Paritätische Wohlfahrtsverband Berlin"]
    assert await names(client, field_of_work="counselling") == [
        "Der Paritätische Wohlfahrtsverband Berlin",
        "Yaar e.V.",
    ]
    assert await names(client, language="ps") == ["Yaar e.V."]
    assert await names(client, legal_form="in_gruendung", include_archived=True) == [
        "Frauen­initiative Sonnenallee"
    ]
    # Search folds case and umlauts, and looks at the website too.
    assert await names(client, q="paritaetische") == ["Der Paritätische Wohlfahrtsverband Berlin"]
    assert await names(client, q="PARITÄTISCHE berlin") == ["Der Paritätische Wohlfahrtsverband Berlin"]
    assert await names(client, q="yaar-ev") == ["Yaar e.V."]
    assert await names(client, q="100%_") == []
    page = (await client.get("/organisations", params={"limit": 1, "offset": 1})).json()
    assert page["total"] == 2 and [o["id"] for o in page["items"]] == [yaar["id"]]


async def test_bad_input_unknown_ids_and_stale_versions(client: httpx.AsyncClient) -> None:
    invalid = await client.post(
        "/organisations", json={**YAAR, "name": "", "districts": [], "kind": "club", "colour": "red"}
    )
    assert invalid.status_code == 422
    body = invalid.json()
    assert body["message_de"].startswith("Einige Angaben sind ungültig")
    fields = {f["field"]: f for f in body["fields"]}
    assert set(fields) == {"name", "districts", "kind", "colour"}
    assert fields["kind"]["message_de"] == "Dieser Wert ist nicht zulässig."
    assert fields["colour"]["message_de"] == "Dieses Feld ist unbekannt."

    domain = await client.post(
        "/organisations", json={**YAAR, "website": "nur ein Text", "languages": ["deutsch"]}
    )
    assert domain.status_code == 422
    assert domain.json()["fields"][0]["field"] in {"website", "languages"}
    assert (await client.get("/organisations", params={"include_archived": True})).json()["total"] == 0

    assert (await client.get("/organisations/unknown")).status_code == 404
    missing = await client.patch("/organisations/unknown", json={"name": "Neu"})
    assert missing.status_code == 404 and missing.json()["message_de"] == "Organisation unknown gibt es nicht"
    assert (await client.get("/organisations/unknown/history")).status_code == 404

    yaar = await register(client, YAAR)
    await client.patch(f"/organisations/{yaar['id']}", json={"name": "Yaar e.V. Berlin"})
    stale = await client.patch(
        f"/organisations/{yaar['id']}", json={"name": "Yaar"}, headers={"If-Match": '"1"'}
    )
    assert stale.status_code == 409 and stale.json()["error"] == "version_conflict"
    assert (await client.get(f"/organisations/{yaar['id']}")).json()["name"] == "Yaar e.V. Berlin"
    garbage = await client.patch(
        f"/organisations/{yaar['id']}", json={"name": "Yaar"}, headers={"If-Match": "x"}
    )
    assert garbage.status_code == 422 and garbage.json()["fields"][0]["field"] == "If-Match"
    assert (await client.get("/organisations", params={"limit": 0})).status_code == 422


async def test_who_may_do_what(client: httpx.AsyncClient, tokens: Tokens) -> None:
    yaar = await register(client, YAAR)
    other = await register(client, PARITAETISCHER)
    path = f"/organisations/{yaar['id']}"
    own = tokens.headers(Role.ORGANISATION, organisation_id=yaar["id"])
    senate = tokens.headers(Role.SENATE)

    assert (await client.get("/organisations", headers={"Authorization": ""})).status_code == 401
    assert (await client.get("/organisations", headers=senate)).status_code == 403
    assert (await client.post("/organisations", json=YAAR, headers=own)).status_code == 403
    # An organisation's own account reads and edits its own profile, and nothing else.
    assert (await client.get(path, headers=own)).status_code == 200
    assert (await client.patch(path, json={"languages": ["fa"]}, headers=own)).status_code == 200
    assert (await client.get(f"/organisations/{other['id']}", headers=own)).status_code == 403
    assert (await client.post(f"{path}/archive", json={}, headers=own)).status_code == 403
    assert (await client.get("/vocabulary", headers=senate)).status_code == 200
    history = (await client.get(f"{path}/history")).json()
    assert history[-1]["actor"] == "test-organisation"


async def test_the_vocabulary_has_german_and_english_labels(client: httpx.AsyncClient) -> None:
    vocabulary = (await client.get("/vocabulary")).json()
    districts = {d["value"]: d["de"] for d in vocabulary["district"]}
    assert len(districts) == 12 and districts["neukoelln"] == "Neukölln"
    assert {"value": "in_gruendung", "de": "in Gründung", "en": "Being founded"} in vocabulary["legal_form"]


async def _length(awaitable, n: int) -> bool:
    return len(await awaitable) >= n
