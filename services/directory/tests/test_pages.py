"""The directory's pages as a browser gets them: German first, errors beside their fields, nothing lost."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from argon2 import PasswordHasher

from services.directory.entrypoints.pages import LOCALE_DIR, PAGE_SIZE
from shared.auth.principal import Role
from shared.auth.users import User, hash_password, users_path, write_users
from shared.testing import Tokens
from shared.web.i18n import catalogue_problems

HTML = {"Accept": "text/html"}
YAAR = {
    "name": "Yaar e.V.",
    "kind": "mo",
    "legal_form": "e_v",
    "districts": ["friedrichshain_kreuzberg"],
    "fields_of_work": ["labour_market"],
    "languages": ["fa", "de"],
}


async def register(client: httpx.AsyncClient, **changes: object) -> dict:
    response = await client.post("/organisations", json={**YAAR, **changes})
    assert response.status_code == 201, response.text
    return response.json()


def field_error(html: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="f-{field}-error">(.*?)</p>', html, re.S)
    assert found, f"no error beside {field}"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


async def test_the_list_filters_and_searches_with_bookmarkable_urls(client: httpx.AsyncClient) -> None:
    await register(client)
    await register(client, name="Frauentreff Marzahn", districts=["marzahn_hellersdorf"], kind="mo")
    page = await client.get("/verzeichnis", headers=HTML)
    assert page.status_code == 200
    assert "<h1>Organisationen</h1>" in page.text and "Treffer: 2" in page.text
    assert "Friedrichshain-Kreuzberg" in page.text  # labels, not codes
    searched = await client.get("/verzeichnis?q=yaar", headers=HTML)
    assert "Yaar e.V." in searched.text and "Frauentreff" not in searched.text
    by_district = await client.get("/verzeichnis?district=marzahn_hellersdorf", headers=HTML)
    assert "Frauentreff Marzahn" in by_district.text and "Yaar" not in by_district.text
    assert 'value="marzahn_hellersdorf" selected' in by_district.text  # the filter shows what is chosen
    live = await client.get("/verzeichnis?q=frauen", headers={**HTML, "HX-Request": "true"})
    assert "Frauentreff" in live.text and "<html" not in live.text  # htmx gets the results only
    everything = await client.get("/verzeichnis?q=&kind=&district=&legal_form=&field_of_work=", headers=HTML)
    assert "Treffer: 2" in everything.text  # the form's empty choices mean "all"
    bad = await client.get("/verzeichnis?district=atlantis", headers=HTML)
    assert bad.status_code == 422 and "ist für Bezirk keine gültige Auswahl" in bad.text  # not "district"


async def test_a_mistake_is_shown_in_german_beside_its_field_and_nothing_typed_is_lost(
    client: httpx.AsyncClient,
) -> None:
    form = {
        "name": "Neuer Verein",
        "kind": "mo",
        "legal_form": "in_gruendung",
        "website": "https://nv.example",
    }
    wrong = await client.post("/verzeichnis/neu", data=form, headers=HTML)
    assert wrong.status_code == 422
    assert "Bitte prüfen Sie Ihre Angaben" in wrong.text
    assert field_error(wrong.text, "districts")  # the one mistake, beside its field
    assert 'href="#f-districts">Bezirke: ' in wrong.text  # and in the summary, saying which field
    assert 'value="Neuer Verein"' in wrong.text and 'value="https://nv.example"' in wrong.text
    assert (await client.get("/organisations")).json()["total"] == 0  # nothing half-saved

    right = await client.post(
        "/verzeichnis/neu", data={**form, "districts": ["neukoelln", "mitte"]}, headers=HTML
    )
    assert right.status_code == 303
    detail = await client.get(right.headers["location"], headers=HTML)
    assert "Neuer Verein wurde eingetragen." in detail.text
    assert "Neukölln" in detail.text and "in Gründung" in detail.text
    assert "Eingetragen" in detail.text and "von test-via" in detail.text  # history: what, who


async def test_edit_legal_form_and_archive_appear_in_the_history(client: httpx.AsyncClient) -> None:
    yaar = await register(client, legal_form="in_gruendung")
    base = f"/verzeichnis/{yaar['id']}"
    edit = await client.get(f"{base}/bearbeiten", headers=HTML)
    assert 'name="version" value="1"' in edit.text and 'value="Yaar e.V."' in edit.text
    saved = await client.post(
        f"{base}/bearbeiten",
        data={"version": "1", "name": "Yaar e.V. Berlin", "districts": ["friedrichshain_kreuzberg"]},
        headers=HTML,
    )
    assert saved.status_code == 303
    changed = await client.post(
        f"{base}/rechtsform", data={"version": "2", "legal_form": "e_v"}, headers=HTML
    )
    assert changed.status_code == 303
    asked = (await client.get(f"{base}/archivieren", headers=HTML)).text
    assert "bitte keine personenbezogenen Angaben" in asked  # the reason goes out on the bus
    archived = await client.post(f"{base}/archivieren", data={"version": "3", "reason": "aufgelöst"})
    assert archived.status_code == 303
    html = (await client.get(base, headers=HTML)).text
    history = html[html.index('id="history-title"') :]
    assert (
        history.index("Archiviert") < history.index("Rechtsform geändert") < history.index("Profil geändert")
    )
    assert "in Gründung → eingetragener Verein (e.V.)" in history and "aufgelöst" in history
    assert "Geändert: Name" in history  # which fields the profile change touched
    assert "archiviert" in html and "Profil bearbeiten" not in html


async def test_a_stale_form_says_so_and_keeps_the_input(client: httpx.AsyncClient) -> None:
    yaar = await register(client)
    await client.patch(f"/organisations/{yaar['id']}", json={"name": "Yaar e.V. (neu)"})
    stale = await client.post(
        f"/verzeichnis/{yaar['id']}/bearbeiten",
        data={"version": "1", "name": "Mein Stand", "districts": ["mitte"]},
        headers=HTML,
    )
    assert stale.status_code == 409
    assert "Jemand anderes hat dieses Profil inzwischen geändert" in stale.text
    assert 'value="Mein Stand"' in stale.text
    assert "Version" not in stale.text  # the store's numbers mean nothing to a person
    assert (await client.get(f"/organisations/{yaar['id']}")).json()["name"] == "Yaar e.V. (neu)"
    # The form now carries the version just read: saving again is the person's deliberate choice.
    assert 'name="version" value="2"' in stale.text
    again = await client.post(
        f"/verzeichnis/{yaar['id']}/bearbeiten",
        data={"version": "2", "name": "Mein Stand", "districts": ["mitte"]},
        headers=HTML,
    )
    assert again.status_code == 303
    assert (await client.get(f"/organisations/{yaar['id']}")).json()["name"] == "Mein Stand"


async def test_the_history_names_people_not_account_ids(
    client: httpx.AsyncClient, tokens: Tokens, tmp_path: Path
) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    tarik = User("test-tbb", "Tarik Bulut", (Role.TBB,), hash_password("x", hasher))
    write_users(users_path(tmp_path), [tarik])  # the sign-in's accounts in the shared data folder
    yaar = await register(client)
    renamed = await client.patch(
        f"/organisations/{yaar['id']}", json={"name": "Yaar Berlin"}, headers=tokens.headers(Role.TBB)
    )
    assert renamed.status_code == 200, renamed.text
    html = (await client.get(f"/verzeichnis/{yaar['id']}", headers=HTML)).text
    history = html[html.index('id="history-title"') :]
    assert "von Tarik Bulut" in history and "test-tbb" not in history
    assert "von test-via" in history  # an id no account names is shown as it is


async def test_who_may_see_which_page(client: httpx.AsyncClient, tokens: Tokens) -> None:
    yaar = await register(client)
    other = await register(client, name="Anderer Verein")
    anonymous = await client.get("/verzeichnis", headers={**HTML, "Authorization": ""})
    assert anonymous.status_code == 303 and "/login?next=" in anonymous.headers["location"]
    own = {**HTML, **tokens.headers(Role.ORGANISATION, organisation_id=yaar["id"])}
    assert (await client.get(f"/verzeichnis/{yaar['id']}", headers=own)).status_code == 200
    assert (await client.get(f"/verzeichnis/{other['id']}", headers=own)).status_code == 403
    listing = await client.get("/verzeichnis", headers=own)  # not the list: its own page instead
    assert listing.status_code == 303 and listing.headers["location"] == f"/verzeichnis/{yaar['id']}"
    live_search = await client.get(
        "/verzeichnis", params={"q": "Anderer"}, headers={**own, "HX-Request": "true"}
    )
    assert live_search.status_code == 303 and "Anderer Verein" not in live_search.text
    assert (await client.get("/verzeichnis/neu", headers=own)).status_code == 403
    form = {"version": "1", "name": "Yaar e.V.", "districts": ["mitte"], "website": "https://yaar.example"}
    assert (
        await client.post(f"/verzeichnis/{other['id']}/bearbeiten", data=form, headers=own)
    ).status_code == 403
    assert (
        await client.post(f"/verzeichnis/{yaar['id']}/bearbeiten", data=form, headers=own)
    ).status_code == 303
    assert (await client.get(f"/organisations/{yaar['id']}")).json()["website"] == "https://yaar.example"
    assert (await client.get(f"/organisations/{other['id']}")).json()["website"] is None
    missing = await client.get("/verzeichnis/no-such-id", headers=HTML)
    assert missing.status_code == 404 and "gibt es nicht" in missing.text


async def test_english_on_request(client: httpx.AsyncClient) -> None:
    await register(client)
    html = (await client.get("/verzeichnis?lang=en", headers=HTML)).text
    assert "<h1>Organisations</h1>" in html and "Register an organisation" in html and "Matches: 1" in html


def test_every_page_text_has_its_german_and_english_entry() -> None:
    sources = [Path(__file__).parent.parent / "templates", Path(__file__).parent.parent / "entrypoints"]
    assert catalogue_problems(sources, LOCALE_DIR) == []


async def test_the_empty_form_offers_every_choice_in_german(client: httpx.AsyncClient) -> None:
    html = (await client.get("/verzeichnis/neu", headers=HTML)).text
    assert "<h1>Organisation eintragen</h1>" in html
    assert '<label class="label" for="f-name">Name der Organisation' in html
    assert "Marzahn-Hellersdorf" in html and "in Gründung" in html and "Persisch (Farsi/Dari)" in html


async def test_paging_keeps_the_filters_and_archived_ones_show_on_request(client: httpx.AsyncClient) -> None:
    for number in range(PAGE_SIZE + 1):
        await register(client, name=f"Verein {number:02d}", districts=["mitte"])
    await register(client, name="Anderswo e.V.", districts=["spandau"])
    gone = await register(client, name="Verein aufgelöst", districts=["mitte"])
    await client.post(f"/organisations/{gone['id']}/archive", json={"reason": "aufgelöst"})

    first = (await client.get("/verzeichnis?district=mitte", headers=HTML)).text
    assert f"Treffer: {PAGE_SIZE + 1}" in first and "Seite 1 von 2" in first
    assert first.count("<tr>") == PAGE_SIZE + 1  # the header row and one page of organisations
    next_url = re.search(r'<a href="([^"]+)" rel="next">Nächste Seite</a>', first)
    assert next_url and "district=mitte" in next_url.group(1) and "page=2" in next_url.group(1)
    second = (await client.get(next_url.group(1).replace("&amp;", "&"), headers=HTML)).text
    assert "Seite 2 von 2" in second and second.count("<tr>") == 2 and "Anderswo" not in second
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert "Verein aufgelöst" not in first + second
    archived = (
        await client.get("/verzeichnis?district=mitte&include_archived=true&q=aufgelöst", headers=HTML)
    ).text
    assert "Verein aufgelöst" in archived and "archiviert" in archived
