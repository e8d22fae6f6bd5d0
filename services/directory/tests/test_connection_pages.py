"""The pages do what the API does: steps of a mentoring on a chosen day with a reason, a cooperation
ended on a chosen day, an organisation's mentorings on its page (also those of a duplicate merged into
it, under the survivor's name), the way to the public directory and to a consenting organisation's
public profile."""

from __future__ import annotations

import re

import httpx

HTML = {"Accept": "text/html"}


async def org(client: httpx.AsyncClient, name: str, **extra: object) -> str:
    body = {"name": name, "kind": "mo", "legal_form": "e_v", "districts": ["neukoelln"], **extra}
    response = await client.post("/organisations", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def section(html: str, title_id: str) -> str:
    return html.split(f'id="{title_id}"')[1].split("</section>")[0]


async def mentoring(client: httpx.AsyncClient, mentor: str, mentee: str) -> dict:
    body = {"mentor_id": mentor, "mentee_id": mentee, "focus_areas": ["Vereinsgründung"]}
    proposed = await client.post("/mentorings", json=body)
    assert proposed.status_code == 201, proposed.text
    return dict(proposed.json())


async def test_mentoring_steps_on_the_page_take_a_day_and_a_reason(client: httpx.AsyncClient) -> None:
    mentor, mentee = await org(client, "Etablierter Verein e.V."), await org(client, "Junge Initiative")
    m = await mentoring(client, mentor, mentee)
    url = f"/verzeichnis/begleitungen/{m['id']}"
    page = (await client.get("/verzeichnis/begleitungen", headers=HTML)).text
    assert f'id="f-beginnen-{m["id"]}-on" name="on"' in page  # a day to choose, today unless changed
    assert f'id="f-beenden-{m["id"]}-reason" name="reason"' in page
    hint = re.search(rf'<p class="hint" id="f-beenden-{m["id"]}-reason-hint">(.*?)</p>', page, re.S)
    assert hint and "keine personenbezogenen Angaben" in hint.group(1)  # the reason goes onto the bus
    assert f'aria-describedby="f-beenden-{m["id"]}-reason-hint"' in page

    begun = await client.post(f"{url}/beginnen", data={"on": "2026-03-01", "version": "1"}, headers=HTML)
    assert begun.status_code == 303
    early = {"on": "2026-02-01", "reason": "Vorstand zurückgetreten", "version": "2"}
    before = await client.post(f"{url}/beenden", data=early, headers=HTML)
    assert before.status_code == 422  # the error stands beside the day of that very form, as typed
    own = re.search(rf'id="f-beenden-{m["id"]}-on-error">(.*?)</p>', before.text, re.S)
    assert own and "nicht vor dem Beginn (01.03.2026)" in own.group(1)
    assert (
        'value="Vorstand zurückgetreten"' in before.text
        and '<details class="step-early" open>' in before.text
    )
    assert f'href="#f-beenden-{m["id"]}-on"' in before.text  # the summary leads to it

    ended = await client.post(f"{url}/beenden", data={**early, "on": "2026-05-15"}, headers=HTML)
    assert ended.status_code == 303
    [shown] = (await client.get("/mentorings", params={"organisation_id": mentee})).json()
    assert shown["status"] == "ended_early" and shown["ended_on"] == "2026-05-15"
    assert shown["reason"] == "Vorstand zurückgetreten"
    on_page = section((await client.get(f"/verzeichnis/{mentee}", headers=HTML)).text, "mentoring-title")
    assert "Begleitet von" in on_page and "Etablierter Verein e.V." in on_page
    assert "vorzeitig beendet am 15.05.2026: Vorstand zurückgetreten" in " ".join(on_page.split())


async def test_a_cooperation_ends_on_the_day_chosen_on_the_page(client: httpx.AsyncClient) -> None:
    mo = await org(client, "Yaar e.V.")
    office = await org(client, "Bezirksamt Neukölln", kind="district_office")
    body = {"organisation_id": mo, "partner_id": office, "field_of_work": "youth", "started_on": "2026-01-10"}
    cooperation = (await client.post("/cooperations", json=body)).json()
    page = section((await client.get(f"/verzeichnis/{mo}", headers=HTML)).text, "cooperations-title")
    assert 'type="date" id="ended-1" name="ended_on"' in page
    url = f"/verzeichnis/kooperationen/{cooperation['id']}/beenden"
    ended = await client.post(url, data={"ended_on": "2026-06-30", "version": "1"}, headers=HTML)
    assert ended.status_code == 303
    page = section((await client.get(f"/verzeichnis/{mo}", headers=HTML)).text, "cooperations-title")
    assert "beendet am 30.06.2026" in page


async def test_a_survivor_shows_the_mentoring_and_memberships_of_its_duplicate_under_its_name(
    client: httpx.AsyncClient,
) -> None:
    survivor, duplicate = await org(client, "Kurdisches Kulturzentrum e.V."), await org(client, "KKZ")
    mentor, coordinator = await org(client, "Yaar e.V."), await org(client, "Der Paritätische Berlin")
    await mentoring(client, mentor, duplicate)
    network = (
        await client.post("/networks", json={"name": "Migrannet", "coordinators": [coordinator]})
    ).json()
    joined = await client.post(f"/networks/{network['id']}/members", json={"organisation_id": duplicate})
    assert joined.status_code == 200
    merged = await client.post(f"/organisations/{survivor}/merge", json={"absorbed_id": duplicate})
    assert merged.status_code == 200, merged.text

    own = section((await client.get(f"/verzeichnis/{survivor}", headers=HTML)).text, "mentoring-title")
    assert "Begleitet von" in own and f'href="/verzeichnis/{mentor}">Yaar e.V.' in own
    mentors = section((await client.get(f"/verzeichnis/{mentor}", headers=HTML)).text, "mentoring-title")
    assert f'href="/verzeichnis/{survivor}">Kurdisches Kulturzentrum e.V.' in mentors and "KKZ" not in mentors
    members = (await client.get(f"/verzeichnis/netzwerke/{network['id']}", headers=HTML)).text
    assert f'href="/verzeichnis/{survivor}">Kurdisches Kulturzentrum e.V.</a>' in members
    assert "zusammengeführt aus KKZ" in members
    assert f"/austritt/{duplicate}" in members  # the membership as recorded: it can still end
    listed = (await client.get("/verzeichnis/begleitungen", headers=HTML)).text
    assert 'Kurdisches Kulturzentrum e.V.</a> <span class="tag">zusammengeführt aus KKZ</span>' in listed


async def test_the_public_directory_and_a_public_profile_are_linked(client: httpx.AsyncClient) -> None:
    listed, hidden = (
        await org(client, "Offener Verein e.V.", public_profile=True),
        await org(client, "Stiller"),
    )
    page = (await client.get("/verzeichnis", headers=HTML)).text
    assert '<a href="/oeffentlich/organisationen">Öffentliches Verzeichnis</a>' in page
    profile = f'href="/oeffentlich/organisationen/{listed}"'
    assert profile in (await client.get(f"/verzeichnis/{listed}", headers=HTML)).text
    assert (
        "/oeffentlich/organisationen/" not in (await client.get(f"/verzeichnis/{hidden}", headers=HTML)).text
    )
    assert (await client.post(f"/organisations/{listed}/archive", json={})).status_code == 200
    assert profile not in (await client.get(f"/verzeichnis/{listed}", headers=HTML)).text  # no longer public
