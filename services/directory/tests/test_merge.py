"""Merging duplicates: the rules on the pure domain, the merge over HTTP with bad input, what the survivor
takes over, where the absorbed id leads, and the event other services learn it from."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.directory.domain.commands import RegisterOrganisation, UpdateOrganisationProfile
from services.directory.domain.merge import Connections, merge, merged_profile
from services.directory.domain.model import Organisation
from services.directory.merge_projection import MergesProjection, organisation_merges
from shared.auth.principal import Role
from shared.contracts.directory import (
    District,
    FieldOfWork,
    LegalForm,
    OrganisationDuplicateAbsorbed,
    OrganisationKind,
    OrganisationMerged,
)
from shared.db import read_transaction
from shared.errors import DomainRuleViolation, InvalidInput
from shared.platform.natsserver import NatsServer
from shared.projections import rebuild
from shared.store import EventStore
from shared.testing import Tokens, eventually, stream_messages

# -- the pure domain --------------------------------------------------------------------------------------


def registered(
    organisation_id: str,
    name: str,
    kind: OrganisationKind = OrganisationKind.MO,
    districts: tuple[District, ...] = (District.NEUKOELLN,),
    fields: tuple[FieldOfWork, ...] = (),
    languages: tuple[str, ...] = (),
    website: str | None = None,
    public_profile: bool = False,
) -> Organisation:
    made = Organisation.register(
        organisation_id,
        RegisterOrganisation(
            name, kind, LegalForm.E_V, districts, fields, languages, website, public_profile=public_profile
        ),
    )
    return Organisation.rebuild(organisation_id, made.pending_events)


def test_the_survivor_takes_over_what_the_duplicate_knew_and_the_duplicate_ends() -> None:
    survivor = registered("s", "Brücke e.V.", fields=(FieldOfWork.UPBRINGING,), languages=("ar",))
    duplicate = registered(
        "d",
        "Bruecke Neukoelln",
        districts=(District.NEUKOELLN, District.MITTE),
        fields=(FieldOfWork.YOUTH, FieldOfWork.UPBRINGING),
        languages=("tr", "ar"),
        website="https://bruecke.example",
        public_profile=True,
    )
    merge(survivor, duplicate, "  doppelt   eingetragen ")

    [absorbed_event] = survivor.pending_events
    assert isinstance(absorbed_event, OrganisationDuplicateAbsorbed)
    assert absorbed_event.absorbed_id == "d" and absorbed_event.absorbed_name == "Bruecke Neukoelln"
    assert absorbed_event.name == "Brücke e.V."  # the survivor's name stays
    assert absorbed_event.districts == [District.NEUKOELLN, District.MITTE]
    assert absorbed_event.fields_of_work == [FieldOfWork.UPBRINGING, FieldOfWork.YOUTH]
    assert absorbed_event.languages == ["ar", "tr"]
    assert absorbed_event.website == "https://bruecke.example"  # the survivor had none
    assert absorbed_event.public_profile is False  # consent is not carried over from another record
    assert absorbed_event.changed == ["districts", "fields_of_work", "languages", "website"]
    [merged_event] = duplicate.pending_events
    assert merged_event == OrganisationMerged(
        organisation_id="d", merged_into="s", survivor_name="Brücke e.V.", reason="doppelt eingetragen"
    )
    assert survivor.absorbed == ("d",) and duplicate.merged_into == "s"

    with pytest.raises(DomainRuleViolation) as changed:
        duplicate.update_profile(UpdateOrganisationProfile("d", name="Neuer Name"))
    assert "Brücke e.V." in changed.value.message_de and "zusammengeführt" in changed.value.message_de
    with pytest.raises(DomainRuleViolation):
        duplicate.archive("weg")
    with pytest.raises(DomainRuleViolation) as again:
        merge(registered("x", "Dritte"), duplicate, None)
    assert "bereits" in again.value.message_de
    with pytest.raises(DomainRuleViolation):
        merge(duplicate, registered("y", "Vierte"), None)  # a merged record takes over nothing


def test_what_cannot_be_merged() -> None:
    mo = registered("mo", "Yaar e.V.")
    with pytest.raises(InvalidInput) as itself:
        merge(mo, Organisation.rebuild("mo", []), None)
    assert itself.value.field == "absorbed_id" and "selbst" in itself.value.message_de
    office = registered("ba", "Bezirksamt Neukölln", OrganisationKind.DISTRICT_OFFICE)
    with pytest.raises(InvalidInput) as kinds:
        merge(mo, office, None)
    assert kinds.value.field == "absorbed_id" and "derselben Art" in kinds.value.message_de
    merge(mo, registered("ri", "Yaar Initiative", OrganisationKind.REFUGEE_INITIATIVE), None)  # allowed

    archived = registered("a", "Alter Verein")
    archived.archive("aufgelöst")
    with pytest.raises(DomainRuleViolation) as survivor_archived:
        merge(archived, registered("b", "Alter Verein e.V."), None)
    assert "archiviert" in survivor_archived.value.message_de
    old_duplicate = registered("c", "Alter Verein (alt)")
    old_duplicate.archive("doppelt")
    merge(registered("e", "Alter Verein e.V."), old_duplicate, None)  # an archived duplicate may end so


def test_what_both_records_take_part_in_at_once_is_not_doubled() -> None:
    survivor, duplicate = registered("s", "Brücke e.V."), registered("d", "Bruecke")
    nothing = Connections()
    merge(survivor, duplicate, None, (Connections(networks={"n": "Migrannet"}), nothing))  # one side: fine

    survivor, duplicate = registered("s", "Brücke e.V."), registered("d", "Bruecke")
    both = (
        Connections(
            networks={"n": "Migrannet"},
            committees={"c": "Integrationsbeirat"},
            cooperations={("jc", "youth"): "Jobcenter Neukölln"},
            mentorings={"m": "Yaar e.V."},
        ),
        Connections(
            networks={"n": "Migrannet", "o": "Anderes Netz"},
            committees={"c": "Integrationsbeirat"},
            cooperations={("jc", "youth"): "Jobcenter Neukölln", ("jc", "health"): "Jobcenter Neukölln"},
            mentorings={"m": "Yaar e.V."},
        ),
    )
    with pytest.raises(DomainRuleViolation) as doubled:
        merge(survivor, duplicate, None, both)
    for part in (
        "Netzwerk Migrannet",
        "Sitz in Integrationsbeirat",
        "mit Jobcenter Neukölln",
        "mit Yaar e.V.",
    ):
        assert part in doubled.value.message_de
    assert "Anderes Netz" not in doubled.value.message_de and "network Migrannet" in doubled.value.message_en
    assert survivor.pending_events == [] and duplicate.pending_events == []  # nothing decided

    with pytest.raises(DomainRuleViolation) as itself:
        merge(survivor, duplicate, None, (Connections(mentorings={"d": "Bruecke"}), nothing))
    assert "Mentoring-Begleitung" in itself.value.message_de


def test_the_combined_profile_keeps_the_survivors_order_and_website() -> None:
    first = registered("1", "Eins", languages=("de", "ar"), website="https://eins.example")
    second = registered("2", "Zwei", languages=("ar", "fa"), website="https://zwei.example")
    assert first.profile is not None and second.profile is not None
    combined = merged_profile(first.profile, second.profile)
    assert combined.languages == ("de", "ar", "fa") and combined.website == "https://eins.example"


# -- over HTTP --------------------------------------------------------------------------------------------


async def org(client: httpx.AsyncClient, name: str, kind: str = "mo", **extra: object) -> dict:
    body = {"name": name, "kind": kind, "legal_form": "e_v", "districts": ["neukoelln"], **extra}
    response = await client.post("/organisations", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_merging_a_duplicate_over_http(client: httpx.AsyncClient, nats_server: NatsServer) -> None:
    survivor = await org(
        client, "Elternverein Brücke e.V.", fields_of_work=["upbringing"], public_profile=True
    )
    duplicate = await org(
        client, "Elternverein Bruecke", districts=["mitte"], languages=["ar"], website="bruecke.example"
    )
    jobcenter = await org(client, "Jobcenter Neukölln", "labour_market_actor", fields_of_work=["upbringing"])
    office = await org(client, "Bezirksamt Neukölln", "district_office")
    s_url, d_url = f"/organisations/{survivor['id']}", f"/organisations/{duplicate['id']}"
    contact = {"name": "Aylin Demir", "role": "board", "consent": True}
    assert (await client.post(f"{d_url}/contacts", json=contact)).status_code == 201
    cooperation = {
        "organisation_id": duplicate["id"],
        "partner_id": jobcenter["id"],
        "field_of_work": "youth",
    }
    assert (await client.post("/cooperations", json=cooperation)).status_code == 201

    # Look first: both records and what they make together.
    seen = await client.get(f"{s_url}/merge-preview", params={"absorbed_id": duplicate["id"]})
    assert seen.status_code == 200 and seen.json()["problem"] is None
    assert seen.json()["result"]["districts"] == ["neukoelln", "mitte"]
    assert seen.json()["absorbed"]["name"] == "Elternverein Bruecke"
    refused = await client.get(f"{s_url}/merge-preview", params={"absorbed_id": office["id"]})
    assert refused.json()["problem"]["field"] == "absorbed_id"  # shown, not merged

    # Bad input changes nothing.
    assert (await client.post(f"{s_url}/merge", json={})).status_code == 422
    unknown_field = await client.post(f"{s_url}/merge", json={"absorbed_id": duplicate["id"], "x": 1})
    assert unknown_field.status_code == 422
    itself = await client.post(f"{s_url}/merge", json={"absorbed_id": survivor["id"]})
    assert itself.status_code == 422 and itself.json()["fields"][0]["field"] == "absorbed_id"
    assert "selbst" in itself.json()["fields"][0]["message_de"]
    assert (await client.post(f"{s_url}/merge", json={"absorbed_id": "nobody"})).status_code == 404
    assert (
        await client.post("/organisations/nobody/merge", json={"absorbed_id": duplicate["id"]})
    ).status_code == 404
    kinds = await client.post(f"{s_url}/merge", json={"absorbed_id": office["id"]})
    assert kinds.status_code == 422
    stale = await client.post(
        f"{s_url}/merge", json={"absorbed_id": duplicate["id"]}, headers={"If-Match": '"7"'}
    )
    assert stale.status_code == 409 and stale.json()["error"] == "version_conflict"
    stale_duplicate = await client.post(
        f"{s_url}/merge", json={"absorbed_id": duplicate["id"], "absorbed_version": 9}
    )
    assert stale_duplicate.status_code == 409
    assert (await client.get(d_url)).json()["merged_into"] is None  # nothing half applied
    assert (await client.get(s_url)).json()["version"] == 1

    merged = await client.post(
        f"{s_url}/merge",
        json={"absorbed_id": duplicate["id"], "reason": "doppelt eingetragen", "absorbed_version": 1},
        headers={"If-Match": '"1"'},
    )
    assert merged.status_code == 200, merged.text
    assert merged.headers["etag"] == '"2"'
    assert merged.json()["districts"] == ["mitte", "neukoelln"]  # the read model lists facets sorted
    assert merged.json()["languages"] == ["ar"] and merged.json()["website"] == "https://bruecke.example"

    # The duplicate ends merged, its id points at the survivor, and its history stays readable.
    gone = (await client.get(d_url)).json()
    assert gone["merged_into"] == survivor["id"] and gone["archived"] is True
    d_history = (await client.get(f"{d_url}/history")).json()
    assert [c["change"] for c in d_history] == ["registered", "merged"]
    assert d_history[-1]["data"]["reason"] == "doppelt eingetragen"
    s_history = (await client.get(f"{s_url}/history")).json()
    assert s_history[-1]["change"] == "duplicate_absorbed"
    assert s_history[-1]["data"]["absorbed_id"] == duplicate["id"]
    listed = (await client.get("/organisations", params={"q": "Elternverein"})).json()
    assert [o["id"] for o in listed["items"]] == [survivor["id"]]

    # The survivor shows what was recorded under the duplicate.
    [person] = (await client.get(f"{s_url}/contacts")).json()
    assert person["name"] == "Aylin Demir"
    [together] = (await client.get(f"{s_url}/cooperations")).json()
    assert together["organisation_id"] == survivor["id"] and together["partner_name"] == "Jobcenter Neukölln"
    suggested = (await client.get(f"{s_url}/partner-suggestions")).json()
    assert jobcenter["id"] not in {s["id"] for s in suggested}  # a partner through the duplicate
    twice = {**cooperation, "organisation_id": survivor["id"]}
    assert (await client.post("/cooperations", json=twice)).status_code == 409  # cooperating already

    # The duplicate takes part in nothing any more, and says where to go instead.
    again = await client.post(f"{s_url}/merge", json={"absorbed_id": duplicate["id"]})
    assert again.status_code == 409 and "bereits" in again.json()["message_de"]
    joined = await client.post("/cooperations", json={**cooperation, "field_of_work": "health"})
    assert joined.status_code == 409 and "Elternverein Brücke e.V." in joined.json()["message_de"]
    assert (await client.patch(d_url, json={"name": "Neu"})).status_code == 409

    # Other services learn of it from the bus, by ids only.
    def merged_messages() -> list[dict]:
        return [
            json.loads(body) for h, body in messages if h["ce-type"] == "ikmo.directory.organisation.merged"
        ]

    messages: list[tuple[dict[str, str], bytes]] = []

    async def published() -> bool:
        messages[:] = await stream_messages(nats_server.url, "IKMO_DIRECTORY")
        return bool(merged_messages())

    await eventually(published)
    [event] = merged_messages()
    assert event == {
        "organisation_id": duplicate["id"],
        "merged_into": survivor["id"],
        "survivor_name": "Elternverein Brücke e.V.",
        "reason": "doppelt eingetragen",
    }
    [headers] = [h for h, _ in messages if h["ce-type"] == "ikmo.directory.organisation.merged"]
    assert headers["ce-subject"] == duplicate["id"] and headers["ce-sequence"] == "2"
    assert any(h["ce-type"] == "ikmo.directory.organisation.duplicate_absorbed" for h, _ in messages)
    assert "Aylin" not in str(messages)


async def test_the_public_profile_of_a_merged_record_leads_to_the_survivor(client: httpx.AsyncClient) -> None:
    survivor = await org(client, "Offener Verein e.V.", public_profile=True)
    duplicate = await org(client, "Offener Verein", public_profile=True)
    hidden = await org(client, "Stiller Verein e.V.")
    hidden_duplicate = await org(client, "Stiller Verein", public_profile=True)
    for s, d in ((survivor, duplicate), (hidden, hidden_duplicate)):
        assert (
            await client.post(f"/organisations/{s['id']}/merge", json={"absorbed_id": d["id"]})
        ).status_code == 200
    anonymous = {"Authorization": "", "Accept": "text/html"}
    moved = await client.get(f"/oeffentlich/organisationen/{duplicate['id']}", headers=anonymous)
    assert moved.status_code == 301
    assert moved.headers["location"].endswith(f"/oeffentlich/organisationen/{survivor['id']}")
    # A survivor without consent stays private, even when its duplicate had consented.
    assert (
        await client.get(f"/oeffentlich/organisationen/{hidden_duplicate['id']}", headers=anonymous)
    ).status_code == 404
    listing = (await client.get("/oeffentlich/organisationen", headers=anonymous)).text
    assert "Offener Verein e.V." in listing and "Stiller Verein" not in listing
    assert ">Offener Verein<" not in listing


async def test_two_merges_of_the_same_pair_at_once_cannot_both_win(client: httpx.AsyncClient) -> None:
    first = await org(client, "Kulturverein Spandau e.V.")
    second = await org(client, "Kulturverein Spandau")
    both = await asyncio.gather(
        client.post(f"/organisations/{first['id']}/merge", json={"absorbed_id": second["id"]}),
        client.post(f"/organisations/{second['id']}/merge", json={"absorbed_id": first["id"]}),
    )
    assert sorted(r.status_code for r in both) == [200, 409]
    states = [(await client.get(f"/organisations/{o['id']}")).json()["merged_into"] for o in (first, second)]
    assert states.count(None) == 1  # exactly one survives


# -- pages ------------------------------------------------------------------------------------------------

HTML = {"Accept": "text/html"}


async def test_the_merge_pages_compare_both_records_first(client: httpx.AsyncClient) -> None:
    survivor = await org(client, "Elternverein Brücke Neukölln e.V.", fields_of_work=["upbringing"])
    duplicate = await org(client, "Elternverein Bruecke", districts=["mitte"], languages=["ar"])
    await org(client, "Yaar e.V.")
    await org(client, "Bezirksamt Neukölln", "district_office")  # another kind: not offered
    url = f"/verzeichnis/{survivor['id']}/zusammenfuehren"

    detail = (await client.get(f"/verzeichnis/{survivor['id']}", headers=HTML)).text
    assert f'href="{url}"' in detail
    choose = await client.get(url, headers=HTML)
    assert choose.status_code == 200
    likely = choose.text.split("Einträge mit ähnlichem Namen")[1].split("Ein anderer Eintrag")[0]
    assert "Elternverein Bruecke" in likely and "Yaar" not in likely
    assert "Yaar e.V." in choose.text and "Bezirksamt" not in choose.text
    unchosen = await client.post(url, data={}, headers=HTML)
    assert unchosen.status_code == 422 and 'id="f-dublette-error"' in unchosen.text  # beside the choice

    compare = await client.get(url, params={"dublette": duplicate["id"]}, headers=HTML)
    assert compare.status_code == 200
    page = compare.text
    assert "Dieser Eintrag (bleibt)" in page and "Dublette (endet)" in page
    assert "Neukölln, Mitte" in page and "Arabisch" in page  # the combined record
    assert f'name="absorbed_version" value="{duplicate["version"]}"' in page
    itself = await client.get(url, params={"dublette": survivor["id"]}, headers=HTML)
    assert "selbst" in itself.text and 'name="absorbed_id"' not in itself.text  # no button to press
    assert (await client.get(url, params={"dublette": "nobody"}, headers=HTML)).status_code == 404

    await client.patch(f"/organisations/{duplicate['id']}", json={"languages": ["ar", "fa"]})  # meanwhile
    form = {"absorbed_id": duplicate["id"], "version": "1", "absorbed_version": "1", "reason": "doppelt"}
    stale = await client.post(url, data=form, headers=HTML)
    assert stale.status_code == 409 and "inzwischen geändert" in stale.text
    assert "Persisch" in stale.text and 'name="absorbed_version" value="2"' in stale.text  # shown fresh
    assert ">doppelt</textarea>" in stale.text  # the reason is kept
    assert (await client.get(f"/organisations/{duplicate['id']}")).json()["merged_into"] is None

    done = await client.post(url, data={**form, "absorbed_version": "2"}, headers=HTML)
    assert done.status_code == 303 and done.headers["location"] == f"/verzeichnis/{survivor['id']}"
    after = (await client.get(done.headers["location"], headers=HTML)).text
    assert "Die Dublette wurde mit Elternverein Brücke Neukölln e.V. zusammengeführt." in after
    assert "Mit diesem Eintrag zusammengeführte Dubletten" in after and "Dublette übernommen" in after
    gone = (await client.get(f"/verzeichnis/{duplicate['id']}", headers=HTML)).text
    assert "war eine Dublette und wurde mit Elternverein Brücke Neukölln e.V. zusammengeführt" in gone
    assert "Mit einem anderen Eintrag zusammengeführt" in gone and "doppelt" in gone  # its history
    assert "Profil bearbeiten" not in gone and f"/verzeichnis/{duplicate['id']}/zusammenfuehren" not in gone


async def test_the_choice_offers_an_archived_duplicate_but_not_one_merged_already(
    client: httpx.AsyncClient,
) -> None:
    survivor = await org(client, "Frauenzentrum Al-Nadi e.V.")
    archived = await org(client, "Frauenzentrum Al Nadi")  # archived instead of merged, some time ago
    assert (await client.post(f"/organisations/{archived['id']}/archive", json={})).status_code == 200
    merged = await org(client, "Frauenzentrum AlNadi")
    merging = await client.post(f"/organisations/{survivor['id']}/merge", json={"absorbed_id": merged["id"]})
    assert merging.status_code == 200, merging.text

    choose = (await client.get(f"/verzeichnis/{survivor['id']}/zusammenfuehren", headers=HTML)).text
    likely = choose.split("Einträge mit ähnlichem Namen")[1].split("Ein anderer Eintrag")[0]
    assert f"dublette={archived['id']}" in likely and "Frauenzentrum Al Nadi</a> (archiviert)" in likely
    assert f'value="{archived["id"]}"' in choose and "Frauenzentrum Al Nadi (archiviert)" in choose
    assert merged["id"] not in choose  # it lives on in the survivor already
    compare = await client.get(
        f"/verzeichnis/{survivor['id']}/zusammenfuehren", params={"dublette": archived["id"]}, headers=HTML
    )
    assert compare.status_code == 200 and 'name="absorbed_id"' in compare.text  # it can be merged


async def test_no_double_membership_through_a_merged_duplicate(client: httpx.AsyncClient) -> None:
    survivor = await org(client, "Kurdisches Kulturzentrum e.V.")
    duplicate = await org(client, "Kurdisches Kulturzentrum")
    coordinator = await org(client, "Yaar e.V.")
    network = (
        await client.post("/networks", json={"name": "Migrannet", "coordinators": [coordinator["id"]]})
    ).json()
    assert (
        await client.post(f"/networks/{network['id']}/members", json={"organisation_id": duplicate["id"]})
    ).status_code == 200
    committee = (
        await client.post("/committees", json={"name": "Integrationsbeirat", "kind": "advisory_board"})
    ).json()
    seat = await client.post(
        f"/committees/{committee['id']}/seats", json={"organisation_id": duplicate["id"]}
    )
    assert seat.status_code == 200, seat.text
    merged = await client.post(
        f"/organisations/{survivor['id']}/merge", json={"absorbed_id": duplicate["id"]}
    )
    assert merged.status_code == 200

    page = (await client.get(f"/verzeichnis/{survivor['id']}", headers=HTML)).text
    assert "Migrannet" in page.split('id="networks-title"')[1]  # the duplicate's membership, shown here
    joined = await client.post(f"/networks/{network['id']}/members", json={"organisation_id": survivor["id"]})
    assert joined.status_code == 409 and "Dublette bereits Mitglied" in joined.json()["message_de"]
    took = await client.post(f"/committees/{committee['id']}/seats", json={"organisation_id": survivor["id"]})
    assert took.status_code == 409
    [held] = (await client.get(f"/organisations/{survivor['id']}/committee-seats")).json()
    assert held["name"] == "Integrationsbeirat" and held["vacated_on"] is None  # shown with the survivor
    left = await client.post(f"/networks/{network['id']}/members/{duplicate['id']}/leave", json={})
    assert left.status_code == 200  # the duplicate's membership ends as it was recorded
    again = await client.post(f"/networks/{network['id']}/members", json={"organisation_id": survivor["id"]})
    assert again.status_code == 200


async def test_an_account_made_for_a_merged_duplicate_acts_for_the_survivor(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    survivor = await org(client, "Afrikanischer Frauenverein e.V.")
    duplicate = await org(client, "Afrikanischer Frauenverein")
    stranger = await org(client, "Yaar e.V.")
    account = tokens.headers(Role.ORGANISATION, organisation_id=duplicate["id"])
    s_url, d_url = f"/organisations/{survivor['id']}", f"/organisations/{duplicate['id']}"
    assert (await client.get(s_url, headers=account)).status_code == 403  # not yet its organisation
    assert (await client.get(d_url, headers=account)).status_code == 200

    merged = await client.post(f"{s_url}/merge", json={"absorbed_id": duplicate["id"]})
    assert merged.status_code == 200

    # The account now reads and edits the record its organisation lives on, and still nothing else.
    assert (await client.get(s_url, headers=account)).status_code == 200
    edited = await client.patch(s_url, json={"languages": ["fr"]}, headers=account)
    assert edited.status_code == 200 and edited.json()["languages"] == ["fr"]
    page = await client.get(f"/verzeichnis/{survivor['id']}", headers={**HTML, **account})
    assert page.status_code == 200 and "Afrikanischer Frauenverein e.V." in page.text
    assert (await client.get(f"/organisations/{stranger['id']}", headers=account)).status_code == 403
    assert (await client.get(d_url, headers=account)).status_code == 403  # the old record is history


async def test_a_merge_that_would_double_a_connection_waits_until_it_ended(client: httpx.AsyncClient) -> None:
    survivor = await org(client, "Verein Alpha e.V.")
    duplicate = await org(client, "Verein Alpha")
    coordinator = await org(client, "Paritätischer Berlin", "welfare_association")
    jobcenter = await org(client, "Jobcenter Mitte", "labour_market_actor")
    network = (
        await client.post(
            "/networks", json={"name": "Migrannet", "coordinators": [coordinator["id"], survivor["id"]]}
        )
    ).json()
    members = f"/networks/{network['id']}/members"
    assert (await client.post(members, json={"organisation_id": duplicate["id"]})).status_code == 200
    cooperation = {"partner_id": jobcenter["id"], "field_of_work": "labour_market"}
    for record in (survivor, duplicate):
        started = await client.post("/cooperations", json={**cooperation, "organisation_id": record["id"]})
        assert started.status_code == 201
    mentoring = await client.post(
        "/mentorings",
        json={"mentor_id": survivor["id"], "mentee_id": duplicate["id"], "focus_areas": ["Vereinsgründung"]},
    )
    assert mentoring.status_code == 201
    s_url = f"/organisations/{survivor['id']}"

    preview = (await client.get(f"{s_url}/merge-preview", params={"absorbed_id": duplicate["id"]})).json()
    assert "Netzwerk Migrannet" in preview["problem"]["message_de"]
    refused = await client.post(f"{s_url}/merge", json={"absorbed_id": duplicate["id"]})
    assert refused.status_code == 409
    for part in ("Netzwerk Migrannet", "mit Jobcenter Mitte", "Mentoring-Begleitung"):
        assert part in refused.json()["message_de"]
    assert (await client.get(f"/organisations/{duplicate['id']}")).json()["merged_into"] is None

    # Ended for the duplicate, the merge goes through.
    assert (await client.post(f"{members}/{duplicate['id']}/leave", json={})).status_code == 200
    [of_duplicate] = [
        c
        for c in (await client.get(f"/organisations/{duplicate['id']}/cooperations")).json()
        if c["organisation_id"] == duplicate["id"]
    ]
    assert (await client.post(f"/cooperations/{of_duplicate['id']}/end", json={})).status_code == 200
    ended = await client.post(f"/mentorings/{mentoring.json()['id']}/end-early", json={"reason": "Dublette"})
    assert ended.status_code == 200, ended.text
    merged = await client.post(f"{s_url}/merge", json={"absorbed_id": duplicate["id"]})
    assert merged.status_code == 200, merged.text


async def test_the_merges_read_model_rebuilds_to_the_same(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    first, second, third = [await org(client, f"Verein Nummer {n}") for n in (1, 2, 3)]
    for survivor, absorbed in ((second, first), (third, second)):  # a chain: 1 -> 2 -> 3
        merged = await client.post(
            f"/organisations/{survivor['id']}/merge", json={"absorbed_id": absorbed["id"]}
        )
        assert merged.status_code == 200
    assert (await client.get(f"/organisations/{first['id']}")).json()["merged_into"] == third["id"]

    async def rows() -> list[tuple]:
        async with read_transaction(engine) as conn:
            found = await conn.execute(
                select(organisation_merges).order_by(organisation_merges.c.absorbed_id)
            )
            return [tuple(r) for r in found]

    before = await rows()
    assert len(before) == 2
    await rebuild(engine, EventStore(), MergesProjection())
    assert await rows() == before
