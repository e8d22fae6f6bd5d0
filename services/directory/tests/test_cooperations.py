"""Cooperations of MOs with administrations and services: who may cooperate, no doubles, a clean end."""

from __future__ import annotations

import asyncio
from datetime import date

import httpx
import pytest

from services.directory.domain.cooperation import Cooperation
from shared.contracts.directory import FieldOfWork, OrganisationKind
from shared.errors import DomainRuleViolation, InvalidInput

MO = ("mo-1", OrganisationKind.MO)
JOBCENTER = ("jc-1", OrganisationKind.LABOUR_MARKET_ACTOR)


def test_only_an_mo_with_an_administration_or_service() -> None:
    with pytest.raises(InvalidInput) as wrong_partner:
        Cooperation.start(
            "c-1", MO, ("mo-2", OrganisationKind.MO), FieldOfWork.LABOUR_MARKET, date(2026, 1, 1)
        )
    assert wrong_partner.value.field == "partner_id"
    with pytest.raises(InvalidInput) as wrong_side:
        Cooperation.start("c-1", JOBCENTER, JOBCENTER, FieldOfWork.LABOUR_MARKET, date(2026, 1, 1))
    assert wrong_side.value.field == "organisation_id"
    cooperation = Cooperation.start("c-1", MO, JOBCENTER, FieldOfWork.LABOUR_MARKET, date(2026, 1, 1))
    cooperation = Cooperation.rebuild("c-1", cooperation.pending_events)
    with pytest.raises(InvalidInput):
        cooperation.end(date(2025, 12, 31))
    cooperation.end(date(2026, 6, 30))
    with pytest.raises(DomainRuleViolation):
        cooperation.end(date(2026, 7, 1))


async def org(client: httpx.AsyncClient, name: str, kind: str, archived: bool = False) -> str:
    body = {"name": name, "kind": kind, "legal_form": "e_v", "districts": ["neukoelln"]}
    organisation_id = str((await client.post("/organisations", json=body)).json()["id"])
    if archived:
        await client.post(f"/organisations/{organisation_id}/archive", json={})
    return organisation_id


async def test_cooperations_over_http(client: httpx.AsyncClient) -> None:
    mo = await org(client, "Elternverein Brücke e.V.", "mo")
    office = await org(client, "Bezirksamt Neukölln", "district_office")
    closed = await org(client, "Altes Amt", "district_office", archived=True)
    body = {
        "organisation_id": mo,
        "partner_id": office,
        "field_of_work": "upbringing",
        "started_on": "2026-01-01",
    }
    started = await client.post("/cooperations", json=body)
    assert started.status_code == 201, started.text
    cooperation = started.json()
    assert cooperation["partner_name"] == "Bezirksamt Neukölln" and cooperation["ended_on"] is None
    twice = await client.post("/cooperations", json=body)
    assert twice.status_code == 409 and "bereits" in twice.json()["message_de"]
    other_field = await client.post("/cooperations", json={**body, "field_of_work": "education"})
    assert other_field.status_code == 201  # the same pair in another field is a second cooperation
    assert (await client.post("/cooperations", json={**body, "partner_id": closed})).status_code == 409
    assert (await client.post("/cooperations", json={**body, "partner_id": "nobody"})).status_code == 404
    wrong = await client.post("/cooperations", json={**body, "partner_id": mo})
    assert wrong.status_code == 422 and wrong.json()["fields"][0]["field"] == "partner_id"
    assert (await client.post("/cooperations", json={**body, "field_of_work": "magic"})).status_code == 422

    ended = await client.post(f"/cooperations/{cooperation['id']}/end", json={"ended_on": "2026-06-30"})
    assert ended.status_code == 200 and ended.json()["ended_on"] == "2026-06-30"
    assert (await client.post(f"/cooperations/{cooperation['id']}/end", json={})).status_code == 409
    assert (await client.post("/cooperations/nothing/end", json={})).status_code == 404
    back_dated = await client.post("/cooperations", json=body)  # would overlap the one that ended
    assert back_dated.status_code == 422 and back_dated.json()["fields"][0]["field"] == "started_on"
    assert "30.06.2026" in back_dated.json()["fields"][0]["message_de"]
    again = await client.post("/cooperations", json={**body, "started_on": "2026-07-01"})
    assert again.status_code == 201  # after the end, they may cooperate again
    of_office = (await client.get(f"/organisations/{office}/cooperations")).json()
    assert len(of_office) == 3 and of_office[-1]["ended_on"] == "2026-06-30"  # current ones first


async def test_the_same_cooperation_started_at_once_is_recorded_once(client: httpx.AsyncClient) -> None:
    """Six people record the same cooperation in the same moment: on PostgreSQL each request checks the
    read model in its own transaction, so without queueing every one of them would see none yet."""
    mo = await org(client, "Yaar e.V.", "mo")
    jobcenter = await org(client, "Jobcenter Friedrichshain-Kreuzberg", "labour_market_actor")
    body = {"organisation_id": mo, "partner_id": jobcenter, "field_of_work": "labour_market"}
    answers = await asyncio.gather(*(client.post("/cooperations", json=body) for _ in range(6)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409, 409]
    assert len((await client.get(f"/organisations/{mo}/cooperations")).json()) == 1


async def test_cooperations_on_the_organisation_page(client: httpx.AsyncClient) -> None:
    html = {"Accept": "text/html"}
    mo = await org(client, "Elternverein Brücke e.V.", "mo")
    office = await org(client, "Bezirksamt Neukölln", "district_office")
    page = await client.get(f"/verzeichnis/{mo}", headers=html)
    assert "Kooperation eintragen" in page.text and f'<option value="{office}"' in page.text
    missing = await client.post(f"/verzeichnis/{mo}/kooperationen", data={"partner_id": office}, headers=html)
    assert missing.status_code == 422 and 'id="f-field_of_work-error"' in missing.text
    made = await client.post(
        f"/verzeichnis/{mo}/kooperationen", data={"partner_id": office, "field_of_work": "upbringing"}
    )
    assert made.status_code == 303
    made_page = (await client.get(f"/verzeichnis/{mo}", headers=html)).text
    assert "Die Kooperation wurde eingetragen." in made_page and "Erziehung und Familie" in made_page
    [cooperation] = (await client.get(f"/organisations/{mo}/cooperations")).json()
    ended = await client.post(f"/verzeichnis/kooperationen/{cooperation['id']}/beenden")
    assert ended.status_code == 303
    office_page = (await client.get(f"/verzeichnis/{office}", headers=html)).text
    assert "Elternverein Brücke e.V." in office_page and "beendet am" in office_page
    assert "Kooperation eintragen" not in office_page  # an office does not start one from its own page
