"""Networks, mentoring and cooperations: a change based on an out-of-date read is a 409 that changes nothing,
and every step reaches the bus in order, naming organisations by id only."""

from __future__ import annotations

import httpx

from shared.platform.natsserver import NatsServer
from shared.testing import eventually, stream_messages


async def org(client: httpx.AsyncClient, name: str, kind: str = "mo") -> str:
    body = {"name": name, "kind": kind, "legal_form": "e_v", "districts": ["steglitz_zehlendorf"]}
    response = await client.post("/organisations", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def types_of(nats_url: str, subject: str) -> list[str]:
    return [
        h["ce-type"]
        for h, _ in await stream_messages(nats_url, "IKMO_DIRECTORY")
        if h["ce-subject"] == subject
    ]


async def test_network_changes_take_if_match_and_a_stale_one_is_refused(client: httpx.AsyncClient) -> None:
    yaar = await org(client, "Yaar e.V.")
    jobcenter = await org(client, "Jobcenter Steglitz-Zehlendorf", "labour_market_actor")
    office = await org(client, "Bezirksamt Steglitz-Zehlendorf", "district_office")
    created = await client.post("/networks", json={"name": "Netzwerk Arbeitsmarkt", "coordinators": [yaar]})
    assert created.headers["etag"] == '"1"'
    url = f"/networks/{created.json()['id']}"
    assert (await client.get(url)).headers["etag"] == '"1"'

    joined = await client.post(
        f"{url}/members", json={"organisation_id": jobcenter}, headers={"If-Match": '"1"'}
    )
    assert joined.status_code == 200 and joined.headers["etag"] == '"2"'
    stale = await client.post(f"{url}/members", json={"organisation_id": office}, headers={"If-Match": '"1"'})
    assert stale.status_code == 409 and stale.json()["error"] == "version_conflict"
    assert "inzwischen geändert" in stale.json()["message_de"] and "meanwhile" in stale.json()["message"]
    stale_leave = await client.post(f"{url}/members/{jobcenter}/leave", json={}, headers={"If-Match": '"1"'})
    assert stale_leave.status_code == 409
    garbled = await client.post(f"{url}/members", json={"organisation_id": office}, headers={"If-Match": "x"})
    assert garbled.status_code == 422 and garbled.json()["fields"][0]["field"] == "If-Match"
    after = (await client.get(url)).json()
    assert after["version"] == 2 and all(m["left_on"] is None for m in after["members"])  # nothing applied
    assert {m["organisation_id"] for m in after["members"]} == {yaar, jobcenter}


async def test_mentoring_and_cooperation_steps_take_if_match_and_reach_the_bus_in_order(
    client: httpx.AsyncClient, nats_server: NatsServer
) -> None:
    mentor = await org(client, "Kurdisches Kulturzentrum e.V.")
    mentee = await org(client, "Junge Initiative Steglitz")
    jobcenter = await org(client, "Jobcenter Steglitz-Zehlendorf", "labour_market_actor")

    made = await client.post(
        "/mentorings", json={"mentor_id": mentor, "mentee_id": mentee, "focus_areas": ["Fördermittel"]}
    )
    assert made.status_code == 201 and made.headers["etag"] == '"1"'
    url = f"/mentorings/{made.json()['id']}"
    started = await client.post(f"{url}/start", json={"on": "2026-03-01"}, headers={"If-Match": '"1"'})
    assert started.status_code == 200 and started.headers["etag"] == '"2"'
    stale = await client.post(f"{url}/end-early", json={"reason": "zu spät"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 409 and (await client.get(url)).json()["status"] == "active"
    done = await client.post(f"{url}/complete", json={"on": "2026-09-30"}, headers={"If-Match": '"2"'})
    assert done.status_code == 200 and done.json()["status"] == "completed"

    body = {"organisation_id": mentee, "partner_id": jobcenter, "field_of_work": "labour_market"}
    cooperation = (await client.post("/cooperations", json=body)).json()
    end_url = f"/cooperations/{cooperation['id']}/end"
    stale_end = await client.post(end_url, json={}, headers={"If-Match": '"7"'})
    assert stale_end.status_code == 409
    [still] = (await client.get(f"/organisations/{mentee}/cooperations")).json()
    assert still["ended_on"] is None
    ended = await client.post(end_url, json={"ended_on": "2026-12-31"}, headers={"If-Match": '"1"'})
    assert ended.status_code == 200 and ended.json()["version"] == 2

    mentoring_id, cooperation_id = made.json()["id"], cooperation["id"]

    async def all_published() -> bool:
        return len(await types_of(nats_server.url, cooperation_id)) == 2

    await eventually(all_published)
    assert await types_of(nats_server.url, mentoring_id) == [
        "ikmo.directory.mentoring.proposed",
        "ikmo.directory.mentoring.started",
        "ikmo.directory.mentoring.completed",
    ]
    assert await types_of(nats_server.url, cooperation_id) == [
        "ikmo.directory.cooperation.started",
        "ikmo.directory.cooperation.ended",
    ]
    payloads = [p for h, p in await stream_messages(nats_server.url, "IKMO_DIRECTORY")]
    proposed = next(p for p in payloads if b'"focus_areas"' in p)
    assert mentor.encode() in proposed and b"Kulturzentrum" not in proposed  # ids, not names


HTML = {"Accept": "text/html"}


async def test_a_form_read_before_someone_else_changed_the_record_is_refused(
    client: httpx.AsyncClient,
) -> None:
    yaar = await org(client, "Yaar e.V.")
    bruecke = await org(client, "Elternverein Brücke e.V.")
    jobcenter = await org(client, "Jobcenter Steglitz-Zehlendorf", "labour_market_actor")
    network = (await client.post("/networks", json={"name": "Migrannet", "coordinators": [yaar]})).json()
    page_url = f"/verzeichnis/netzwerke/{network['id']}"
    assert 'name="version" value="1"' in (await client.get(page_url, headers=HTML)).text
    await client.post(f"/networks/{network['id']}/members", json={"organisation_id": jobcenter})  # meanwhile
    stale = await client.post(
        f"{page_url}/beitritt", data={"organisation_id": bruecke, "version": "1"}, headers=HTML
    )
    assert stale.status_code == 409 and "inzwischen geändert" in stale.text
    fresh = await client.post(f"{page_url}/beitritt", data={"organisation_id": bruecke, "version": "2"})
    assert fresh.status_code == 303

    made = await client.post(
        "/mentorings", json={"mentor_id": yaar, "mentee_id": bruecke, "focus_areas": ["Ehrenamt"]}
    )
    mentoring = made.json()
    await client.post(f"/mentorings/{mentoring['id']}/start", json={})  # meanwhile, in another tab
    stale_step = await client.post(
        f"/verzeichnis/begleitungen/{mentoring['id']}/beenden", data={"version": "1"}, headers=HTML
    )
    assert stale_step.status_code == 409 and "inzwischen geändert" in stale_step.text
    assert (await client.get(f"/mentorings/{mentoring['id']}")).json()["status"] == "active"

    body = {"organisation_id": bruecke, "partner_id": jobcenter, "field_of_work": "labour_market"}
    cooperation = (await client.post("/cooperations", json=body)).json()
    stale_end = await client.post(
        f"/verzeichnis/kooperationen/{cooperation['id']}/beenden", data={"version": "0"}
    )
    assert stale_end.status_code == 303
    page = (await client.get(f"/verzeichnis/{bruecke}", headers=HTML)).text
    assert "inzwischen geändert" in page and f'name="version" value="{cooperation["version"]}"' in page
    [still] = (await client.get(f"/organisations/{bruecke}/cooperations")).json()
    assert still["ended_on"] is None
